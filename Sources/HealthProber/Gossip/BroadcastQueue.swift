#if canImport(Glibc)
import Glibc
#endif

/// Messages waiting to be piggy-backed on outgoing packets (SWIM §4.1 "infection-style
/// dissemination"; memberlist `queue.go` `TransmitLimitedQueue`).
///
/// - Each message is sent a bounded number of times, `retransmitMult × ceil(log10(n + 1))` for
///   n members: enough for an epidemic to reach everyone with high probability, and no more.
///   User payloads have their own multiplier: with memberlist's 4 a node sends a payload 4 times
///   in clusters under 10 members, and in `FakeNetwork` floods about one node in a hundred
///   missed a packet's worth of payloads; 8 delivered all of them.
/// - The least-sent messages go first (newest first among equals), so fresh news spreads fast.
/// - A message carries a key (the member it is about, or the user payload's key); a newer one
///   with the same key replaces the older, which is then never sent again.
/// - Membership messages always go before user payloads: user payloads only fill the space
///   membership leaves in a packet, so health gossip can never starve membership.
/// - User payloads are capped at `userCapacity`; beyond it the most-sent are dropped first.
package struct BroadcastQueue: Sendable {
    /// Membership first. Lower raw values are sent first.
    package enum Priority: Int, Sendable, Comparable {
        case membership = 0
        case user = 1
        package static func < (a: Priority, b: Priority) -> Bool { a.rawValue < b.rawValue }
    }

    private struct Item: Sendable {
        let frame: [UInt8]
        let priority: Priority
        var transmits: Int
        let id: UInt64
    }

    package let retransmitMult: Int
    package let userRetransmitMult: Int
    package let userCapacity: Int
    private var items: [String: Item] = [:]
    private var nextID: UInt64 = 0
    private var userCount = 0

    package init(retransmitMult: Int, userRetransmitMult: Int? = nil, userCapacity: Int = 1024) {
        self.retransmitMult = Swift.max(1, retransmitMult)
        self.userRetransmitMult = Swift.max(1, userRetransmitMult ?? retransmitMult)
        self.userCapacity = Swift.max(1, userCapacity)
    }

    /// How many times each message is sent in a cluster of `n` members; at least once.
    package static func retransmitLimit(multiplier: Int, members n: Int) -> Int {
        Swift.max(1, multiplier * Int(ceil(log10(Double(Swift.max(0, n) + 1)))))
    }

    package var count: Int { items.count }
    package func count(_ priority: Priority) -> Int { priority == .user ? userCount : items.count - userCount }
    package func contains(key: String) -> Bool { items[key] != nil }

    /// Queues `frame` under `key`, replacing (and so invalidating) any older message with it.
    package mutating func enqueue(key: String, frame: [UInt8], priority: Priority) {
        nextID += 1
        if let old = items.updateValue(Item(frame: frame, priority: priority, transmits: 0, id: nextID), forKey: key) {
            if old.priority == .user { userCount -= 1 }
        }
        if priority == .user {
            userCount += 1
            if userCount > userCapacity { dropOneUserPayload() }
        }
    }

    /// Takes messages that fit in `budget` bytes (and `maxCount` frames), least-sent first and
    /// membership before user payloads, and counts one transmission for each. Messages that
    /// reach the limit for `members` leave the queue.
    /// `upTo: .membership` leaves user payloads queued (for packets to dead members, which
    /// need to hear what was said about them but not the agent's payloads).
    package mutating func take(budget: Int, maxCount: Int = Int.max, members: Int, upTo lowest: Priority = .user) -> [[UInt8]] {
        guard budget > 0, maxCount > 0, !items.isEmpty else { return [] }
        let membershipLimit = Self.retransmitLimit(multiplier: retransmitMult, members: members)
        let userLimit = Self.retransmitLimit(multiplier: userRetransmitMult, members: members)
        let order = items.sorted { a, b in
            if a.value.priority != b.value.priority { return a.value.priority < b.value.priority }
            if a.value.transmits != b.value.transmits { return a.value.transmits < b.value.transmits }
            return a.value.id > b.value.id
        }
        var room = budget
        var taken: [[UInt8]] = []
        for (key, item) in order {
            guard taken.count < maxCount, item.priority <= lowest else { break }
            guard item.frame.count <= room else { continue }
            room -= item.frame.count
            taken.append(item.frame)
            if item.transmits + 1 >= (item.priority == .user ? userLimit : membershipLimit) {
                items[key] = nil
                if item.priority == .user { userCount -= 1 }
            } else {
                items[key]?.transmits += 1
            }
            if room < GossipCodec.frameOverhead + 4 { break }
        }
        return taken
    }

    package mutating func removeAll() {
        items.removeAll()
        userCount = 0
    }

    private mutating func dropOneUserPayload() {
        var victim: (key: String, transmits: Int, id: UInt64)?
        for (key, item) in items where item.priority == .user {
            if let v = victim, (item.transmits, v.id) < (v.transmits, item.id) { continue }
            victim = (key, item.transmits, item.id)
        }
        if let victim {
            items[victim.key] = nil
            userCount -= 1
        }
    }
}
