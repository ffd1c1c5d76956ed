import GLBCore

/// The loop-confined half of `Prober`: one runner per target, its timers and in-flight probe.
/// Not Sendable; `Prober` reaches it through `LoopBound`, tests may drive it on the loop directly.
final class ProberCore {
    /// One target's schedule and verdict.
    final class Runner {
        var target: ProbeTarget
        var health: HealthState
        var rtt = RTTEstimate()
        var lastResult: ProbeResult?
        var lastProbeAt: Instant?
        var sinceWall: Int64
        var nextDue = Instant.zero
        var timer: TimerID?
        var probe: Probe?
        var probeStartedAt = Instant.zero

        init(target: ProbeTarget, now: Instant, wall: Int64) {
            self.target = target
            health = HealthState(rise: target.spec.rise, fall: target.spec.fall, now: now)
            sinceWall = wall
        }

        var snapshot: TargetHealth {
            TargetHealth(target: target, status: health.status, since: health.since, sinceWallMilliseconds: sinceWall,
                         lastResult: lastResult, lastProbeAt: lastProbeAt, rtt: rtt.value,
                         consecutiveSuccesses: health.consecutiveSuccesses, consecutiveFailures: health.consecutiveFailures)
        }
    }

    private let loop: EventLoop
    private let clock: any GLBClock
    private let trustRootsFile: String?
    private var tls: TLSContext?
    private var tlsFailed = false
    private let board: HealthBoard
    private let logger: Logger
    private var rng: SplitMix64
    private(set) var runners: [String: Runner] = [:]
    private var stopped = false

    init(loop: EventLoop, clock: any GLBClock, trustRootsFile: String?, board: HealthBoard, logger: Logger, seed: UInt64) {
        self.loop = loop
        self.clock = clock
        self.trustRootsFile = trustRootsFile
        self.board = board
        self.logger = logger
        rng = SplitMix64(seed: seed)
    }

    /// The client context shared by every https probe, made on the first one: OpenSSL's start-up
    /// (its configuration and providers) costs about 3 MB of resident memory that a node with only
    /// http and tcp checks never needs. If it cannot be made, https probes fail as misconfigured.
    private func tlsContext() -> TLSContext? {
        if tls == nil, !tlsFailed {
            do {
                tls = try TLSContext(trustRootsFile: trustRootsFile)
            } catch {
                tlsFailed = true
                logger.error("cannot set up TLS for HTTPS health checks; they will fail", ["error": "\(error)"])
            }
        }
        return tls
    }

    /// Makes `targets` the probed set. Unchanged targets keep everything; removed ones stop; new
    /// ones start at a random offset within their interval, drawn in id order so that a seed
    /// gives one schedule. A changed target restarts its schedule the same way; it keeps its
    /// verdict if only timing and thresholds changed, and starts over from `.unknown` otherwise.
    func apply(_ targets: [ProbeTarget]) {
        guard !stopped else { return }
        let now = clock.now
        var incoming: [String: ProbeTarget] = [:]
        for target in targets { incoming[target.id] = target }
        for (id, runner) in runners where incoming[id] == nil {
            halt(runner)
            runners[id] = nil
            board.remove(id)
        }
        for id in incoming.keys.sorted() {
            let target = incoming[id]!
            let runner: Runner
            if let existing = runners[id] {
                guard existing.target != target else { continue }
                halt(existing)
                let sameCheck = existing.target.probeAddress == target.probeAddress
                    && existing.target.spec.whatIsChecked == target.spec.whatIsChecked
                if sameCheck {
                    existing.health.rise = target.spec.rise
                    existing.health.fall = target.spec.fall
                    existing.target = target
                    runner = existing
                } else {
                    runner = Runner(target: target, now: now, wall: clock.wallMilliseconds)
                }
            } else {
                runner = Runner(target: target, now: now, wall: clock.wallMilliseconds)
            }
            runners[id] = runner
            let span = max(1, target.spec.interval.nanosecondsRounded)
            arm(runner, at: now + .nanoseconds(Int64.random(in: 0..<span, using: &rng)))
            board.update(runner.snapshot)
        }
    }

    /// Cancels every timer and in-flight probe and ends the transition stream. Final.
    func stop() {
        stopped = true
        for runner in runners.values { halt(runner) }
        runners.removeAll()
        board.finish()
    }

    private func arm(_ runner: Runner, at due: Instant) {
        runner.nextDue = due
        runner.timer = loop.schedule(at: due) { [weak self, weak runner] in
            guard let self, let runner else { return }
            fire(runner)
        }
    }

    private func halt(_ runner: Runner) {
        if let timer = runner.timer { loop.cancel(timer) }
        runner.timer = nil
        runner.probe?.cancel()
        runner.probe = nil
    }

    /// A runner's turn: schedule the next one on a fixed cadence, then probe unless the last
    /// attempt is still running (a timeout longer than the interval).
    private func fire(_ runner: Runner) {
        let now = clock.now
        var next = runner.nextDue + runner.target.spec.interval
        if next <= now { next = now + runner.target.spec.interval }      // fell behind: do not burst
        arm(runner, at: next)
        guard runner.probe == nil else {
            logger.debug("probe skipped: previous attempt still running", ["target": runner.target.id])
            return
        }
        let probe = Probe(target: runner.target, loop: loop, tls: runner.target.spec.kind == .https ? tlsContext() : nil) { [weak self, weak runner] result in
            guard let self, let runner else { return }
            complete(runner, result)
        }
        runner.probe = probe
        runner.probeStartedAt = now
        probe.start()
    }

    private func complete(_ runner: Runner, _ result: ProbeResult) {
        let now = clock.now
        runner.probe = nil
        runner.lastResult = result
        runner.lastProbeAt = now
        runner.rtt.record(result)
        let id = runner.target.id
        board.recordResult(target: id, result, took: now - runner.probeStartedAt)
        let before = runner.health.status
        if let after = runner.health.record(success: result.isSuccess, now: now) {
            let wall = clock.wallMilliseconds
            runner.sinceWall = wall
            let reason = result.isSuccess
                ? "\(runner.health.consecutiveSuccesses) consecutive successes"
                : "\(runner.health.consecutiveFailures) consecutive failures, last \(result.failure!)"
            let transition = HealthTransition(targetID: id, from: before, to: after, reason: reason, failure: result.failure,
                                              rtt: runner.rtt.value, at: now, wallMilliseconds: wall)
            var fields = ["target": id, "from": before.rawValue, "to": after.rawValue, "reason": reason]
            if let rtt = runner.rtt.value { fields["rtt_ms"] = "\(Double(rtt.nanosecondsRounded) / 1e6)" }
            logger.info("health transition", fields)
            board.recordTransition(transition)
        }
        board.update(runner.snapshot)
    }
}
