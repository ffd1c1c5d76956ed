import GLBCore

/// One loop's idle keep-alive connections to origins, keyed by address and TLS settings (after the keep-alive
/// pools of nginx's `upstream keepalive` and HAProxy's `http-reuse`): most recently used first,
/// so a busy origin reuses a few warm connections and the rest expire.
///
/// A connection enters only after a complete response that allowed keep-alive, with the request
/// fully sent and no byte left over; it leaves when a request takes it, when the origin closes
/// it (it stays registered for reading), or after `idleTimeout`.
///
/// Each key gets a slot, a small integer that stays valid until `epoch` changes: a connection
/// remembers its slot and the loop state caches each endpoint's, so taking and returning a
/// connection index an array instead of hashing the key (a `SocketAddress` plus TLS settings)
/// in a dictionary twice per request, ~2k instructions.
struct UpstreamPool {
    private struct Slot {
        let key: UpstreamKey
        var idle: [UpstreamConnection] = []
    }

    private var slots: [Slot] = []
    private var slotOfKey: [UpstreamKey: Int] = [:]
    private(set) var count = 0
    /// Bumped when slots are renumbered (empty ones dropped): slot numbers from before are stale.
    private(set) var epoch = 0
    let maxPerAddress: Int
    let idleTimeout: Duration

    init(maxPerAddress: Int, idleTimeout: Duration) {
        self.maxPerAddress = maxPerAddress
        self.idleTimeout = idleTimeout
    }

    /// The slot for `key`, made if it has none.
    mutating func slot(for key: UpstreamKey) -> Int {
        if let slot = slotOfKey[key] { return slot }
        slots.append(Slot(key: key))
        slotOfKey[key] = slots.count - 1
        return slots.count - 1
    }

    /// The slot of `key` if `slot` is stale (from an earlier epoch), else `slot`.
    private mutating func validated(_ slot: Int, _ key: UpstreamKey) -> Int {
        if slot >= 0, slot < slots.count, slots[slot].key == key { return slot }
        return self.slot(for: key)
    }

    /// The most recently pooled live connection in `slot`, removed from the pool.
    mutating func take(slot: Int) -> UpstreamConnection? {
        guard count > 0 else { return nil }
        while let connection = slots[slot].idle.popLast() {
            count -= 1
            if !connection.closed { return connection }
        }
        return nil
    }

    /// Pools `connection`; false (and the caller closes it) when the address's share is full.
    mutating func put(_ connection: UpstreamConnection, now: Instant) -> Bool {
        let slot = validated(connection.poolSlot, connection.key)
        connection.poolSlot = slot
        guard slots[slot].idle.count < maxPerAddress else { return false }
        connection.idleSince = now
        slots[slot].idle.append(connection)
        count += 1
        return true
    }

    /// Drops `connection` (it was closed by the origin).
    mutating func remove(_ connection: UpstreamConnection) {
        let slot = validated(connection.poolSlot, connection.key)
        guard let index = slots[slot].idle.firstIndex(where: { $0 === connection }) else { return }
        slots[slot].idle.remove(at: index)
        count -= 1
    }

    /// Removes and returns the connections idle for `idleTimeout` or longer. Also drops empty
    /// slots once they are most of the table (keys of endpoints that left the configuration),
    /// which renumbers the rest and starts a new epoch.
    mutating func expire(now: Instant) -> [UpstreamConnection] {
        var expired: [UpstreamConnection] = []
        if count > 0 {
            for index in slots.indices where !slots[index].idle.isEmpty {
                let list = slots[index].idle
                let keep = list.filter { now - $0.idleSince < idleTimeout }
                guard keep.count != list.count else { continue }
                expired += list.filter { now - $0.idleSince >= idleTimeout }
                slots[index].idle = keep
            }
            count -= expired.count
        }
        let used = slots.reduce(0) { $0 + ($1.idle.isEmpty ? 0 : 1) }
        if slots.count > 64, slots.count > 2 * used {
            slots.removeAll { $0.idle.isEmpty }
            slotOfKey.removeAll(keepingCapacity: true)
            for (index, slot) in slots.enumerated() {
                slotOfKey[slot.key] = index
                for connection in slot.idle { connection.poolSlot = index }
            }
            epoch += 1
        }
        return expired
    }

    /// Empties the pool, returning everything in it.
    mutating func removeAll() -> [UpstreamConnection] {
        let all = slots.flatMap(\.idle)
        for index in slots.indices { slots[index].idle.removeAll() }
        count = 0
        return all
    }
}

/// What a pooled connection is good for: one origin address, spoken to in plain HTTP or with one
/// set of TLS settings (a connection verified for one name must not serve another).
struct UpstreamKey: Hashable {
    let address: SocketAddress
    let tls: UpstreamTLS?
}
