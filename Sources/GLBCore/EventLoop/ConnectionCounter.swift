import Synchronization

/// The open connections of one server across all its loops: a cap checked at accept, and a way
/// for shutdown to wait until the last one has closed (or a grace period ends).
///
/// Loops call `admit` and `closed`; the control plane awaits `drained(within:clock:)`.
package final class ConnectionCounter: Sendable {
    private let open = Atomic<Int>(0)
    private let waiters = Mutex<[CheckedContinuation<Void, Never>]>([])

    package init() {}

    /// How many connections are open now.
    package var count: Int { open.load(ordering: .acquiring) }

    /// Counts a new connection, unless `limit` are already open: then it is not counted and the
    /// caller closes it.
    package func admit(limit: Int) -> Bool {
        let now = open.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
        guard now <= limit else {
            closed()
            return false
        }
        return true
    }

    /// Uncounts a connection that was admitted; wakes shutdown when it was the last.
    package func closed() {
        if open.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue == 0 { wake() }
    }

    /// Returns once no connection is open, or after `grace`, whichever comes first.
    package func drained(within grace: Duration, clock: any GLBClock) async {
        guard count > 0 else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.untilZero() }
            group.addTask { try? await clock.sleep(for: grace) }
            await group.next()
            group.cancelAll()
            self.wake()                 // release the zero-waiter if the grace period won
        }
    }

    private func untilZero() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let already = waiters.withLock { waiters -> Bool in
                if open.load(ordering: .acquiring) == 0 { return true }
                waiters.append(done)
                return false
            }
            if already { done.resume() }
        }
    }

    private func wake() {
        let ready = waiters.withLock { w in defer { w.removeAll() }; return w }
        for waiter in ready { waiter.resume() }
    }
}
