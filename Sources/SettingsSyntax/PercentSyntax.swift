import Foundation

/// One grammar for shares written as percentages (`max_sweep: 10%`, `api_budget: 50%`, `SFPG_API_BUDGET=2.5%`).
public enum PercentSyntax {
    /// `10%` or `2.5%` (0 to 100) as a fraction (`0.1`, `0.025`); nil for anything else. Digits and one decimal point
    /// only: `Double` alone would also take `nan`, `inf`, `1e3` and hexadecimal, none of which a reader means.
    public static func fraction(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasSuffix("%") else { return nil }
        let number = trimmed.dropLast().trimmingCharacters(in: .whitespaces)
        let digits = number.filter { $0.isASCII && $0.isWholeNumber }.count
        guard digits > 0, digits + (number.contains(".") ? 1 : 0) == number.count,
            let percent = Double(number), (0...100).contains(percent)
        else { return nil }
        return percent / 100
    }

    /// An `api_budget`-like share: a percentage above 0%.
    /// - Throws: ``SettingError`` naming `setting` and the accepted forms.
    public static func budget(_ text: String, setting: String) throws(SettingError) -> Double {
        guard let share = fraction(text), share > 0 else {
            throw SettingError(setting: setting, value: text, expected: "a percentage above 0% up to 100% (e.g. 50% or 2.5%)")
        }
        return share
    }
}
