package import GLBCore

/// Probes a set of targets on one event loop and publishes what it learns.
///
///     setTargets ──execute──▶ ProberCore (loop) ── timer ──▶ Probe (Selectable) ──▶ result
///                                   │                                                 │
///                                   ◀──────── HealthState.record / RTTEstimate ◀──────┘
///                                   │
///                                   ├──▶ HealthBoard table (Mutex) ──▶ snapshot(), metrics
///                                   └──▶ transitions (AsyncStream) ──▶ agent: routing snapshot
///
/// Thread-safe: every entry point hops onto the loop with `execute`; all probing state lives on
/// the loop (`ProberCore`), and other threads read copies from a `Mutex`-protected table. Probes
/// never block the loop: connects, TLS and HTTP are non-blocking and each attempt is cut at its
/// timeout. One `TLSContext` is shared by every HTTPS probe of this prober, made on the first.
package final class Prober: Sendable {
    /// Every status flip, in order, for the agent to consume (unbounded buffer: there is at most
    /// one flip per target per `rise` or `fall` probes). Finishes after `stop()`.
    package let transitions: AsyncStream<HealthTransition>
    package let loop: EventLoop
    private let board: HealthBoard
    private let core: LoopBound<ProberCore>

    /// - Parameters:
    ///   - clock: stamps results and transitions; nil means `loop.clock`, which also runs the
    ///     probe timers, so pass either nil or that same clock.
    ///   - seed: seeds the start-time jitter; a fixed seed gives a reproducible schedule.
    ///   - trustRootsFile: a PEM bundle to trust instead of the system store (tests).
    package init(loop: EventLoop, clock: (any GLBClock)? = nil, logger: Logger, registry: MetricsRegistry, seed: UInt64,
                 trustRootsFile: String? = nil) {
        let clock = clock ?? loop.clock
        let (stream, continuation) = AsyncStream<HealthTransition>.makeStream(bufferingPolicy: .unbounded)
        transitions = stream
        self.loop = loop
        board = HealthBoard(registry: registry, clock: clock, continuation: continuation)
        core = LoopBound(ProberCore(loop: loop, clock: clock, trustRootsFile: trustRootsFile, board: board, logger: logger.named("prober"), seed: seed),
                         loop: loop)
    }

    /// Makes `targets` the probed set, on the loop's next turn. Targets whose value did not
    /// change keep their state and schedule; removed ones stop; new ones start at a jittered
    /// offset within their interval. Ids must be unique (the last of a duplicate wins).
    package func setTargets(_ targets: [ProbeTarget]) {
        core.withValue { $0.apply(targets) }
    }

    /// Cancels every timer, closes in-flight probes and finishes `transitions`, on the loop's
    /// next turn. Call before the loop stops. Final: later `setTargets` calls are ignored, and
    /// `snapshot()` keeps returning the last state.
    package func stop() {
        core.withValue { $0.stop() }
    }

    /// The health of every probed target, by target id: a copy, from any thread.
    package func snapshot() -> [String: TargetHealth] {
        board.snapshot()
    }
}
