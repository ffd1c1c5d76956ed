import GLBCore

/// Failure detection (SWIM §3-4 with Lifeguard §IV-A) and the periodic gossip round.
extension GossipNode {
    /// Pings the next member in the round-robin order. A suspect gets its suspicion in the same
    /// packet, so it can refute at once (Lifeguard's "buddy system", §IV-C).
    mutating func startProbe(now: Instant, _ out: inout [Outbound]) {
        if let probe { finishFailedProbe(probe, now: now) }
        guard let target = nextProbeTarget(), let record = table[target] else { return }
        seq &+= 1
        stats.probes += 1
        var frames = [GossipCodec.frame(.ping(seq: seq, target: target))]
        if record.member.status == .suspect {
            frames.append(GossipCodec.frame(.suspect(node: target, incarnation: record.member.incarnation, from: name)))
        }
        probe = Probe(seq: seq, target: target, address: record.member.address, sentAt: now,
                      indirectAt: now + awareness.scale(config.probeTimeout),
                      deadline: now + awareness.scale(config.probeInterval))
        send(frames, to: record.member.address, membershipOnly: record.member.status != .alive, &out)
    }

    /// The next live member in `order`; reshuffles the order after each full round.
    private mutating func nextProbeTarget() -> String? {
        var checked = 0
        while checked < order.count {
            if probeIndex >= order.count {
                order.shuffle(using: &rng)
                probeIndex = 0
            }
            let candidate = order[probeIndex]
            probeIndex += 1
            checked += 1
            if let record = table[candidate], !record.member.status.isGone { return candidate }
        }
        return nil
    }

    /// Moves the probe in flight on: to indirect probes after `probeTimeout`, to a suspicion
    /// at the end of the (awareness-scaled) protocol period.
    mutating func advanceProbe(now: Instant, _ out: inout [Outbound]) {
        guard var current = probe else { return }
        if !current.indirect, now >= current.indirectAt {
            current.indirect = true
            let target = current.target
            let helpers = randomMembers(config.indirectChecks) { $0.member.status == .alive && $0.member.name != target }
            current.expectedNacks = helpers.count
            probe = current
            let request = GossipCodec.frame(.pingRequest(seq: current.seq, target: target, address: current.address))
            for helper in helpers { send([request], to: helper.address, &out) }
            if config.tcpFallback {
                reachabilityChecks.append(ReachabilityCheck(seq: current.seq, address: current.address, deadline: current.deadline))
            }
        }
        if now >= current.deadline { finishFailedProbe(current, now: now) }
    }

    /// No ack in time. Lifeguard: if helpers were asked, each missing nack is a sign that this
    /// node, not the target, has a problem; with no helpers any failure counts once.
    private mutating func finishFailedProbe(_ failed: Probe, now: Instant) {
        probe = nil
        stats.failedProbes += 1
        // Reached over TCP: the member is up and only UDP went missing. memberlist logs "network
        // may be misconfigured" and neither suspects nor blames itself; so do we.
        if failed.reachedOverTCP {
            stats.tcpRescues += 1
            return
        }
        let missingNacks = failed.expectedNacks - min(failed.nacks, failed.expectedNacks)
        awareness.apply(delta: failed.expectedNacks > 0 ? missingNacks : 1)
        guard let record = table[failed.target], !record.member.status.isGone else { return }
        suspect(failed.target, incarnation: record.member.incarnation, accuser: name, now: now)
    }

    /// The checks asked for since the last call, for the transport to run.
    package mutating func takeReachabilityChecks() -> [ReachabilityCheck] {
        defer { reachabilityChecks.removeAll() }
        return reachabilityChecks
    }

    /// A reachability check succeeded: the probe with `seq`, if still in flight, will not suspect.
    package mutating func reached(seq: UInt32) {
        if probe?.seq == seq { probe?.reachedOverTCP = true }
    }

    /// Sends nacks for forwarded pings that got no ack within `nackTimeout`, and forgets
    /// forwards after a protocol period.
    mutating func expireForwards(now: Instant, _ out: inout [Outbound]) {
        guard !forwards.isEmpty else { return }
        for key in forwards.keys.sorted() {
            guard var forward = forwards[key] else { continue }
            if now >= forward.expiresAt {
                forwards[key] = nil
            } else if !forward.nackSent, now >= forward.nackAt {
                forward.nackSent = true
                forwards[key] = forward
                send([GossipCodec.frame(.nack(seq: forward.seq))], to: forward.requester, &out)
            }
        }
    }

    /// Sends pending broadcasts to `gossipNodes` random members, including members that died
    /// within `gossipToTheDeadTime` so a member cut off by a partition learns it and refutes.
    mutating func gossip(now: Instant, _ out: inout [Outbound]) {
        guard queue.count > 0 else { return }
        let recentlyGone = config.gossipToTheDeadTime
        let targets = randomMembers(config.gossipNodes) { record in
            !record.member.status.isGone || now - record.since < recentlyGone
        }
        for target in targets {
            guard queue.count > 0 else { return }
            send([], to: target.address, membershipOnly: target.status != .alive, &out)
        }
    }

    // MARK: Messages

    mutating func handle(_ message: GossipMessage, from: SocketAddress, now: Instant, _ out: inout [Outbound]) {
        switch message {
        case .ping(let seq, let target):
            guard target == name else {
                stats.misdirectedPings += 1
                return
            }
            send([GossipCodec.frame(.ack(seq: seq))], to: from, &out)
        case .ack(let seq):
            handleAck(seq, from: from, now: now, &out)
        case .nack(let seq):
            if probe?.seq == seq { probe?.nacks += 1 }
        case .pingRequest(let requestSeq, let target, let address):
            seq &+= 1
            forwards[seq] = Forward(requester: from, seq: requestSeq, nackAt: now + config.nackTimeout,
                                    expiresAt: now + config.probeInterval)
            send([GossipCodec.frame(.ping(seq: seq, target: target))], to: address, &out)
        case .alive(let facts):
            alive(facts, now: now)
        case .suspect(let node, let incarnation, let accuser):
            correctIfStale(node, incarnation: incarnation, from: from)
            suspect(node, incarnation: incarnation, accuser: accuser, now: now)
        case .dead(let node, let incarnation, let accuser):
            correctIfStale(node, incarnation: incarnation, from: from)
            dead(node, incarnation: incarnation, accuser: accuser, left: accuser == node, now: now)
        case .leave(let node, let incarnation):
            dead(node, incarnation: incarnation, accuser: node, left: true, now: now)
        case .user(let user):
            receiveUser(user)
        case .sync(let reply, let entries):
            merge(entries, now: now)
            if reply { sendSync(to: from, reply: false, &out) }
        }
    }

    /// An ack for our probe ends it well; an ack for a forwarded ping goes back to the requester.
    private mutating func handleAck(_ seq: UInt32, from: SocketAddress, now: Instant, _ out: inout [Outbound]) {
        if let current = probe, current.seq == seq {
            probe = nil
            awareness.apply(delta: -1)
            if from == current.address { table[current.target]?.member.rtt = now - current.sentAt }
            return
        }
        if let forward = forwards.removeValue(forKey: seq) {
            send([GossipCodec.frame(.ack(seq: forward.seq))], to: forward.requester, &out)
        }
    }

    /// An accusation (suspect or dead) about `node` at an incarnation below what this node
    /// knows alive means the sender missed a refutation whose retransmits may be spent. Send it
    /// the newer `alive` straight back (not in memberlist, which relies on TCP fallback pings and
    /// push-pull here). When `node` is this node, that is the refutation itself, sent once more
    /// to the member most likely to act on the stale news. Bounded: stale messages are.
    private mutating func correctIfStale(_ node: String, incarnation: UInt32, from sender: SocketAddress) {
        if node == name {
            direct.append((sender, GossipCodec.frame(.alive(localFacts))))
            return
        }
        guard let member = table[node]?.member, member.status == .alive, member.incarnation > incarnation else { return }
        let facts = MemberFacts(name: member.name, region: member.region, address: member.address,
                                incarnation: member.incarnation, metadata: member.metadata)
        direct.append((sender, GossipCodec.frame(.alive(facts))))
    }

    private mutating func receiveUser(_ user: UserPayload) {
        if let seen = userVersions[user.key], !user.isNewer(thanVersion: seen.version, origin: seen.origin) {
            stats.duplicateUserPayloads += 1
            return
        }
        userVersions[user.key] = (user.version, user.origin)
        userClock = max(userClock, user.version)
        queue.enqueue(key: "u/" + user.key, frame: GossipCodec.frame(.user(user)), priority: .user)
        events.append(.user(user))
    }
}
