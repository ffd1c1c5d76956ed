import Synchronization

/// The node's metrics, rendered in the Prometheus text exposition format (version 0.0.4).
///
/// Each capability registers its SLIs once at start-up and keeps the returned handles; the hot
/// path then only touches atomics. Registration and rendering take a lock; `observe`/`increment`
/// never do. Asking twice for the same name and labels returns the same handle.
package final class MetricsRegistry: Sendable {
    private enum Kind: String, Sendable { case counter, gauge, histogram }

    fileprivate enum Metric: Sendable {
        case counter(Counter)
        /// A counter kept in shards (one per event loop) and summed when rendered.
        case shardedCounter([Counter])
        case gauge(Gauge)
        case histogram(Histogram)
        /// A histogram kept in shards (one per event loop) and merged when rendered.
        case shardedHistogram([Histogram])
    }

    private struct Family: Sendable {
        let kind: Kind
        let help: String
        var series: [String: Metric] = [:]     // rendered label set -> metric
    }

    private let families = Mutex<[String: Family]>([:])
    private let collectors = Mutex<[@Sendable () -> Void]>([])

    package init() {}

    package func counter(_ name: String, help: String, labels: [String: String] = [:]) -> Counter {
        metric(name, help: help, kind: .counter, labels: labels) { .counter(Counter()) }.asCounter!
    }

    /// Registers a counter series whose value is the sum of `shards`, each written by one thread
    /// with `incrementFromOwner` (per-loop counters on the data plane, so two loops never bounce
    /// one cache line at every query).
    package func counter(_ name: String, help: String, labels: [String: String] = [:], summing shards: [Counter]) {
        _ = metric(name, help: help, kind: .counter, labels: labels) { .shardedCounter(shards) }
    }

    /// Shard `index` of a counter series kept in `count` shards, made on first use: for series
    /// whose labels are known only at run time, so each loop registers its own shard when it
    /// first needs the series. Asking again with the same index returns the same shard. Write
    /// it with `incrementFromOwner` from its one thread.
    package func counterShard(_ name: String, help: String, labels: [String: String] = [:], index: Int, of count: Int) -> Counter {
        let series = metric(name, help: help, kind: .counter, labels: labels) { .shardedCounter((0..<count).map { _ in Counter() }) }
        guard case .shardedCounter(let shards) = series else { preconditionFailure("\(name) is not sharded") }
        return shards[index]
    }

    /// Shard `index` of a histogram series kept in `count` shards (see `counterShard`); write it
    /// with `observeFromOwner`.
    package func histogramShard(_ name: String, help: String, labels: [String: String] = [:], bounds: [Double] = Histogram.latencyBounds,
                                index: Int, of count: Int) -> Histogram {
        let series = metric(name, help: help, kind: .histogram, labels: labels) {
            .shardedHistogram((0..<count).map { _ in Histogram(bounds: bounds) })
        }
        guard case .shardedHistogram(let shards) = series else { preconditionFailure("\(name) is not sharded") }
        return shards[index]
    }

    package func gauge(_ name: String, help: String, labels: [String: String] = [:]) -> Gauge {
        metric(name, help: help, kind: .gauge, labels: labels) { .gauge(Gauge()) }.asGauge!
    }

    package func histogram(_ name: String, help: String, labels: [String: String] = [:], bounds: [Double] = Histogram.latencyBounds) -> Histogram {
        metric(name, help: help, kind: .histogram, labels: labels) { .histogram(Histogram(bounds: bounds)) }.asHistogram!
    }

    /// Drops one series (a certificate that left the directory must not keep reporting its
    /// expiry); the family goes when its last series does. Handles already given out keep working
    /// but are no longer rendered.
    package func remove(_ name: String, labels: [String: String]) {
        let key = Self.renderLabels(labels)
        families.withLock { families in
            families[name]?.series[key] = nil
            if families[name]?.series.isEmpty == true { families[name] = nil }
        }
    }

    /// Runs `collect` before every render: for gauges that are cheaper to read on demand
    /// (open connections, pool sizes) than to keep current.
    package func onCollect(_ collect: @escaping @Sendable () -> Void) {
        collectors.withLock { $0.append(collect) }
    }

    private func metric(_ name: String, help: String, kind: Kind, labels: [String: String], make: () -> Metric) -> Metric {
        let key = Self.renderLabels(labels)
        return families.withLock { families in
            var family = families[name] ?? Family(kind: kind, help: help)
            precondition(family.kind == kind, "metric \(name) registered as \(family.kind) and \(kind)")
            if let existing = family.series[key] { return existing }
            let created = make()
            family.series[key] = created
            families[name] = family
            return created
        }
    }

    /// The whole registry in the Prometheus text format, families and series sorted so the output
    /// is stable.
    package func render() -> String {
        for collect in collectors.withLock({ $0 }) { collect() }
        let snapshot = families.withLock { $0 }
        var out = ""
        for name in snapshot.keys.sorted() {
            let family = snapshot[name]!
            out += "# HELP \(name) \(Self.escapeHelp(family.help))\n# TYPE \(name) \(family.kind.rawValue)\n"
            for labels in family.series.keys.sorted() {
                switch family.series[labels]! {
                case .counter(let c): out += "\(name)\(labels) \(c.current)\n"
                case .shardedCounter(let shards): out += "\(name)\(labels) \(shards.reduce(0) { $0 &+ $1.current })\n"
                case .gauge(let g): out += "\(name)\(labels) \(Self.format(g.current))\n"
                case .histogram(let h):
                    out += Self.renderHistogram(name, labels, bounds: h.bounds, counts: h.cumulativeCounts, sum: h.sum, count: h.count)
                case .shardedHistogram(let shards):
                    var counts = [UInt64](repeating: 0, count: shards[0].bounds.count)
                    for shard in shards {
                        for (i, c) in shard.cumulativeCounts.enumerated() { counts[i] &+= c }
                    }
                    out += Self.renderHistogram(name, labels, bounds: shards[0].bounds, counts: counts,
                                                sum: shards.reduce(0) { $0 + $1.sum }, count: shards.reduce(0) { $0 &+ $1.count })
                }
            }
        }
        return out
    }

    private static func renderHistogram(_ name: String, _ labels: String, bounds: [Double], counts: [UInt64], sum: Double, count: UInt64) -> String {
        var out = ""
        for (bound, c) in zip(bounds, counts) {
            out += "\(name)_bucket\(Self.adding("le", Self.format(bound), to: labels)) \(c)\n"
        }
        out += "\(name)_bucket\(Self.adding("le", "+Inf", to: labels)) \(count)\n"
        out += "\(name)_sum\(labels) \(Self.format(sum))\n\(name)_count\(labels) \(count)\n"
        return out
    }

    static func renderLabels(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "" }
        let body = labels.keys.sorted().map { "\($0)=\"\(escape(labels[$0]!))\"" }.joined(separator: ",")
        return "{\(body)}"
    }

    private static func adding(_ key: String, _ value: String, to rendered: String) -> String {
        rendered.isEmpty ? "{\(key)=\"\(value)\"}" : String(rendered.dropLast()) + ",\(key)=\"\(value)\"}"
    }

    /// Label values escape backslash, double quote and newline (exposition format spec).
    private static func escape(_ value: String) -> String {
        var out = ""
        for ch in value {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out
    }

    /// HELP text escapes backslash and newline, but not double quote (exposition format spec):
    /// a raw newline would end the comment and turn the rest into an invalid sample line.
    private static func escapeHelp(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out
    }

    private static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

extension MetricsRegistry.Metric {
    var asCounter: Counter? { if case .counter(let c) = self { c } else { nil } }
    var asGauge: Gauge? { if case .gauge(let g) = self { g } else { nil } }
    var asHistogram: Histogram? { if case .histogram(let h) = self { h } else { nil } }
}
