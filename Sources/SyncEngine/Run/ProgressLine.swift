import Foundation

/// A one-line progress display on a terminal's stderr (rows, MB, rows/s), redrawn at most once a second.
final class ProgressLine {
    private var bytes = 0
    private var rows = 0
    private let started = ContinuousClock.now
    private var lastDraw = ContinuousClock.now
    private var drawn = false

    func add(bytes count: Int) {
        bytes += count
        drawIfDue()
    }

    func add(rows count: Int) {
        rows += count
        drawIfDue()
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
    }

    private func drawIfDue() {
        let now = ContinuousClock.now
        guard now - lastDraw >= .seconds(1) else { return }
        lastDraw = now
        let elapsed = max(0.001, (now - started).inSeconds)
        let line = String(
            format: "\r\u{1B}[K  %d rows  %.1f MB  %.0f rows/s", rows, Double(bytes) / 1_048_576, Double(rows) / elapsed
        )
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }
}
