import Foundation
import Testing

@testable import SyncEngine

/// The calendar windows verify counts by: UTC boundaries, children, the aggregate SOQL and merged ranges.
@Suite struct CountWindowTests {
    @Test func aYearHasTwelveMonthsAndALeapFebruaryTwentyNineDays() throws {
        let year = try #require(CountWindow(level: .year, day: "2024-01-01"))
        let months = year.children(earliest: nil)
        #expect(months.count == 12)
        #expect(months.map { CountWindow.day($0.start) }.last == "2024-12-01")
        let february = try #require(CountWindow(level: .month, day: "2024-02-01"))
        #expect(february.children(earliest: nil).count == 29)
        #expect(CountWindow.literal(february.end) == "2024-03-01T00:00:00Z")
        #expect(try #require(CountWindow(level: .day, day: "2024-02-29")).children(earliest: nil).isEmpty)
    }

    @Test func allTimeNarrowsIntoTheYearsFromTheEarliestModstamp() throws {
        let earliest = try #require(CountWindow(level: .day, day: "2019-06-15")).start
        let years = CountWindow.all.children(earliest: earliest)
        #expect(years.first.map { CountWindow.day($0.start) } == "2019-01-01")
        #expect(years.allSatisfy { $0.level == .year })
    }

    @Test func countQueriesGroupByTheChildrenWithinTheWindowAndTheFilter() throws {
        #expect(
            CountWindow.all.countSOQL(object: "Contact", field: "SystemModstamp", filter: nil)
                == "SELECT CALENDAR_YEAR(SystemModstamp) b, COUNT(Id) c FROM Contact GROUP BY CALENDAR_YEAR(SystemModstamp)")
        let month = try #require(CountWindow(level: .month, day: "2024-12-01"))
        #expect(
            month.countSOQL(object: "Contact", field: "SystemModstamp", filter: "Title = 'x'")
                == "SELECT DAY_ONLY(SystemModstamp) b, COUNT(Id) c FROM Contact WHERE (Title = 'x') AND SystemModstamp >= "
                + "2024-12-01T00:00:00Z AND SystemModstamp < 2025-01-01T00:00:00Z GROUP BY DAY_ONLY(SystemModstamp)")
        let day = try #require(CountWindow(level: .day, day: "2024-12-31"))
        #expect(!day.countSOQL(object: "Contact", field: "SystemModstamp", filter: nil).contains("GROUP BY"))
        #expect(month.bucket("2024-12-07") == "2024-12-07")
        #expect(try #require(CountWindow(level: .year, day: "2024-01-01")).bucket("3") == "2024-03-01")
        #expect(CountWindow.all.bucket("2023") == "2023-01-01")
    }

    @Test func adjacentWindowsMergeIntoOneCondition() throws {
        let days = try ["2024-01-02", "2024-01-01", "2024-01-05"].map { try #require(CountWindow(level: .day, day: $0)) }
        let merged = SyncRunner.merged(days)
        #expect(merged.map { "\(CountWindow.day($0.start))..\(CountWindow.day($0.end))" } == ["2024-01-01..2024-01-03", "2024-01-05..2024-01-06"])
        #expect(SyncRunner.conditions(merged, field: "SystemModstamp", size: 1).count == 2)
        #expect(SyncRunner.keyLists(["a'b", "c"], field: "Id") == [#"Id IN ('a\'b', 'c')"#])
    }
}
