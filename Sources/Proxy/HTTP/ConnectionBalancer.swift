package import GLBCore
import Synchronization

/// Keeps the loops' shares of client connections level.
///
/// Each loop has its own SO_REUSEPORT listener, and the kernel picks one by a hash of the
/// connection's addresses: a coin toss per connection. Keep-alive connections then stay where
/// they landed, so 64 of them split 36/28 or worse about half the time (a binomial spread), and
/// the busier loop sets the tail latency for the whole run. HAProxy's answer is to hand each
/// accepted connection to the least loaded thread (`tune.listener.multi-queue`). GLB does the
/// same, but only when the accepting loop holds at least `margin` more connections than the
/// lightest one: a hand-off costs a cross-thread task, and churning short connections are
/// spread evenly by the hash on average anyway.
///
/// Counts are per loop, in padded cells: each loop adds and removes its own, and a loop that
/// hands a connection off adds it to the target's count at once, so a burst of accepts cannot
/// pile onto one loop before it has counted them.
package final class ConnectionBalancer: Sendable {
    private let cells: [Cell]
    /// How many loops share the connections.
    var loops: Int { cells.count }
    /// The imbalance, in connections, that makes a loop hand a new connection off.
    let margin: Int
    /// Connections handed to another loop than the one that accepted them.
    let handOffs: Counter

    private final class Cell: Sendable {
        let open = Atomic<Int>(0)
        private let padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0)
    }

    package init(loops: Int, margin: Int = 2, registry: MetricsRegistry) {
        cells = (0..<loops).map { _ in Cell() }
        self.margin = margin
        handOffs = registry.counter("glb_http_connection_handoffs_total",
                                    help: "Client connections handed from the loop that accepted them to a less loaded one.")
    }

    /// The connections open on `loop`.
    package func load(of loop: Int) -> Int { cells[loop].open.load(ordering: .relaxed) }

    /// Where a connection just accepted on `loop` should be served: nil to keep it (and count it
    /// there), or a lighter loop, where it is counted already.
    func place(acceptedOn loop: Int) -> Int? {
        let mine = cells[loop].open.load(ordering: .relaxed)
        var lightest = loop, lightestLoad = mine
        for other in cells.indices where other != loop {
            let load = cells[other].open.load(ordering: .relaxed)
            if load < lightestLoad { (lightest, lightestLoad) = (other, load) }
        }
        guard mine - lightestLoad >= margin else {
            cells[loop].open.wrappingAdd(1, ordering: .relaxed)
            return nil
        }
        cells[lightest].open.wrappingAdd(1, ordering: .relaxed)
        handOffs.increment()
        return lightest
    }

    /// Counts a connection on `loop` without asking where it belongs (before every loop is up).
    func count(on loop: Int) {
        cells[loop].open.wrappingAdd(1, ordering: .relaxed)
    }

    /// A connection counted on `loop` has closed (or was refused after being counted).
    func closed(on loop: Int) {
        cells[loop].open.wrappingSubtract(1, ordering: .relaxed)
    }
}
