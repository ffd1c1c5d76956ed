import Synchronization

/// The open connections of one server across all its loops: a cap checked at accept, and a way
/// for shutdown to wait until the last one has closed (or a grace period ends).
///
/// Loops call `admit` and `closed`; the control plane awaits `drained(within:clock:)`.
package final class ConnectionCounter: Sendable {
    private let open = Atomic<Int>(0)
    /// Shutdown tasks parked until the count reaches zero, by ticket.
    private let waiters = Mutex<(next: UInt64, parked: [UInt64: CheckedContinuation<Void, Never>])>((0, [:]))

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
    ///
    /// The loser of the two is cancelled, and a cancelled zero-waiter resumes at once, even if
    /// it had not parked yet: a waiter that parked after the grace period's wake-up would hold
    /// the task group, and shutdown, forever. That happened with `grace: .zero` when the waiter's
    /// thread was preempted between starting and parking (ManualClock's sleep has the same shape).
    package func drained(within grace: Duration, clock: any GLBClock) async {
        guard count > 0 else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.untilZero() }
            group.addTask { try? await clock.sleep(for: grace) }
            await group.next()
            group.cancelAll()
        }
    }

    private func untilZero() async {
        let ticket = waiters.withLock { waiters in
            waiters.next += 1
            return waiters.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let resumeNow = waiters.withLock { waiters -> Bool in
                    if open.load(ordering: .acquiring) == 0 || Task.isCancelled { return true }
                    waiters.parked[ticket] = done
                    return false
                }
                if resumeNow { done.resume() }
            }
        } onCancel: {
            waiters.withLock { $0.parked.removeValue(forKey: ticket) }?.resume()
        }
    }

    private func wake() {
        let ready = waiters.withLock { waiters in
            defer { waiters.parked.removeAll() }
            return waiters.parked.values
        }
        for waiter in ready { waiter.resume() }
    }
}
