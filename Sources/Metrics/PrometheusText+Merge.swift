import Foundation

extension PrometheusText {
    /// The families of exposition text as ``encode(_:)`` writes it (HELP, TYPE, samples), in file order.
    ///
    /// Read back so a textfile written by a run of some jobs can keep the other jobs' series. Lines it cannot
    /// read (another writer's timestamps, a truncated line) are skipped: a damaged file must not stop a run's
    /// metrics from being written, and its own series are rewritten in full anyway.
    public static func decode(_ text: String) -> [MetricFamily] {
        var families: [MetricFamily] = []
        var index: [String: Int] = [:]
        func family(_ name: String) -> Int {
            if let at = index[name] { return at }
            families.append(MetricFamily(name, help: "", samples: []))
            index[name] = families.count - 1
            return families.count - 1
        }
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1).map(String.init)
                guard let name = parts.first, isMetricName(name) else { continue }
                let rest = parts.count > 1 ? parts[1] : ""
                if line.hasPrefix("# HELP ") {
                    families[family(name)].help = unescape(rest.unicodeScalars)
                } else {
                    families[family(name)].kind = MetricFamily.Kind(rawValue: rest) ?? .untyped
                }
            } else if !line.hasPrefix("#"), let (name, sample) = sample(line) {
                families[family(name)].samples.append(sample)
            }
        }
        return families
    }

    /// HELP text and label values: `\\n` is a line feed, `\\` followed by anything else is that character.
    static func unescape<S: Sequence<Unicode.Scalar>>(_ text: S) -> String {
        var out = ""
        var escaped = false
        for scalar in text {
            if escaped {
                out.unicodeScalars.append(scalar == "n" ? "\n" : scalar)
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// One sample line: `name{a="x",b="y"} value`; nil when it does not have that shape.
    static func sample(_ line: String) -> (String, MetricFamily.Sample)? {
        var scalars = Substring(line).unicodeScalars[...]
        let name = String(scalars.prefix { $0 != "{" && $0 != " " })
        scalars = scalars.dropFirst(name.unicodeScalars.count)
        guard isMetricName(name) else { return nil }
        var labels: [(String, String)] = []
        if scalars.first == "{" {
            scalars = scalars.dropFirst()
            while scalars.first != "}" {
                let label = String(scalars.prefix { $0 != "=" })
                scalars = scalars.dropFirst(label.unicodeScalars.count)
                guard isLabelName(label), scalars.starts(with: "=\"".unicodeScalars) else { return nil }
                scalars = scalars.dropFirst(2)
                var value = ""
                while let next = scalars.popFirst(), next != "\"" {
                    guard next == "\\" else { value.unicodeScalars.append(next); continue }
                    guard let escaped = scalars.popFirst() else { return nil }
                    value.unicodeScalars.append(escaped == "n" ? "\n" : escaped)
                }
                labels.append((label, value))
                if scalars.first == "," { scalars = scalars.dropFirst() }
                guard !scalars.isEmpty else { return nil }
            }
            scalars = scalars.dropFirst()
        }
        let fields = String(scalars).split(separator: " ")
        guard let text = fields.first, let value = number(String(text)) else { return nil }
        return (name, MetricFamily.Sample(labels, value))
    }

    static func number(_ text: String) -> Double? {
        switch text {
        case "NaN": .nan
        case "+Inf": .infinity
        case "-Inf": -.infinity
        default: Double(text)
        }
    }
}

extension MetricFamily {
    /// `current` laid over `previous`, the way a Pushgateway keeps one group per job: a sample of `previous`
    /// stays unless its `label` value is one of `replacedWhole` (that job's whole group is rewritten), or
    /// `current` has the same family for that value (or, without the label, the same family at all). Families
    /// keep `previous`'s order, new ones follow.
    public static func merging(
        _ previous: [MetricFamily], _ current: [MetricFamily], label: String, replacedWhole: Set<String>
    ) -> [MetricFamily] {
        func owner(_ sample: Sample) -> String? { sample.labels.first { $0.0 == label }?.1 }
        var merged: [MetricFamily] = []
        for old in previous {
            let new = current.first { $0.name == old.name }
            let written = Set((new?.samples ?? []).compactMap(owner))
            var kept = old.samples.filter { sample in
                guard let job = owner(sample) else { return new == nil }
                return !replacedWhole.contains(job) && !written.contains(job)
            }
            kept += new?.samples ?? []
            merged.append(MetricFamily(old.name, help: new?.help ?? old.help, kind: new?.kind ?? old.kind, samples: kept))
        }
        merged += current.filter { family in !previous.contains { $0.name == family.name } }
        return merged
    }
}

extension MetricsSink {
    /// Rewrites the textfile at `path` with `update(previous contents)`, atomically (``writeTextfile(_:to:)``),
    /// under an exclusive `flock` on a hidden lock file beside it, so two runs finishing together cannot lose each
    /// other's jobs. node-exporter reads only `*.prom`, so the lock file is never scraped.
    public static func updateTextfile(_ path: String, _ update: (String?) throws -> String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let lockPath = (directory.isEmpty ? "." : directory) + "/.\((path as NSString).lastPathComponent).lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TextfileError(path: lockPath, errno: errno) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw TextfileError(path: lockPath, errno: errno) }
        }
        let previous = try? String(contentsOfFile: path, encoding: .utf8)
        try writeTextfile(try update(previous), to: path)
    }
}
