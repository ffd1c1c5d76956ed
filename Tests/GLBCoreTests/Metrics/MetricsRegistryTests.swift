import GLBCore
import Synchronization
import Testing

/// Prometheus scrapes parse this text, so it is compared byte for byte against the exposition
/// format (version 0.0.4): HELP and TYPE once per family, families and label sets sorted,
/// cumulative buckets ending in +Inf, then _sum and _count.
@Suite struct MetricsRegistryTests {
    @Test func countersAndGaugesRenderExactly() {
        let registry = MetricsRegistry()
        let get = registry.counter("glb_requests_total", help: "Requests.", labels: ["method": "GET", "code": "200"])
        let post = registry.counter("glb_requests_total", help: "Requests.", labels: ["code": "500", "method": "POST"])
        let plain = registry.counter("glb_accepts_total", help: "Accepted connections.")
        let gauge = registry.gauge("glb_healthy_ratio", help: "Healthy endpoints over all.")
        get.increment(by: 3)
        post.increment()
        plain.increment(by: 12)
        gauge.set(0.75)

        #expect(registry.render() == """
            # HELP glb_accepts_total Accepted connections.
            # TYPE glb_accepts_total counter
            glb_accepts_total 12
            # HELP glb_healthy_ratio Healthy endpoints over all.
            # TYPE glb_healthy_ratio gauge
            glb_healthy_ratio 0.75
            # HELP glb_requests_total Requests.
            # TYPE glb_requests_total counter
            glb_requests_total{code="200",method="GET"} 3
            glb_requests_total{code="500",method="POST"} 1

            """)
    }

    @Test func histogramsRenderCumulativeBucketsThenSumAndCount() {
        let registry = MetricsRegistry()
        let latency = registry.histogram("glb_latency_seconds", help: "Latency.", labels: ["server": "admin"], bounds: [0.1, 0.5, 1])
        for value in [0.05, 0.1, 0.25, 0.25, 2.0] { latency.observe(value) }
        // Buckets: ≤0.1 holds 0.05 and 0.1 (bounds are inclusive), ≤0.5 adds 0.25 twice, ≤1 adds
        // nothing, +Inf adds 2.0. Sum: 0.05 + 0.1 + 0.25 + 0.25 + 2 = 2.65.
        #expect(registry.render() == """
            # HELP glb_latency_seconds Latency.
            # TYPE glb_latency_seconds histogram
            glb_latency_seconds_bucket{server="admin",le="0.1"} 2
            glb_latency_seconds_bucket{server="admin",le="0.5"} 4
            glb_latency_seconds_bucket{server="admin",le="1"} 4
            glb_latency_seconds_bucket{server="admin",le="+Inf"} 5
            glb_latency_seconds_sum{server="admin"} 2.65
            glb_latency_seconds_count{server="admin"} 5

            """)
        #expect(latency.cumulativeCounts == [2, 4, 4])
        #expect(latency.count == 5)
    }

    @Test func aHistogramWithoutLabelsGetsOnlyTheLeLabel() {
        let registry = MetricsRegistry()
        let h = registry.histogram("h", help: "H.", bounds: [1])
        h.observe(Duration.milliseconds(1500))
        #expect(registry.render() == """
            # HELP h H.
            # TYPE h histogram
            h_bucket{le="1"} 0
            h_bucket{le="+Inf"} 1
            h_sum 1.5
            h_count 1

            """)
    }

    @Test(arguments: [
        ("plain", "plain"),
        (#"say "hi""#, #"say \"hi\""#),
        (#"C:\path"#, #"C:\\path"#),
        ("two\nlines", #"two\nlines"#),
        ("é 😀", "é 😀"),                     // UTF-8 passes through
    ])
    func labelValuesAreEscaped(value: String, rendered: String) {
        let registry = MetricsRegistry()
        registry.counter("c", help: "C.", labels: ["v": value]).increment()
        #expect(registry.render().contains("c{v=\"\(rendered)\"} 1\n"))
    }

    @Test func helpTextEscapesBackslashAndNewline() {
        let registry = MetricsRegistry()
        _ = registry.gauge("g", help: "first line\nsecond \\ line")
        // A raw newline would end the HELP line and make the rest an invalid sample line.
        #expect(registry.render().hasPrefix("# HELP g first line\\nsecond \\\\ line\n# TYPE g gauge\n"))
    }

    @Test(arguments: [(0.0, "0"), (3.0, "3"), (-1.0, "-1"), (2.5, "2.5"), (1e20, "1e+20"), (0.001, "0.001")])
    func gaugeValuesRenderAsIntegersWhenWhole(value: Double, rendered: String) {
        let registry = MetricsRegistry()
        registry.gauge("g", help: "G.").set(value)
        #expect(registry.render().hasSuffix("\ng \(rendered)\n"))
    }

    @Test func theSameNameAndLabelsReturnTheSameHandle() {
        let registry = MetricsRegistry()
        let a = registry.counter("c", help: "C.", labels: ["x": "1", "y": "2"])
        let b = registry.counter("c", help: "C.", labels: ["y": "2", "x": "1"])
        let other = registry.counter("c", help: "C.", labels: ["x": "1"])
        #expect(a === b, "label order does not matter")
        #expect(a !== other)
        a.increment()
        b.increment()
        #expect(a.current == 2)
        #expect(registry.gauge("g", help: "G.") === registry.gauge("g", help: "G."))
        #expect(registry.histogram("h", help: "H.") === registry.histogram("h", help: "H."))
    }

    @Test func gaugesAddAndSubtract() {
        let gauge = Gauge()
        gauge.add(2.5)
        gauge.add(-1)
        #expect(gauge.current == 1.5)
        gauge.set(-4)
        #expect(gauge.current == -4)
    }

    @Test func collectorsRunBeforeEveryRender() {
        let registry = MetricsRegistry()
        let open = registry.gauge("open", help: "Open.")
        let runs = Atomic<Int>(0)
        registry.onCollect {
            let n = runs.add(1, ordering: .relaxed).newValue
            open.set(Double(n * 10))
        }
        #expect(runs.load(ordering: .relaxed) == 0, "registering does not collect")
        #expect(registry.render().contains("\nopen 10\n"))
        #expect(registry.render().contains("\nopen 20\n"))
        #expect(runs.load(ordering: .relaxed) == 2)
    }
}
