import Foundation

/// A one-line progress display on a terminal's stderr, redrawn at most once a second: the job, pages loaded, rows,
/// MB and rows/s. Rows are known only when a page's COPY ends, so a run of one big page would show "0 rows" until
/// it is done; the line counts the page in progress and its megabytes meanwhile.
final class ProgressLine {
    private var job = ""
    private var bytes = 0
    private var rows = 0
    private var pages = 0
    private var started = ContinuousClock.now
    private var lastDraw = ContinuousClock.now
    private var drawn = false

    /// Starts counting for `job` (one runner syncs several jobs, each with its own line).
    func start(job name: String) {
        (job, bytes, rows, pages, started, lastDraw) = (name, 0, 0, 0, .now, .now)
    }

    func add(bytes count: Int) {
        bytes += count
        drawIfDue()
    }

    func add(rows count: Int) {
        rows += count
        pages += 1
        drawIfDue()
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
    }

    /// The line's text (without the redraw escape).
    static func text(job: String, pages: Int, rows: Int, bytes: Int, seconds: Double) -> String {
        let head = "\(job): \(pages) \(pages == 1 ? "page" : "pages") loaded, " + String(format: "%.1f MB", Double(bytes) / 1_048_576)
        guard rows > 0 else { return head + " received" }
        return head + String(format: ", %d rows, %.0f rows/s", rows, Double(rows) / max(0.001, seconds))
    }

    private func drawIfDue() {
        let now = ContinuousClock.now
        guard now - lastDraw >= .seconds(1) else { return }
        lastDraw = now
        let line = Self.text(job: job, pages: pages, rows: rows, bytes: bytes, seconds: (now - started).inSeconds)
        FileHandle.standardError.write(Data("\r\u{1B}[K  \(line)".utf8))
        drawn = true
    }
}
