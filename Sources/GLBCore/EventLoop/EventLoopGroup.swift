import CGLBLinux
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// N event loops, each on its own thread (about one per core, docs/architecture.md "Data flow").
///
/// The group owns the threads: `start()` spawns them, `shutdown()` stops every loop and joins its
/// thread, so no loop outlives the agent.
package final class EventLoopGroup: Sendable {
    package let loops: [EventLoop]
    private let threads = Mutex<[SystemThread]>([])
    private let cursor = Atomic<Int>(0)
    /// The scheduler niceness of the loops' threads (setpriority(2); 0 is the process's own).
    private let niceness: CInt

    /// - Parameter niceness: above 0 for work that must yield the CPU to the data plane when
    ///   both want it (the control loop: admin API and push-pull), as nice(1) would per thread.
    package init(count: Int, name: String = "loop", clock: any GLBClock = SystemClock(), niceness: CInt = 0) throws(SystemError) {
        var loops: [EventLoop] = []
        for i in 0..<max(1, count) { loops.append(try EventLoop(name: "\(name)-\(i)", clock: clock)) }
        self.loops = loops
        self.niceness = niceness
    }

    /// The number of loops a node runs by default: one per online CPU.
    package static var defaultCount: Int { max(1, Int(sysconf(CInt(_SC_NPROCESSORS_ONLN)))) }

    /// Round-robin choice, for work that any loop may take.
    package func next() -> EventLoop {
        loops[cursor.wrappingAdd(1, ordering: .relaxed).oldValue % loops.count]
    }

    /// Starts one thread per loop.
    package func start() {
        threads.withLock { threads in
            guard threads.isEmpty else { return }
            for loop in loops {
                let niceness = niceness
                do {
                    threads.append(try SystemThread {
                        // Linux: a thread's nice value is its own (setpriority with its tid).
                        if niceness != 0 { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(cglb_gettid()), niceness) }
                        loop.run()
                    })
                } catch {
                    preconditionFailure("cannot start the thread of \(loop.name): \(error)")
                }
            }
        }
    }

    /// Runs `body` on every loop and returns once all have run it.
    package func onEveryLoop(_ body: @escaping @Sendable (EventLoop) -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            for loop in loops {
                group.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        loop.execute {
                            body(loop)
                            done.resume()
                        }
                    }
                }
            }
        }
    }

    /// Stops every loop, joins its thread, and finishes it (`EventLoop.finish`). Idempotent.
    package func shutdown() {
        let joined: [SystemThread] = threads.withLock { threads in
            defer { threads.removeAll() }
            return threads
        }
        for loop in loops { loop.stop() }
        for thread in joined { thread.join() }
        // Tasks queued too late for a tick run here, and later ones on their caller's thread, so
        // no `submit` or `LoopBound.run` waits forever on a loop that is gone.
        if !joined.isEmpty { for loop in loops { loop.finish() } }
    }
}
