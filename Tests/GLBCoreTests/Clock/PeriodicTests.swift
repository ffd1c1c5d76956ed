import GLBCore
import GLBTestSupport
import Synchronization
import Testing

/// `repeatEvery` on a manual clock: when runs happen, and that cancellation ends it.
@Suite struct PeriodicTests {
    final class Runs: Sendable {
        let times = Mutex<[Duration]>([])
    }

    /// Advances the clock by `step` once the loop is parked, `count` times.
    static func step(_ clock: ManualClock, by step: Duration, times count: Int) async throws {
        for _ in 0..<count {
            #expect(await eventually { clock.sleeperCount == 1 })
            clock.advance(by: step)
        }
        #expect(await eventually { clock.sleeperCount == 1 })
    }

    @Test(arguments: [true, false])
    func runsEveryIntervalFromNowOrAfterTheFirstInterval(_ startingNow: Bool) async throws {
        let clock = ManualClock()
        let runs = Runs()
        let task = Task {
            await repeatEvery(.seconds(30), on: clock, startingNow: startingNow) {
                runs.times.withLock { $0.append(clock.now - .zero) }
            }
        }
        try await Self.step(clock, by: .seconds(30), times: 3)
        task.cancel()
        await task.value
        // Starting now: at 0, 30, 60, 90 s. Otherwise the first run waits one interval.
        let expected: [Duration] = startingNow ? [.zero, .seconds(30), .seconds(60), .seconds(90)] : [.seconds(30), .seconds(60), .seconds(90)]
        #expect(runs.times.withLock { $0 } == expected)
    }

    @Test func cancellingWhileParkedEndsTheLoopWithoutAnotherRun() async throws {
        let clock = ManualClock()
        let runs = Runs()
        let task = Task { await repeatEvery(.seconds(1), on: clock) { runs.times.withLock { $0.append(.zero) } } }
        #expect(await eventually { clock.sleeperCount == 1 })
        task.cancel()
        await task.value
        #expect(runs.times.withLock { $0 }.isEmpty)
        #expect(clock.sleeperCount == 0)
    }
}
