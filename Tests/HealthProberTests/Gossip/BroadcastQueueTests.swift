import HealthProber
import Testing

/// memberlist `queue_test.go`, in the shapes GLB needs.
@Suite struct BroadcastQueueTests {
    static func frame(_ tag: UInt8, size: Int = 10) -> [UInt8] { [UInt8](repeating: tag, count: size) }

    @Test(arguments: [(0, 1), (1, 4), (9, 4), (10, 8), (99, 8), (100, 12)])
    func retransmitLimitIsMultTimesCeilLog10(members: Int, limit: Int) {
        #expect(BroadcastQueue.retransmitLimit(multiplier: 4, members: members) == limit)
    }

    @Test func eachMessageIsSentExactlyLimitTimes() {
        var q = BroadcastQueue(retransmitMult: 2)
        q.enqueue(key: "m/a", frame: Self.frame(1), priority: .membership)
        var sent = 0
        while q.count > 0 { sent += q.take(budget: 100, members: 5).count }
        #expect(sent == 2)
    }

    @Test func leastSentGoFirstAndNewestAmongEquals() {
        var q = BroadcastQueue(retransmitMult: 3)
        q.enqueue(key: "m/a", frame: Self.frame(1), priority: .membership)
        #expect(q.take(budget: 10, members: 5) == [Self.frame(1)])
        q.enqueue(key: "m/b", frame: Self.frame(2), priority: .membership)
        q.enqueue(key: "m/c", frame: Self.frame(3), priority: .membership)
        #expect(q.take(budget: 30, members: 5) == [Self.frame(3), Self.frame(2), Self.frame(1)])
    }

    @Test func aNewerMessageWithTheSameKeyInvalidatesTheOlder() {
        var q = BroadcastQueue(retransmitMult: 3)
        q.enqueue(key: "m/a", frame: Self.frame(1), priority: .membership)
        q.enqueue(key: "m/a", frame: Self.frame(2), priority: .membership)
        #expect(q.count == 1)
        #expect(q.take(budget: 100, members: 5) == [Self.frame(2)])
    }

    @Test func membershipAlwaysGoesBeforeUserPayloads() {
        var q = BroadcastQueue(retransmitMult: 3)
        for i in 0..<50 { q.enqueue(key: "u/\(i)", frame: Self.frame(UInt8(i), size: 100), priority: .user) }
        q.enqueue(key: "m/a", frame: Self.frame(200, size: 100), priority: .membership)
        let first = q.take(budget: 100, members: 5)
        #expect(first == [Self.frame(200, size: 100)], "a packet with room for one message carries the membership one")
        let second = q.take(budget: 1000, members: 5)
        #expect(second.first == Self.frame(200, size: 100) && second.count == 10)
        #expect(q.take(budget: 1000, members: 5, upTo: .membership) == [Self.frame(200, size: 100)])
    }

    @Test func smallerMessagesFillTheRemainingRoom() {
        var q = BroadcastQueue(retransmitMult: 3)
        q.enqueue(key: "m/big", frame: Self.frame(1, size: 80), priority: .membership)
        q.enqueue(key: "m/small", frame: Self.frame(2, size: 10), priority: .membership)
        q.enqueue(key: "m/huge", frame: Self.frame(3, size: 200), priority: .membership)
        #expect(q.take(budget: 95, members: 5) == [Self.frame(2, size: 10), Self.frame(1, size: 80)])
    }

    @Test func userPayloadsBeyondCapacityDropTheMostSent() {
        var q = BroadcastQueue(retransmitMult: 5, userCapacity: 2)
        q.enqueue(key: "u/old", frame: Self.frame(1), priority: .user)
        _ = q.take(budget: 10, members: 5)
        q.enqueue(key: "u/b", frame: Self.frame(2), priority: .user)
        q.enqueue(key: "u/c", frame: Self.frame(3), priority: .user)
        #expect(q.count(.user) == 2)
        #expect(!q.contains(key: "u/old"))
    }
}
