import GLBCore
import GLBTestSupport
import Testing

@Suite struct ConnectionCounterTests {
    @Test func theCapIsCheckedAtAdmission() {
        let counter = ConnectionCounter()
        #expect(counter.admit(limit: 2))
        #expect(counter.admit(limit: 2))
        #expect(!counter.admit(limit: 2), "a third connection is over the cap and not counted")
        #expect(counter.count == 2)
        counter.closed()
        #expect(counter.admit(limit: 2))
    }

    @Test func drainingReturnsWhenTheLastConnectionCloses() async {
        let counter = ConnectionCounter()
        let clock = ManualClock()
        #expect(counter.admit(limit: 10))
        async let drained: Void = counter.drained(within: .seconds(30), clock: clock)
        counter.closed()
        await drained
        #expect(clock.sleeperCount == 0, "the grace timer was cancelled, not left to run out")
    }

    @Test func drainingReturnsAtTheEndOfTheGraceWithConnectionsStillOpen() async {
        let counter = ConnectionCounter()
        let clock = ManualClock()
        #expect(counter.admit(limit: 10))
        async let drained: Void = counter.drained(within: .seconds(30), clock: clock)
        while clock.sleeperCount == 0 { await Task.yield() }
        clock.advance(by: .seconds(30))
        await drained
        #expect(counter.count == 1)
    }

    /// A grace period that ends before the zero-waiter has even parked must still release it:
    /// that interleaving once hung `HTTPServer.shutdown(grace: .zero)` forever (the waiter parked
    /// after the wake-up meant for it, and the task group waited for it). Shutdown with no grace
    /// is what tests and SIGTERM with `--shutdown-grace 0` do, so run it many times.
    @Test func aZeroGraceNeverLosesTheRaceWithTheWaiter() async {
        let counter = ConnectionCounter()
        #expect(counter.admit(limit: 10))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { for _ in 0..<500 { await counter.drained(within: .zero, clock: SystemClock()) } }
            }
            // Busy threads: the waiter's task then often starts late, after the grace has ended.
            for _ in 0..<2 {
                group.addTask { for _ in 0..<20_000 { await Task.yield() } }
            }
        }
        #expect(counter.count == 1)
    }
}
