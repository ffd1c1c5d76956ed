import GLBCore
import GLBTestSupport
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The loop is driven tick by tick on the test's thread with a manual clock: no sleeps.
@Suite struct EventLoopTests {
    @Test func timersFireInDeadlineOrderOnlyWhenTheClockReachesThem() throws {
        let clock = ManualClock()
        let loop = try EventLoop(name: "test", clock: clock)
        var fired: [String] = []
        loop.schedule(after: .seconds(2)) { fired.append("b") }
        loop.schedule(after: .seconds(1)) { fired.append("a") }
        let cancelled = loop.schedule(after: .milliseconds(1500)) { fired.append("cancelled") }
        loop.cancel(cancelled)

        loop.tick(maxWait: .zero)
        #expect(fired.isEmpty)
        clock.advance(by: .milliseconds(999))
        loop.tick(maxWait: .zero)
        #expect(fired.isEmpty)
        clock.advance(by: .milliseconds(1))
        loop.tick(maxWait: .zero)
        #expect(fired == ["a"])
        clock.advance(by: .seconds(5))
        loop.tick(maxWait: .zero)
        #expect(fired == ["a", "b"])
    }

    /// A task for a loop whose group has shut down runs on the caller's thread: `submit` and
    /// `LoopBound.run` return instead of waiting for a tick that never comes.
    @Test func aLoopThatIsGoneStillAnswersSubmitAndExecute() async throws {
        let group = try EventLoopGroup(count: 1, name: "gone")
        group.start()
        let loop = group.loops[0]
        #expect(await loop.submit { 1 } == 1)
        group.shutdown()
        #expect(await loop.submit { 2 } == 2)
        let ran = Mutex(false)
        loop.execute { ran.withLock { $0 = true } }
        #expect(ran.withLock { $0 }, "run at once, before execute returned")
        group.shutdown()                                 // idempotent
    }

    /// `finish()` runs what was queued but never ticked, on the finishing thread.
    @Test func finishRunsTasksQueuedTooLateForATick() throws {
        let loop = try EventLoop(name: "test", clock: ManualClock())
        let ran = Mutex(0)
        loop.execute { ran.withLock { $0 += 1 } }
        loop.execute { ran.withLock { $0 += 1 } }
        #expect(ran.withLock { $0 } == 0, "queued for the next tick")
        loop.finish()
        #expect(ran.withLock { $0 } == 2)
    }

    @Test func timersWithTheSameDeadlineFireInScheduleOrder() throws {
        let clock = ManualClock()
        let loop = try EventLoop(name: "test", clock: clock)
        var fired: [Int] = []
        for i in 0..<5 { loop.schedule(after: .seconds(1)) { fired.append(i) } }
        clock.advance(by: .seconds(1))
        loop.tick(maxWait: .zero)
        #expect(fired == [0, 1, 2, 3, 4])
    }

    @Test func executeFromAnotherThreadWakesABlockedLoop() async throws {
        let group = try EventLoopGroup(count: 1)
        let loop = group.loops[0]
        group.start()
        defer { group.shutdown() }
        // epoll_wait blocks without a timeout here; only the eventfd write can wake it.
        let ranOnLoop = await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
            loop.execute { done.resume(returning: loop.inLoop) }
        }
        #expect(ranOnLoop)
    }

    @Test func readinessIsDeliveredToTheRegisteredHandler() throws {
        let loop = try EventLoop(name: "test", clock: ManualClock())
        var fds: [CInt] = [0, 0]
        #expect(socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let handler = RecordingHandler(fd: fds[0])
        try loop.register(handler, interest: .read)
        loop.tick(maxWait: .zero)
        #expect(handler.reads == 0)
        var byte: UInt8 = 7
        #expect(write(fds[1], &byte, 1) == 1)
        loop.tick(maxWait: .zero)
        #expect(handler.reads == 1)
        loop.deregister(handler)
        loop.tick(maxWait: .zero)
        #expect(handler.reads == 1, "a deregistered handler hears nothing more")
        #expect(loop.registeredCount == 0)
    }

    /// A handler that paused reading must not be called while the peer's EOF (EPOLLRDHUP,
    /// EPOLLHUP) sits unread: epoll reports those whatever the interest, and every tick would
    /// call it again (a spinning core while a half-closed client waited for its response).
    @Test func aPausedHandlerHearsNothingOfAClosedPeerUntilItResumes() throws {
        let loop = try EventLoop(name: "test", clock: ManualClock())
        var fds: [CInt] = [0, 0]
        #expect(socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]) }
        let handler = RecordingHandler(fd: fds[0])
        try loop.register(handler, interest: .read)
        loop.setInterest(handler, .none)
        #expect(shutdown(fds[1], CInt(SHUT_WR)) == 0)          // the peer's FIN: EPOLLRDHUP
        for _ in 0..<5 { loop.tick(maxWait: .zero) }
        #expect(handler.reads == 0)
        #expect(loop.registeredCount == 1, "paused, not forgotten")
        loop.setInterest(handler, .write)
        for _ in 0..<5 { loop.tick(maxWait: .zero) }
        #expect(handler.reads == 0, "a write-only handler is not told of the FIN")
        #expect(handler.writes == 5)
        loop.setInterest(handler, .read)
        loop.tick(maxWait: .zero)
        #expect(handler.reads == 1, "resuming delivers the EOF")
        loop.setInterest(handler, .none)
        close(fds[1])                                          // both directions down: EPOLLHUP
        for _ in 0..<5 { loop.tick(maxWait: .zero) }
        #expect(handler.reads == 1)
        loop.deregister(handler)
    }
}

extension EventLoopTests {
    @Test func aPausedListenerIsWatchedAgainAfterThePauseUnlessItWasClosed() throws {
        let clock = ManualClock()
        let loop = try EventLoop(name: "test", clock: clock)
        var fds: [CInt] = [0, 0]
        #expect(socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let handler = RecordingHandler(fd: fds[0])
        try loop.register(handler, interest: .read)
        loop.pauseAccepting(handler, for: .milliseconds(100))
        var byte: UInt8 = 1
        #expect(write(fds[1], &byte, 1) == 1)
        loop.tick(maxWait: .zero)
        clock.advance(by: .milliseconds(99))
        loop.tick(maxWait: .zero)
        #expect(handler.reads == 0, "paused")
        clock.advance(by: .milliseconds(1))
        loop.tick(maxWait: .zero)                   // the timer restores the interest
        loop.tick(maxWait: .zero)
        #expect(handler.reads == 1)

        loop.pauseAccepting(handler, for: .milliseconds(100))
        loop.deregister(handler)
        clock.advance(by: .milliseconds(100))
        loop.tick(maxWait: .zero)
        #expect(loop.registeredCount == 0, "a listener closed during its pause stays closed")
    }
}

private final class RecordingHandler: Selectable {
    let descriptor: CInt
    var reads = 0
    var writes = 0
    init(fd: CInt) { descriptor = fd }
    func readable(now: Instant) {
        reads += 1
        var sink = [UInt8](repeating: 0, count: 64)
        _ = read(descriptor, &sink, 64)
    }
    func writable(now: Instant) { writes += 1 }
}
