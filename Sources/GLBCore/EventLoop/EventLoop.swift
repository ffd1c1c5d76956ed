import CGLBLinux
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One thread, one epoll set, many sockets (after SwiftNIO's `SelectableEventLoop`).
///
///     other threads ──execute()──▶ inbox (Mutex) ──eventfd write──┐
///                                                                 ▼
///     ┌──────────────────────────── tick ─────────────────────────────┐
///     │ epoll_wait(timeout = next timer) → readable()/writable()      │
///     │ run due timers → run inbox tasks → next tick                  │
///     └───────────────────────────────────────────────────────────────┘
///
/// Invariant behind `@unchecked Sendable`: every `var` is touched only on the loop's thread
/// (checked by `assertInLoop()` in debug builds); other threads get in only through `execute`,
/// whose queue is behind a `Mutex`, and `stop`, which is an atomic flag plus a wake-up.
///
/// Registrations carry a generation in the epoll user data (fd in the low 32 bits, generation in
/// the high 32), so an event for a descriptor that was closed and reused within one tick is
/// recognised as stale and dropped.
///
/// A registration whose interest is empty is kept out of the epoll set (libuv's `uv__io_stop`
/// does the same). epoll reports EPOLLHUP and EPOLLERR whatever the interest, and level-triggered
/// EPOLLRDHUP for as long as the peer's FIN is there; a handler that paused reading (a request
/// with its handler, a full buffer, a half-closed client awaiting its response) would be called
/// on every tick and spin a core until it resumed.
package final class EventLoop: @unchecked Sendable {
    package let name: String
    package let clock: any GLBClock

    private let epfd: CInt
    private let wakeFD: CInt
    private let inbox = Mutex<[@Sendable () -> Void]>([])
    /// Set by `finish()`: the loop's thread is gone and tasks run on their caller's thread.
    private let finished = Atomic<Bool>(false)
    // Loop-confined state, touched only on the loop thread (see above). No access overlaps
    // another: `tick` copies a registration before calling its handler and runs timers and
    // tasks only after moving them out of `timers` and the inbox. So the dynamic exclusivity
    // checks on these properties (in every build) are skipped: ~120 instructions per access,
    // eight accesses per proxied connection (register, deregister, schedule, cancel) and more
    // per tick.
    @exclusivity(unchecked) private var spare: [@Sendable () -> Void] = []
    @exclusivity(unchecked) private var registrations: [Registration?] = []
    private var generation: UInt32 = 0
    @exclusivity(unchecked) private var timers = TimerHeap()
    @exclusivity(unchecked) private var dueTimers: [() -> Void] = []
    @exclusivity(unchecked) private var events: [epoll_event]
    private let stopping = Atomic<Bool>(false)
    private let threadID = Atomic<UInt>(0)
    private var tickHooks: [() -> Void] = []

    private struct Registration {
        let handler: any Selectable
        let generation: UInt32
        var interest: Interest
    }

    package init(name: String, clock: any GLBClock = SystemClock(), maxEventsPerTick: Int = 256) throws(SystemError) {
        self.name = name
        self.clock = clock
        epfd = try syscall("epoll_create1") { epoll_create1(CInt(EPOLL_CLOEXEC)) } ?? -1
        do throws(SystemError) {
            wakeFD = try syscall("eventfd") { eventfd(0, CInt(EFD_NONBLOCK | EFD_CLOEXEC)) } ?? -1
        } catch {
            closeDescriptor(epfd)
            throw error
        }
        events = [epoll_event](repeating: epoll_event(), count: maxEventsPerTick)
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = UInt64(UInt32(bitPattern: wakeFD))
        _ = epoll_ctl(epfd, EPOLL_CTL_ADD, wakeFD, &event)
    }

    deinit {
        closeDescriptor(wakeFD)
        closeDescriptor(epfd)
    }

    // MARK: Entry points for any thread

    /// Runs `task` on the loop thread at the next tick. Safe from any thread.
    /// On a loop whose thread has ended for good (`finish()`), `task` runs at once on the
    /// caller's thread instead: there is no loop thread left to race with, and an awaiting
    /// `submit` returns rather than waiting forever.
    package func execute(_ task: @escaping @Sendable () -> Void) {
        let (wasEmpty, late) = inbox.withLock { queue -> (Bool, Bool) in
            if finished.load(ordering: .acquiring) { return (false, true) }
            defer { queue.append(task) }
            return (queue.isEmpty, false)
        }
        if late { task() } else if wasEmpty { wakeUp() }
    }

    /// Marks the loop finished once its thread has returned from `run()` for the last time, and
    /// runs the tasks still queued, here. `EventLoopGroup.shutdown` calls it after the join.
    package func finish() {
        let pending = inbox.withLock { queue in
            finished.store(true, ordering: .releasing)
            defer { queue.removeAll() }
            return queue
        }
        for task in pending { task() }
    }

    /// Interrupts a blocked `epoll_wait`, for example after a manual clock moved.
    package func wakeUp() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    /// Asks `run()` to return after the current tick. Safe from any thread.
    package func stop() {
        stopping.store(true, ordering: .releasing)
        wakeUp()
    }

    /// True on the loop's own thread while `run()` is running.
    package var inLoop: Bool {
        threadID.load(ordering: .relaxed) == UInt(pthread_self())
    }

    // MARK: Loop thread only

    package func assertInLoop(file: StaticString = #fileID, line: UInt = #line) {
        assert(threadID.load(ordering: .relaxed) == 0 || inLoop, "\(name): called off the loop thread", file: file, line: line)
    }

    /// Watches `handler.descriptor` for `interest`. The loop keeps a strong reference until
    /// `deregister`.
    package func register(_ handler: any Selectable, interest: Interest) throws(SystemError) {
        assertInLoop()
        let fd = Int(handler.descriptor)
        if fd >= registrations.count {
            registrations.append(contentsOf: repeatElement(nil, count: fd + 1 - registrations.count))
        }
        generation &+= 1
        registrations[fd] = Registration(handler: handler, generation: generation, interest: interest)
        guard !interest.isEmpty else { return }
        var event = epollEvent(fd: handler.descriptor, generation: generation, interest: interest)
        do throws(SystemError) {
            _ = try syscall("epoll_ctl(ADD)") { epoll_ctl(epfd, EPOLL_CTL_ADD, handler.descriptor, &event) }
        } catch {
            registrations[fd] = nil
            throw error
        }
    }

    /// How many registered descriptors are in the epoll set now (a non-empty interest). For
    /// tests and debugging; loop thread only.
    package var watchedCount: Int {
        assertInLoop()
        return registrations.reduce(0) { $0 + ($1.map { $0.interest.isEmpty ? 0 : 1 } ?? 0) }
    }

    /// Changes what `handler` is watched for; a no-op when it is unchanged. An empty interest
    /// takes the descriptor out of the epoll set until the next non-empty one (see above).
    ///
    /// Returns false when epoll could not take the descriptor back in (EPOLL_CTL_ADD after an
    /// empty interest fails with ENOMEM, or ENOSPC past fs.epoll.max_user_watches): it is then
    /// recorded as watched for nothing, and the caller should close it.
    @discardableResult
    package func setInterest(_ handler: any Selectable, _ interest: Interest) -> Bool {
        assertInLoop()
        let fd = Int(handler.descriptor)
        guard fd < registrations.count, var registration = registrations[fd], registration.interest != interest else { return true }
        let operation = registration.interest.isEmpty ? EPOLL_CTL_ADD : interest.isEmpty ? EPOLL_CTL_DEL : EPOLL_CTL_MOD
        registration.interest = interest
        registrations[fd] = registration
        var event = epollEvent(fd: handler.descriptor, generation: registration.generation, interest: interest)
        guard epoll_ctl(epfd, operation, handler.descriptor, &event) == 0 || operation != EPOLL_CTL_ADD else {
            registrations[fd]?.interest = .none
            return false
        }
        return true
    }

    /// Stops watching `handler`. Call before closing its descriptor.
    ///
    /// `closing: true` promises that the caller closes the descriptor right away, and then
    /// EPOLL_CTL_DEL is skipped: close(2) takes the socket out of the epoll set (epoll(7)), one
    /// syscall less per connection. Should another reference to the socket linger (a fork that
    /// has not exec'd yet: descriptors are CLOEXEC), its events carry this registration's
    /// generation and are dropped as stale, like events for any closed descriptor.
    package func deregister(_ handler: any Selectable, closing: Bool = false) {
        assertInLoop()
        let fd = Int(handler.descriptor)
        guard fd >= 0, fd < registrations.count, let registration = registrations[fd] else { return }
        registrations[fd] = nil
        if !closing, !registration.interest.isEmpty { _ = epoll_ctl(epfd, EPOLL_CTL_DEL, handler.descriptor, nil) }
    }

    /// Stops watching a listener for `duration`, then watches it for reads again if it is still
    /// registered. For an accept that failed for want of descriptors or memory (EMFILE, ENFILE,
    /// ENOBUFS): the connection stays queued and the listener readable, so retrying every tick
    /// would spin, and log, until the shortage ended (nginx pauses accepting the same way).
    package func pauseAccepting(_ listener: any Selectable, for duration: Duration = .milliseconds(100)) {
        setInterest(listener, .none)
        schedule(after: duration) { [weak listener, unowned self] in
            guard let listener else { return }
            let fd = Int(listener.descriptor)
            // Closed meanwhile, or its descriptor now another's: leave it alone.
            guard fd >= 0, fd < self.registrations.count, self.registrations[fd]?.handler === listener else { return }
            self.setInterest(listener, .read)
        }
    }

    /// How many descriptors are registered (besides the wake-up eventfd).
    package var registeredCount: Int { registrations.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    /// Runs `action` on the loop thread once `clock.now >= deadline`.
    @discardableResult
    package func schedule(at deadline: Instant, _ action: @escaping () -> Void) -> TimerID {
        assertInLoop()
        return timers.schedule(at: deadline, action)
    }

    @discardableResult
    package func schedule(after delay: Duration, _ action: @escaping () -> Void) -> TimerID {
        schedule(at: clock.now + delay, action)
    }

    package func cancel(_ timer: TimerID) {
        assertInLoop()
        timers.cancel(timer)
    }

    /// Adds work to run on every tick right after epoll_wait returns and before any event is
    /// dispatched: a new routing snapshot published while the loop slept is then already in
    /// place for the packet that woke it.
    package func addTickHook(_ hook: @escaping () -> Void) {
        assertInLoop()
        tickHooks.append(hook)
    }

    /// Runs ticks until `stop()`. Call from the thread that will own the loop.
    package func run() {
        threadID.store(UInt(pthread_self()), ordering: .relaxed)
        Self.nameThread(name)
        defer { threadID.store(0, ordering: .relaxed) }
        while !stopping.load(ordering: .acquiring) {
            tick(maxWait: nil)
        }
        stopping.store(false, ordering: .relaxed)
    }

    /// Names the calling thread `glb-NAME` (at most 15 bytes, Linux's limit), so `top -H`, `ps -L`,
    /// gdb and perf show which loop or worker a thread is.
    package static func nameThread(_ name: String) {
        cglb_set_thread_name("glb-" + name)
    }

    /// One turn of the loop: wait for I/O at most until the next timer (or `maxWait`), dispatch
    /// events, run due timers, then queued tasks. Tests call this directly with `maxWait: .zero`
    /// and a manual clock to drive a loop step by step.
    package func tick(maxWait: Duration?) {
        let timeoutMS = waitMilliseconds(maxWait: maxWait)
        let ready = events.withUnsafeMutableBufferPointer { buffer in
            cglb_epoll_wait(epfd, buffer.baseAddress, CInt(buffer.count), timeoutMS)
        }
        let now = clock.now
        for hook in tickHooks { hook() }
        if ready > 0 {
            for i in 0..<Int(ready) {
                let event = events[i]
                let fd = Int(UInt32(truncatingIfNeeded: event.data.u64))
                if fd == Int(wakeFD) {
                    var n: UInt64 = 0
                    _ = Glibc.read(wakeFD, &n, 8)
                    continue
                }
                let gen = UInt32(truncatingIfNeeded: event.data.u64 >> 32)
                // Closed (or closed and reused) earlier this tick: the event is stale.
                guard fd < registrations.count, let registration = registrations[fd], registration.generation == gen else { continue }
                let flags = event.events
                if flags & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue | EPOLLRDHUP.rawValue) != 0 {
                    registration.handler.readable(now: now)
                }
                if flags & EPOLLOUT.rawValue != 0,
                   let again = registrations[fd], again.generation == gen, again.interest.contains(.write) {
                    again.handler.writable(now: now)
                }
            }
        }
        // The instant read after epoll_wait, not a fresh one: a timer that came due while events
        // were handled fires on the next tick, whose wait is then zero. One clock read a tick
        // fewer (a vDSO call, ~1% of the proxy's user time under connection churn).
        timers.popDue(now: now, into: &dueTimers)
        for action in dueTimers { action() }
        dueTimers.removeAll(keepingCapacity: true)
        inbox.withLock { swap(&$0, &spare) }
        for task in spare { task() }
        spare.removeAll(keepingCapacity: true)
    }

    private func waitMilliseconds(maxWait: Duration?) -> CInt {
        var wait = maxWait
        if let deadline = timers.nextDeadline() {
            let untilTimer = max(.zero, deadline - clock.now)
            wait = wait.map { min($0, untilTimer) } ?? untilTimer
        }
        guard let wait else { return -1 }
        // Round up so a timer is never woken early and then spun on.
        let (seconds, attoseconds) = wait.components
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return CInt(clamping: ms)
    }

    private func epollEvent(fd: CInt, generation: UInt32, interest: Interest) -> epoll_event {
        var event = epoll_event()
        // EPOLLRDHUP only with EPOLLIN: it stays raised once the peer's FIN is in, so a
        // write-only registration would hear it on every tick (a read then sees the EOF anyway).
        var flags: UInt32 = 0
        if interest.contains(.read) { flags |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if interest.contains(.write) { flags |= EPOLLOUT.rawValue }
        event.events = flags
        event.data.u64 = UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd))
        return event
    }
}
