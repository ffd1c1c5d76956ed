import GLBCore
import Testing

@Suite struct HybridLogicalClockTests {
    @Test(arguments: [
        // (wall ms, logical, packed raw value): wall in the high 48 bits, logical in the low 16.
        (0, 0, 0),
        (0, 1, 1),
        (1, 0, 0x1_0000),
        (1, 0xFFFF, 0x1_FFFF),
        (1_767_225_600_000, 7, 1_767_225_600_000 << 16 | 7),
        (-5, 3, 3),                                  // a wall time before the epoch clamps to 0
    ] as [(Int64, UInt16, UInt64)])
    func timestampsPackWallMillisecondsAboveTheLogicalCounter(wall: Int64, logical: UInt16, raw: UInt64) {
        let t = HLCTimestamp(wallMilliseconds: wall, logical: logical)
        #expect(t.rawValue == raw)
        #expect(t.wallMilliseconds == max(0, wall))
        #expect(t.logical == logical)
        #expect(HLCTimestamp(rawValue: raw) == t)
        #expect(t.description == "\(max(0, wall)).\(logical)")
    }

    @Test func timestampsOrderByWallTimeThenLogical() {
        let a = HLCTimestamp(wallMilliseconds: 100, logical: 0xFFFF)
        let b = HLCTimestamp(wallMilliseconds: 101, logical: 0)
        let c = HLCTimestamp(wallMilliseconds: 101, logical: 1)
        #expect(a < b && b < c)
        #expect([c, a, b].sorted() == [a, b, c])
    }

    @Test func tickUsesTheWallClockWhenItMovesForward() {
        var clock = HybridLogicalClock()
        #expect(clock.tick(wallMilliseconds: 100) == HLCTimestamp(wallMilliseconds: 100, logical: 0))
        #expect(clock.tick(wallMilliseconds: 250) == HLCTimestamp(wallMilliseconds: 250, logical: 0))
        #expect(clock.last == HLCTimestamp(wallMilliseconds: 250, logical: 0))
    }

    @Test(arguments: [
        [100, 100, 100, 100],                 // the wall clock stalls
        [100, 90, 80, 0],                     // it goes backwards (NTP step)
        [100, 101, 50, 50, 102, 102, 101],    // both, interleaved with progress
        [-10, -10, 0],                        // before the epoch
    ] as [[Int64]])
    func tickIsStrictlyIncreasingWhateverTheWallClockDoes(walls: [Int64]) {
        var clock = HybridLogicalClock()
        var previous = HLCTimestamp.zero
        var issued: [HLCTimestamp] = []
        for wall in walls {
            let t = clock.tick(wallMilliseconds: wall)
            #expect(t > previous, "tick at wall \(wall) gave \(t) after \(previous)")
            previous = t
            issued.append(t)
        }
        #expect(Set(issued).count == walls.count)
    }

    @Test func aStalledWallClockCountsInTheLogicalField() {
        var clock = HybridLogicalClock()
        _ = clock.tick(wallMilliseconds: 100)     // 100.0
        _ = clock.tick(wallMilliseconds: 100)     // 100.1
        #expect(clock.tick(wallMilliseconds: 99) == HLCTimestamp(wallMilliseconds: 100, logical: 2))
        #expect(clock.tick(wallMilliseconds: 101) == HLCTimestamp(wallMilliseconds: 101, logical: 0), "wall time catches up: logical resets")
    }

    @Test func observingARemoteTimestampAheadOrdersLaterTicksAfterIt() {
        var clock = HybridLogicalClock()
        _ = clock.tick(wallMilliseconds: 100)
        let remote = HLCTimestamp(wallMilliseconds: 5_000, logical: 7)   // a peer whose clock runs ahead
        let merged = clock.observe(remote, wallMilliseconds: 101)
        #expect(merged == HLCTimestamp(wallMilliseconds: 5_000, logical: 8))
        #expect(merged > remote)
        // Our wall clock is still behind the peer's: ticks keep counting after the remote time.
        #expect(clock.tick(wallMilliseconds: 102) == HLCTimestamp(wallMilliseconds: 5_000, logical: 9))
        // Once our wall clock passes it, it takes over again.
        #expect(clock.tick(wallMilliseconds: 5_001) == HLCTimestamp(wallMilliseconds: 5_001, logical: 0))
    }

    @Test(arguments: [
        // (last tick's wall, remote, wall at observe, expected)
        (100, HLCTimestamp(wallMilliseconds: 50, logical: 3), 200, HLCTimestamp(wallMilliseconds: 200, logical: 0)),   // both behind the wall
        (300, HLCTimestamp(wallMilliseconds: 50, logical: 3), 200, HLCTimestamp(wallMilliseconds: 300, logical: 1)),   // local last is highest
        (100, HLCTimestamp(wallMilliseconds: 200, logical: 0), 200, HLCTimestamp(wallMilliseconds: 200, logical: 1)),  // remote ties the wall
    ] as [(Int64, HLCTimestamp, Int64, HLCTimestamp)])
    func observeReturnsMoreThanEverythingItHasSeen(lastWall: Int64, remote: HLCTimestamp, wall: Int64, expected: HLCTimestamp) {
        var clock = HybridLogicalClock()
        let last = clock.tick(wallMilliseconds: lastWall)
        let merged = clock.observe(remote, wallMilliseconds: wall)
        #expect(merged == expected)
        #expect(merged > last && merged > remote)
    }

    @Test func theLogicalCounterCarriesIntoTheNextMillisecondWhenItOverflows() {
        var clock = HybridLogicalClock(last: HLCTimestamp(wallMilliseconds: 100, logical: 0xFFFE))
        #expect(clock.tick(wallMilliseconds: 100) == HLCTimestamp(wallMilliseconds: 100, logical: 0xFFFF))
        // 65,536th event in one millisecond: borrow the next one rather than wrap to 100.0.
        #expect(clock.tick(wallMilliseconds: 100) == HLCTimestamp(wallMilliseconds: 101, logical: 0))
        #expect(clock.tick(wallMilliseconds: 100) == HLCTimestamp(wallMilliseconds: 101, logical: 1))
        var observer = HybridLogicalClock()
        let merged = observer.observe(HLCTimestamp(wallMilliseconds: 7, logical: 0xFFFF), wallMilliseconds: 1)
        #expect(merged == HLCTimestamp(wallMilliseconds: 8, logical: 0))
    }
}
