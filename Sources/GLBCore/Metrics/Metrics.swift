public import Synchronization

/// A monotonically increasing count. Lock-free: the data plane increments it on every request.
/// Public so `incrementFromOwner` inlines into the data plane's modules (see `IPAddress`).
///
/// Padded to 64 bytes: per-loop shards of one series are made together, so without it two
/// loops' counters shared a cache line and every write by one loop evicted the other's copy
/// (false sharing). Two consecutive objects now keep their values at least 64 bytes apart.
public final class Counter: Sendable {
    @usableFromInline let value = Atomic<UInt64>(0)
    private let padding: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    package init() {}
    package func increment(by amount: UInt64 = 1) { value.wrappingAdd(amount, ordering: .relaxed) }
    /// An increment for a counter that only one thread ever writes (a per-loop shard): a plain
    /// load and store, without the locked read-modify-write that `increment` needs when
    /// several threads share a counter. Readers on other threads still see whole values.
    /// Inlinable: the data plane calls it once per query or request from another module.
    @inlinable @inline(__always)
    public func incrementFromOwner() { value.store(value.load(ordering: .relaxed) &+ 1, ordering: .relaxed) }
    /// `incrementFromOwner`, by `amount`.
    @inlinable @inline(__always)
    public func incrementFromOwner(by amount: UInt64) { value.store(value.load(ordering: .relaxed) &+ amount, ordering: .relaxed) }
    package var current: UInt64 { value.load(ordering: .relaxed) }
}

/// A value that goes up and down (connections open, healthy ratio, config version).
/// Padded like `Counter`: the proxy keeps one per loop and sets it on every request.
package final class Gauge: Sendable {
    private let bits = Atomic<UInt64>(0.0.bitPattern)
    private let padding: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
    package init() {}
    package func set(_ value: Double) { bits.store(value.bitPattern, ordering: .relaxed) }
    package func add(_ delta: Double) {
        var old = bits.load(ordering: .relaxed)
        while true {
            let new = (Double(bitPattern: old) + delta).bitPattern
            let (exchanged, original) = bits.compareExchange(expected: old, desired: new, ordering: .relaxed)
            if exchanged { return }
            old = original
        }
    }
    package var current: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }
}

/// A Prometheus histogram with fixed bucket bounds (in seconds for latencies). Each bucket is an
/// atomic counter, so `observe` takes no lock; the sum is kept in microseconds as an integer.
package final class Histogram: Sendable {
    package let bounds: [Double]
    private let buckets: [Counter]
    private let sumMicros = Atomic<UInt64>(0)
    private let total = Counter()
    /// Keeps `sumMicros` of two shards made together off one cache line (see `Counter`).
    private let padding: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)

    /// Latency buckets from 100 µs to 10 s, the range a proxy and a DNS server care about.
    package static let latencyBounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    package init(bounds: [Double] = Histogram.latencyBounds) {
        self.bounds = bounds.sorted()
        buckets = bounds.map { _ in Counter() }
    }

    package func observe(_ value: Double) {
        // Buckets hold non-cumulative counts; rendering accumulates them.
        if let index = bounds.firstIndex(where: { value <= $0 }) { buckets[index].increment() }
        total.increment()
        sumMicros.wrappingAdd(UInt64(max(0, value) * 1_000_000), ordering: .relaxed)
    }

    package func observe(_ duration: Duration) { observe(duration.seconds) }

    /// `observe` for a shard that only one thread writes (see `Counter.incrementFromOwner`):
    /// plain loads and stores instead of three locked read-modify-writes.
    package func observeFromOwner(_ duration: Duration) {
        let value = duration.seconds
        var index = 0
        while index < bounds.count, value > bounds[index] { index += 1 }
        if index < bounds.count { buckets[index].incrementFromOwner() }
        total.incrementFromOwner()
        sumMicros.store(sumMicros.load(ordering: .relaxed) &+ UInt64(max(0, value) * 1_000_000), ordering: .relaxed)
    }

    package var count: UInt64 { total.current }
    package var sum: Double { Double(sumMicros.load(ordering: .relaxed)) / 1_000_000 }
    /// Cumulative counts per bound, as Prometheus wants them.
    package var cumulativeCounts: [UInt64] {
        var running: UInt64 = 0
        return buckets.map { running += $0.current; return running }
    }
}
