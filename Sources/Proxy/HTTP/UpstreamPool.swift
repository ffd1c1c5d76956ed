import GLBCore

/// One loop's idle keep-alive connections to origins, keyed by address and TLS settings (after the keep-alive
/// pools of nginx's `upstream keepalive` and HAProxy's `http-reuse`): most recently used first,
/// so a busy origin reuses a few warm connections and the rest expire.
///
/// A connection enters only after a complete response that allowed keep-alive, with the request
/// fully sent and no byte left over; it leaves when a request takes it, when the origin closes
/// it (it stays registered for reading), or after `idleTimeout`.
struct UpstreamPool {
    private var idle: [UpstreamKey: [UpstreamConnection]] = [:]
    private(set) var count = 0
    let maxPerAddress: Int
    let idleTimeout: Duration

    init(maxPerAddress: Int, idleTimeout: Duration) {
        self.maxPerAddress = maxPerAddress
        self.idleTimeout = idleTimeout
    }

    /// The most recently pooled live connection for `key`, removed from the pool.
    mutating func take(_ key: UpstreamKey) -> UpstreamConnection? {
        guard count > 0 else { return nil }
        while let connection = idle[key]?.popLast() {
            count -= 1
            if !connection.closed { return connection }
        }
        return nil
    }

    /// Pools `connection`; false (and the caller closes it) when the address's share is full.
    mutating func put(_ connection: UpstreamConnection, now: Instant) -> Bool {
        // In place through the default subscript: copying the list out would copy its storage.
        guard idle[connection.key, default: []].count < maxPerAddress else { return false }
        connection.idleSince = now
        idle[connection.key, default: []].append(connection)
        count += 1
        return true
    }

    /// Drops `connection` (it was closed by the origin).
    mutating func remove(_ connection: UpstreamConnection) {
        guard var list = idle[connection.key], let index = list.firstIndex(where: { $0 === connection }) else { return }
        list.remove(at: index)
        idle[connection.key] = list.isEmpty ? nil : list
        count -= 1
    }

    /// Removes and returns the connections idle for `idleTimeout` or longer.
    mutating func expire(now: Instant) -> [UpstreamConnection] {
        guard count > 0 else { return [] }
        var expired: [UpstreamConnection] = []
        for (key, list) in idle {
            let keep = list.filter { now - $0.idleSince < idleTimeout }
            guard keep.count != list.count else { continue }
            expired += list.filter { now - $0.idleSince >= idleTimeout }
            idle[key] = keep.isEmpty ? nil : keep
        }
        count -= expired.count
        return expired
    }

    /// Empties the pool, returning everything in it.
    mutating func removeAll() -> [UpstreamConnection] {
        let all = idle.values.flatMap { $0 }
        idle.removeAll()
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
