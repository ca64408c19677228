import Foundation
import Metrics
import Testing

@Suite("Prometheus text encoder")
struct PrometheusTextTests {
    @Test("HELP and TYPE lines precede the samples; labels in order; one line per sample")
    func layout() throws {
        let text = try PrometheusText.encode([
            MetricFamily("sfpg_rows", help: "Rows the last run changed, by operation.", samples: [
                .init([("sfpg_job", "contacts"), ("operation", "inserted")], 3),
                .init([("sfpg_job", "contacts"), ("operation", "deleted")], 0),
            ]),
            MetricFamily("sfpg_build_info", help: "Version and commit.", samples: [.init([("version", "0.9.0")], 1)]),
        ])
        #expect(text == """
            # HELP sfpg_rows Rows the last run changed, by operation.
            # TYPE sfpg_rows gauge
            sfpg_rows{sfpg_job="contacts",operation="inserted"} 3
            sfpg_rows{sfpg_job="contacts",operation="deleted"} 0
            # HELP sfpg_build_info Version and commit.
            # TYPE sfpg_build_info gauge
            sfpg_build_info{version="0.9.0"} 1

            """)
    }

    @Test("label values escape backslash, double quote and line feed, and nothing else")
    func labelEscaping() throws {
        #expect(PrometheusText.escapeLabelValue(#"a\b"#) == #"a\\b"#)
        #expect(PrometheusText.escapeLabelValue(#"say "hi""#) == #"say \"hi\""#)
        #expect(PrometheusText.escapeLabelValue("two\nlines") == #"two\nlines"#)
        #expect(PrometheusText.escapeLabelValue("tab\there ünïcode {}=,") == "tab\there ünïcode {}=,")
        let text = try PrometheusText.encode([
            MetricFamily("m", help: "h", samples: [.init([("sfpg_job", "we\"ird\\job\n")], 1)])
        ])
        #expect(text.contains(#"m{sfpg_job="we\"ird\\job\n"} 1"#), "\(text)")
        #expect(text.split(separator: "\n").count == 3)
    }

    @Test("HELP text escapes backslash and line feed but not quotes")
    func helpEscaping() throws {
        #expect(PrometheusText.escapeHelp("a \\ b\nc \"d\"") == "a \\\\ b\\nc \"d\"")
        let text = try PrometheusText.encode([MetricFamily("m", help: "x\ny", samples: [.init([], 1)])])
        #expect(text.hasPrefix("# HELP m x\\ny\n# TYPE m gauge\nm 1\n"))
    }

    @Test("numbers: integers plainly (timestamps too), fractions round-trip, NaN and infinities spelled out")
    func numbers() {
        #expect(PrometheusText.format(0) == "0")
        #expect(PrometheusText.format(1_732_983_600) == "1732983600")
        #expect(PrometheusText.format(-3) == "-3")
        #expect(PrometheusText.format(1.5) == "1.5")
        #expect(PrometheusText.format(1_732_983_600.25) == "1732983600.25")
        #expect(PrometheusText.format(.nan) == "NaN")
        #expect(PrometheusText.format(.infinity) == "+Inf")
        #expect(PrometheusText.format(-.infinity) == "-Inf")
    }

    @Test("metric and label names follow the format's rules; a bad one throws")
    func names() {
        #expect(PrometheusText.isMetricName("sfpg_last_run_timestamp_seconds"))
        #expect(PrometheusText.isMetricName("a:b_c9"))
        #expect(!PrometheusText.isMetricName("9abc"))
        #expect(!PrometheusText.isMetricName("sfpg-rows"))
        #expect(!PrometheusText.isMetricName(""))
        #expect(PrometheusText.isLabelName("sfpg_job"))
        #expect(!PrometheusText.isLabelName("__name__"))
        #expect(!PrometheusText.isLabelName("a:b"))
        #expect(throws: PrometheusText.InvalidName.self) {
            try PrometheusText.encode([MetricFamily("bad-name", help: "", samples: [.init([], 1)])])
        }
        #expect(throws: PrometheusText.InvalidName.self) {
            try PrometheusText.encode([MetricFamily("ok", help: "", samples: [.init([("bad-label", "x")], 1)])])
        }
    }

    @Test("families without samples are left out")
    func emptyFamilies() throws {
        #expect(try PrometheusText.encode([MetricFamily("m", help: "h", samples: [])]) == "")
    }

    @Test("the Pushgateway group URL percent-encodes the job name into one path segment")
    func pushgatewayURL() {
        #expect(MetricsSink.pushgatewayURL(base: "http://pg:9091/", jobName: "contacts", shard: 3)
            == "http://pg:9091/metrics/job/sfpg/sfpg_job/contacts/shard/3")
        #expect(MetricsSink.pushgatewayURL(base: "http://pg:9091/", jobName: "contacts")
            == "http://pg:9091/metrics/job/sfpg/sfpg_job/contacts")
        #expect(MetricsSink.pushgatewayURL(base: "http://pg:9091", jobName: "a b/c%ü")
            == "http://pg:9091/metrics/job/sfpg/sfpg_job/a%20b%2Fc%25%C3%BC")
        #expect(MetricsSink.percentEncode("Invoice__c-2.x~") == "Invoice__c-2.x~")
    }

    @Test("the textfile is replaced atomically: a temporary file in the same directory, then rename")
    func textfile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sfpg-metrics-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/sfpg.prom"
        try MetricsSink.writeTextfile("m 1\n", to: path)
        try MetricsSink.writeTextfile("m 2\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "m 2\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["sfpg.prom"])
        #expect(throws: MetricsSink.TextfileError.self) {
            try MetricsSink.writeTextfile("m 1\n", to: directory + "/missing/sfpg.prom")
        }
    }

    @Test("decode reads back what encode wrote, escapes and special values included; unreadable lines are skipped")
    func decodeRoundTrip() throws {
        let families = [
            MetricFamily("sfpg_rows", help: "Rows \\ by\noperation.", samples: [
                .init([("sfpg_job", "we\"ird\\job\n"), ("operation", "inserted")], 3),
                .init([("sfpg_job", "b"), ("operation", "deleted")], .infinity),
            ]),
            MetricFamily("sfpg_run_duration_seconds", help: "Wall time.", samples: [.init([("sfpg_job", "b")], 1.25)]),
        ]
        let text = try PrometheusText.encode(families)
        #expect(PrometheusText.decode(text) == families)
        #expect(PrometheusText.decode(text + "garbage{ line\nm{a=\"unterminated} 1\n") == families)
    }

    @Test("merging keeps other jobs' samples, replaces a job's families it writes, or its whole group")
    func mergeByJob() {
        func family(_ name: String, _ jobs: [String: Double]) -> MetricFamily {
            MetricFamily(name, help: name, samples: jobs.sorted { $0.key < $1.key }.map { .init([("sfpg_job", $0.key)], $0.value) })
        }
        let previous = [family("status", ["a": 1, "b": 1]), family("success", ["a": 10, "b": 20]),
                        MetricFamily("build", help: "b", samples: [.init([("version", "1")], 1)])]
        let current = [family("status", ["b": 0]), MetricFamily("build", help: "b", samples: [.init([("version", "2")], 1)])]
        let partial = MetricFamily.merging(previous, current, label: "sfpg_job", replacedWhole: [])
        #expect(partial == [family("status", ["a": 1, "b": 0]), family("success", ["a": 10, "b": 20]),
                            MetricFamily("build", help: "b", samples: [.init([("version", "2")], 1)])])
        let whole = MetricFamily.merging(previous, current, label: "sfpg_job", replacedWhole: ["b"])
        #expect(whole[1] == family("success", ["a": 10]))
    }
}
