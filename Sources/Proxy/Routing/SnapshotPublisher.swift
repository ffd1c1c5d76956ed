import Synchronization

/// Hands the newest `RoutingSnapshot` from the control plane to every event loop: gdnsd's RCU swap
/// in Swift (STYLE 9.5). The writer swaps a reference under a mutex and then bumps an atomic
/// generation; each loop calls `refresh` once per tick, which costs one acquiring load when nothing
/// changed and takes the mutex only when something did. The query path never locks.
package final class SnapshotPublisher: Sendable {
    private let current: Mutex<RoutingSnapshot>
    private let latest: Atomic<UInt64>

    /// A publisher holding `initial`.
    package init(_ initial: RoutingSnapshot = .empty) {
        current = Mutex(initial)
        latest = Atomic(initial.generation)
    }

    /// The generation of the last published snapshot.
    package var generation: UInt64 { latest.load(ordering: .acquiring) }

    /// The current snapshot (takes the lock: control plane and tests only).
    package var snapshot: RoutingSnapshot { current.withLock { $0 } }

    /// Publishes `snapshot` unless it is older than the current one (a slow compile finishing after
    /// a newer one must not roll loops back). Returns whether it was published.
    @discardableResult
    package func publish(_ snapshot: RoutingSnapshot) -> Bool {
        let accepted = current.withLock { held -> Bool in
            guard snapshot.generation >= held.generation else { return false }
            held = snapshot
            return true
        }
        // After the swap, so a loop that sees the new generation finds the new snapshot.
        if accepted { latest.store(snapshot.generation, ordering: .releasing) }
        return accepted
    }

    /// Once per loop tick: replaces `cached` if a different generation was published. Returns true
    /// if it did.
    @inline(__always)
    @discardableResult
    package func refresh(_ cached: inout RoutingSnapshot) -> Bool {
        guard latest.load(ordering: .acquiring) != cached.generation else { return false }
        cached = current.withLock { $0 }
        return true
    }
}
