package import GLBCore
import Synchronization

/// A clock that moves only when the test says so (after Hummingbird's `MockClock`).
///
/// `sleep(until:)` parks a continuation; `advance(by:)` moves time and resumes, outside the lock,
/// every sleeper whose deadline has come. The wall clock moves in step with the monotonic one.
package final class ManualClock: GLBClock {
    private struct Sleeper {
        let id: UInt64
        let deadline: Instant
        let wake: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Instant
        var wall: Int64
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    /// - Parameters:
    ///   - now: the starting monotonic instant.
    ///   - wallMilliseconds: the starting wall time; 2026-01-01T00:00:00Z by default.
    package init(now: Instant = .zero, wallMilliseconds: Int64 = 1_767_225_600_000) {
        state = Mutex(State(now: now, wall: wallMilliseconds))
    }

    package var now: Instant { state.withLock { $0.now } }
    package var wallMilliseconds: Int64 { state.withLock { $0.wall } }

    /// How many tasks are parked in `sleep(until:)`: lets a test wait until a service is idle.
    package var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    package func advance(by duration: Duration) {
        precondition(duration >= .zero, "a manual clock never goes backwards")
        let due: [Sleeper] = state.withLock { state in
            state.now = state.now + duration
            state.wall += duration.milliseconds
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.wake.resume() }
    }

    /// Moves only the wall clock, as NTP or an operator would: for tests of clock skew.
    package func setWall(_ milliseconds: Int64) {
        state.withLock { $0.wall = milliseconds }
    }

    package func sleep(until deadline: Instant) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { state in
                    if deadline <= state.now || Task.isCancelled { return true }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, wake: continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            try Task.checkCancellation()
        } onCancel: {
            let cancelled = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            cancelled?.wake.resume(throwing: CancellationError())
        }
    }
}
