import Foundation

/// One metric family of the Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`, samples.
///
/// A small encoder of our own rather than swift-prometheus: sfpg writes a dozen gauges once per run, to a
/// Pushgateway or a node-exporter textfile; a registry, collectors and a second dependency (with its build time)
/// would buy nothing. What the format needs — escaping, name rules, number spelling — is here and unit-tested.
public struct MetricFamily: Sendable, Equatable {
    public enum Kind: String, Sendable { case gauge, counter, untyped }

    public struct Sample: Sendable, Equatable {
        /// Label names and values, in the order they are written.
        public var labels: [(String, String)]
        public var value: Double

        public init(_ labels: [(String, String)] = [], _ value: Double) {
            self.labels = labels
            self.value = value
        }

        public static func == (a: Sample, b: Sample) -> Bool {
            a.value.bitPattern == b.value.bitPattern && a.labels.map(\.0) == b.labels.map(\.0)
                && a.labels.map(\.1) == b.labels.map(\.1)
        }
    }

    public var name: String
    public var help: String
    public var kind: Kind
    public var samples: [Sample]

    public init(_ name: String, help: String, kind: Kind = .gauge, samples: [Sample]) {
        self.name = name
        self.help = help
        self.kind = kind
        self.samples = samples
    }
}

public enum PrometheusText {
    public struct InvalidName: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The exposition text of `families`, in order; families without samples are left out. Every line ends in
    /// `\n`. Throws on a metric or label name the format does not allow (a programming error, not data).
    public static func encode(_ families: [MetricFamily]) throws -> String {
        var out = ""
        for family in families where !family.samples.isEmpty {
            guard isMetricName(family.name) else { throw InvalidName(description: "metric name '\(family.name)'") }
            out += "# HELP \(family.name) \(escapeHelp(family.help))\n"
            out += "# TYPE \(family.name) \(family.kind.rawValue)\n"
            for sample in family.samples {
                out += family.name
                if !sample.labels.isEmpty {
                    var parts: [String] = []
                    for (name, value) in sample.labels {
                        guard isLabelName(name) else { throw InvalidName(description: "label name '\(name)'") }
                        parts.append("\(name)=\"\(escapeLabelValue(value))\"")
                    }
                    out += "{" + parts.joined(separator: ",") + "}"
                }
                out += " " + format(sample.value) + "\n"
            }
        }
        return out
    }

    /// Label values: backslash, double quote and line feed are escaped (`\\`, `\"`, `\n`); nothing else is.
    public static func escapeLabelValue(_ value: String) -> String {
        escapeHelp(value).replacingOccurrences(of: "\"", with: "\\\"")
    }

    /// HELP text: backslash and line feed are escaped; quotes are not.
    public static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// `NaN`, `+Inf`, `-Inf`; integral values without a fraction or exponent (timestamps, counts); others as
    /// Swift's shortest round-tripping decimal.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    public static func isMetricName(_ name: String) -> Bool {
        matches(name, first: { $0.isASCIILetter || $0 == "_" || $0 == ":" }, rest: { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" || $0 == ":" })
    }

    public static func isLabelName(_ name: String) -> Bool {
        !name.hasPrefix("__")
            && matches(name, first: { $0.isASCIILetter || $0 == "_" }, rest: { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" })
    }

    private static func matches(_ name: String, first: (Unicode.Scalar) -> Bool, rest: (Unicode.Scalar) -> Bool) -> Bool {
        var scalars = name.unicodeScalars.makeIterator()
        guard let head = scalars.next(), first(head) else { return false }
        while let next = scalars.next() { if !rest(next) { return false } }
        return true
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

/// Where sfpg's metrics go.
public enum MetricsSink {
    /// The Pushgateway URL of one job's group: `<base>/metrics/job/sfpg/sfpg_job/<name>`, the name percent-encoded
    /// (everything but RFC 3986 unreserved characters), so any job file name is one path segment. A shard of a
    /// sharded run (`--shard I/N`) gets its own group, `…/shard/<I>`: the shards' pushes would replace each other.
    public static func pushgatewayURL(base: String, jobName: String, shard: Int? = nil) -> String {
        var trimmed = base
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        return trimmed + "/metrics/job/sfpg/sfpg_job/" + percentEncode(jobName) + (shard.map { "/shard/\($0)" } ?? "")
    }

    /// Everything but RFC 3986 unreserved characters escaped, UTF-8 bytes as `%XX`.
    public static func percentEncode(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: unreserved) ?? segment
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Writes `text` to `path` the way node-exporter's textfile collector needs it: to a temporary file in the same
    /// directory, flushed, then renamed over `path`, so a scrape never reads half a file.
    public static func writeTextfile(_ text: String, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\(base).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TextfileError(path: temporary, errno: errno) }
        var ok = true
        var failure: Int32 = 0
        text.utf8CString.withUnsafeBufferPointer { buffer in
            var offset = 0
            let count = buffer.count - 1  // without the NUL
            while offset < count {
                let written = buffer.baseAddress!.advanced(by: offset).withMemoryRebound(to: UInt8.self, capacity: count - offset) {
                    write(fd, $0, count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    ok = false
                    failure = errno
                    return
                }
                offset += written
            }
        }
        if ok && fsync(fd) != 0 { ok = false; failure = errno }
        close(fd)
        guard ok else {
            unlink(temporary)
            throw TextfileError(path: temporary, errno: failure)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw TextfileError(path: path, errno: code)
        }
    }

    public struct TextfileError: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var errno: Int32
        public var description: String { "cannot write the metrics file \(path): \(String(cString: strerror(errno)))" }
    }
}
