import GLBCore

/// The alive → suspect → dead transitions, refutation, state sync and reaping (SWIM §4.2;
/// memberlist `state.go` `aliveNode`, `suspectNode`, `deadNode`, `mergeRemoteState`).
///
/// The rules, for a message about member m at incarnation i:
/// - `alive(i)` wins over anything said at a lower incarnation; a new member joins at once.
/// - `suspect(i)` wins over `alive(i)` and older; `dead(i)` or `leave(i)` over both.
/// - Said about this node: a suspicion or death at an incarnation ≥ ours is refuted by
///   broadcasting `alive` at a higher incarnation (this node alone raises its incarnation).
extension GossipNode {
    mutating func alive(_ facts: MemberFacts, now: Instant) {
        if facts.name == name {
            guard facts.incarnation >= incarnation, facts != localFacts else { return }
            refute(accusedAt: facts.incarnation)
            return
        }
        guard var record = table[facts.name] else {
            let member = GossipMember(name: facts.name, region: facts.region, address: facts.address,
                                      incarnation: facts.incarnation, status: .alive, metadata: facts.metadata)
            table[facts.name] = MemberRecord(member: member, since: now)
            // A random offset, not the end: otherwise a new member would wait up to a whole
            // round to be probed, and detection bounds would grow (memberlist `aliveNode`).
            let offset = Int.random(in: 0...order.count, using: &rng)
            order.insert(facts.name, at: offset)
            if offset < probeIndex { probeIndex += 1 }
            broadcastMembership(.alive(facts), about: facts.name)
            emit(.joined, member)
            return
        }
        // Two live processes claiming one name: keep the one we know until it dies.
        if facts.address != record.member.address, !record.member.status.isGone {
            stats.addressConflicts += 1
            return
        }
        guard facts.incarnation > record.member.incarnation else { return }
        let old = record.member
        record.member.incarnation = facts.incarnation
        record.member.region = facts.region
        record.member.metadata = facts.metadata
        if facts.address != old.address {
            record.member.address = facts.address
            record.member.rtt = nil
        }
        record.member.status = .alive
        record.suspicion = nil
        record.remindAt = nil
        if old.status != .alive { record.since = now }
        table[facts.name] = record
        broadcastMembership(.alive(facts), about: facts.name)
        switch old.status {
        case .dead, .left: emit(.joined, record.member)
        case .suspect: emit(.recovered, record.member)
        case .alive:
            if old.metadata != facts.metadata || old.region != facts.region || old.address != facts.address {
                emit(.updated, record.member)
            }
        }
    }

    /// Starts a Lifeguard suspicion, or counts an independent confirmation of one.
    mutating func suspect(_ node: String, incarnation: UInt32, accuser: String, now: Instant) {
        if node == name {
            if incarnation >= self.incarnation { refute(accusedAt: incarnation) } else { reassertAlive() }
            return
        }
        guard var record = table[node], incarnation >= record.member.incarnation else { return }
        if record.member.status == .suspect, var suspicion = record.suspicion {
            if suspicion.confirm(from: accuser) {
                record.suspicion = suspicion
                table[node] = record
                broadcastMembership(.suspect(node: node, incarnation: incarnation, from: accuser), about: node)
            }
            return
        }
        guard record.member.status == .alive else { return }
        let n = clusterSize
        // k = mult - 2 confirmations drive the timeout to its minimum; a cluster too small to
        // produce them starts at the minimum (memberlist `suspectNode`).
        let expected = n - 2 < config.suspicionMult - 2 ? 0 : config.suspicionMult - 2
        let minimum = Suspicion.baseTimeout(multiplier: config.suspicionMult, members: n, probeInterval: config.probeInterval)
        record.member.incarnation = incarnation
        record.member.status = .suspect
        record.since = now
        record.suspicion = Suspicion(accuser: accuser, expected: expected, min: minimum,
                                     max: minimum * config.suspicionMaxTimeoutMult, start: now)
        table[node] = record
        stats.suspicions += 1
        let accusation = GossipMessage.suspect(node: node, incarnation: incarnation, from: accuser)
        broadcastMembership(accusation, about: node)
        // Lifeguard's buddy system tells a suspect when it is next probed; under heavy loss the
        // awareness multiplier makes probes rare, so tell it now, and again every protocol
        // period while the suspicion lasts (`remindSuspects`).
        direct.append((record.member.address, GossipCodec.frame(accusation)))
        table[node]?.remindAt = now + config.probeInterval
        emit(.suspected, record.member)
    }

    /// Declares `node` dead (or left, when it said goodbye itself).
    mutating func dead(_ node: String, incarnation: UInt32, accuser: String, left: Bool, now: Instant) {
        if node == name {
            guard phase == .running else { return }
            if incarnation >= self.incarnation { refute(accusedAt: incarnation) } else { reassertAlive() }
            return
        }
        guard var record = table[node], incarnation >= record.member.incarnation else { return }
        record.suspicion = nil
        record.remindAt = nil
        guard !record.member.status.isGone else {
            table[node] = record
            return
        }
        record.member.incarnation = incarnation
        record.member.status = left ? .left : .dead
        record.since = now
        table[node] = record
        broadcastMembership(left ? .leave(node: node, incarnation: incarnation)
                                 : .dead(node: node, incarnation: incarnation, from: accuser), about: node)
        emit(left ? .left : .failed, record.member)
    }

    /// Someone says this node is suspect or dead (or knows a newer version of it): raise the
    /// incarnation above theirs and say so. Being accused is also a hint that this node may be
    /// the slow one, so awareness rises (Lifeguard §IV-A).
    mutating func refute(accusedAt accused: UInt32) {
        incarnation = max(incarnation, accused) &+ 1
        awareness.apply(delta: 1)
        stats.refutations += 1
        broadcastMembership(.alive(localFacts), about: name)
    }

    /// An accusation older than our incarnation means its sender missed our refutation, which
    /// may have run out of retransmits: queue our current `alive` again (not in memberlist). The
    /// next packet to the accuser, such as the ack to its buddy-system ping, carries it, so one
    /// lost refutation does not become a false death under heavy loss.
    mutating func reassertAlive() {
        guard !queue.contains(key: "m/" + name) else { return }
        broadcastMembership(.alive(localFacts), about: name)
    }

    /// A suspicion must not be silent: if every packet that carried it was lost, the suspect
    /// never hears it, never refutes, and is declared dead although it is fine (the main cause
    /// of false deaths at 40% loss in `FakeNetwork`, before this). Each protocol period, every
    /// member still suspected hears it again from each node that suspects it; its direct answer
    /// (`correctIfStale`) ends the suspicion.
    mutating func remindSuspects(now: Instant) {
        for node in order {
            guard let record = table[node], record.member.status == .suspect,
                  let due = record.remindAt, now >= due else { continue }
            table[node]?.remindAt = now + config.probeInterval
            let reminder = GossipMessage.suspect(node: node, incarnation: record.member.incarnation, from: name)
            direct.append((record.member.address, GossipCodec.frame(reminder)))
        }
    }

    mutating func expireSuspicions(now: Instant) {
        for node in order {
            guard let record = table[node], record.member.status == .suspect,
                  let suspicion = record.suspicion, now >= suspicion.deadline else { continue }
            dead(node, incarnation: record.member.incarnation, accuser: name, left: false, now: now)
        }
    }

    /// Forgets members that have been dead or left for `reapAfter`.
    mutating func reap(now: Instant) {
        guard table.values.contains(where: { $0.member.status.isGone && now - $0.since >= config.reapAfter }) else { return }
        var kept: [String] = []
        for (index, node) in order.enumerated() {
            if let record = table[node], record.member.status.isGone, now - record.since >= config.reapAfter {
                table[node] = nil
                if index < probeIndex { probeIndex -= 1 }
                emit(.reaped, record.member)
            } else {
                kept.append(node)
            }
        }
        order = kept
    }

    // MARK: State sync

    /// Merges another node's full state. Its suspicions and deaths only start a suspicion
    /// here: the member gets a chance to refute (memberlist `mergeState`).
    mutating func merge(_ entries: [SyncEntry], now: Instant) {
        for entry in entries {
            let facts = entry.facts
            switch entry.status {
            case .alive:
                alive(facts, now: now)
            case .suspect, .dead:
                suspect(facts.name, incarnation: facts.incarnation, accuser: name, now: now)
            case .left:
                if facts.name == name || table[facts.name] != nil {
                    dead(facts.name, incarnation: facts.incarnation, accuser: facts.name, left: true, now: now)
                }
            }
        }
    }

    /// This node's whole view, in as many packets as the budget needs.
    mutating func sendSync(to address: SocketAddress, reply: Bool, _ out: inout [Outbound]) {
        var entries = [SyncEntry(facts: localFacts, status: .alive)]
        for node in order {
            guard let member = table[node]?.member else { continue }
            let facts = MemberFacts(name: member.name, region: member.region, address: member.address,
                                    incarnation: member.incarnation, metadata: member.metadata)
            entries.append(SyncEntry(facts: facts, status: member.status))
        }
        // Frame: type, length, reply flag and count; then per entry a status byte and facts.
        let room = config.packetBudget - GossipCodec.headerBytes - GossipCodec.frameOverhead - 2
        var chunk: [SyncEntry] = [], used = 0, first = true
        func flush(_ node: inout GossipNode) {
            node.send([GossipCodec.frame(.sync(reply: reply && first, entries: chunk))], to: address, &out)
            chunk.removeAll()
            used = 0
            first = false
        }
        for entry in entries {
            let size = 1 + Self.encodedSize(of: entry.facts)
            if !chunk.isEmpty, used + size > room || chunk.count == 255 { flush(&self) }
            chunk.append(entry)
            used += size
        }
        if !chunk.isEmpty { flush(&self) }
    }

    /// Anti-entropy: a full exchange with one random live member.
    mutating func pushSync(_ out: inout [Outbound]) {
        guard let peer = randomMembers(1, where: { $0.member.status == .alive }).first else { return }
        sendSync(to: peer.address, reply: true, &out)
    }

    /// Heals a partition (serf's reconnect; memberlist push-pulls for the same reason): a member
    /// declared dead may be alive on the other side of a cut that has healed, and once the
    /// broadcasts about it are spent nothing else would ever reach it. So every
    /// `joinRetryInterval`, while some member is dead and not yet reaped, one of them at random
    /// gets this node's full state and is asked for its own. On the far side that state says it
    /// is dead, which it refutes at a higher incarnation; its reply says the same of us, which
    /// we refute in turn, and both sides are whole again within a few rounds.
    mutating func reconnect(_ out: inout [Outbound]) {
        guard let failed = randomMembers(1, where: { $0.member.status == .dead }).first else { return }
        stats.reconnects += 1
        sendSync(to: failed.address, reply: true, &out)
    }

    /// With live peers, a seed that is none of them (it was reaped after a partition longer than
    /// `reapAfter`, or never answered) still gets a hello at every periodic sync: the partition
    /// outlasting the reconnect window must heal too, from the side that knows the seed.
    mutating func helloToAbsentSeeds(_ out: inout [Outbound]) {
        guard !seeds.isEmpty, hasLivePeers else { return }
        let live = Set(table.values.filter { $0.member.status == .alive }.map(\.member.address))
        let hello = GossipCodec.frame(.sync(reply: true, entries: [SyncEntry(facts: localFacts, status: .alive)]))
        for seed in seeds where !live.contains(seed) { send([hello], to: seed, &out) }
    }

    /// While no live peer is known, sends this node's state to every seed and asks for theirs.
    mutating func retryJoin(now: Instant, _ out: inout [Outbound]) {
        guard !seeds.isEmpty, !hasLivePeers, let due = timers.join, now >= due else { return }
        timers.join = now + config.joinRetryInterval
        let hello = GossipCodec.frame(.sync(reply: true, entries: [SyncEntry(facts: localFacts, status: .alive)]))
        for seed in seeds { send([hello], to: seed, &out) }
    }

    static func encodedSize(of facts: MemberFacts) -> Int {
        let address = 1 + (facts.address.ip.isIPv4 ? 4 : 16) + 2
        return 1 + min(255, facts.name.utf8.count) + 1 + min(255, facts.region.utf8.count) + address + 4 + 2 + facts.metadata.count
    }
}
