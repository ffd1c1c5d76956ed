import GLBCore
import Testing

@Suite struct ByteBufferTests {
    @Test func integersAreWrittenAndReadBigEndian() {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(0x01))
        buffer.writeInteger(UInt16(0x0203))
        buffer.writeInteger(UInt32(0x0405_0607))
        buffer.writeInteger(UInt64(0x0809_0A0B_0C0D_0E0F))
        buffer.writeInteger(Int16(-2))
        #expect(Array(buffer.readableView) == Array(1...15) + [0xFF, 0xFE])   // network order on the wire

        #expect(buffer.getInteger(at: 1, as: UInt16.self) == 0x0203, "get does not consume")
        #expect(buffer.readInteger(as: UInt8.self) == 0x01)
        #expect(buffer.readInteger(as: UInt16.self) == 0x0203)
        #expect(buffer.readInteger(as: UInt32.self) == 0x0405_0607)
        #expect(buffer.readInteger(as: UInt64.self) == 0x0809_0A0B_0C0D_0E0F)
        #expect(buffer.readInteger(as: Int16.self) == -2)
        #expect(buffer.readInteger(as: UInt8.self) == nil)
        #expect(buffer.isEmpty)
    }

    @Test func aShortReadReturnsNilAndConsumesNothing() {
        var buffer = ByteBuffer(bytes: [1, 2, 3])
        #expect(buffer.readInteger(as: UInt32.self) == nil)
        #expect(buffer.readSlice(length: 4) == nil)
        #expect(buffer.readSlice(length: -1) == nil)
        #expect(buffer.readBytes(length: 4) == nil)
        #expect(buffer.readableBytes == 3)
    }

    @Test func readSliceReturnsTheNextBytesAndAdvances() {
        var buffer = ByteBuffer(string: "GET /path")
        #expect(buffer.readSlice(length: 3).map(Array.init) == Array("GET".utf8))
        #expect(buffer.readSlice(length: 0).map(Array.init) == [])
        #expect(buffer.readString(length: 1) == " ")
        #expect(buffer.readerIndex == 4)
        #expect(buffer.readSlice(length: 5).map(Array.init) == Array("/path".utf8))
        #expect(buffer.isEmpty)
    }

    @Test func discardReadBytesMovesTheUnreadBytesToTheFrontAndKeepsCapacity() {
        var buffer = ByteBuffer(capacity: 16)
        buffer.writeBytes(Array(0..<10) as [UInt8])
        _ = buffer.readBytes(length: 4)
        let capacity = buffer.capacity
        #expect(buffer.readerIndex == 4)

        buffer.discardReadBytes()
        #expect(buffer.readerIndex == 0)
        #expect(buffer.writerIndex == 6)
        #expect(Array(buffer.readableView) == [4, 5, 6, 7, 8, 9])
        #expect(buffer.capacity == capacity)
        #expect(buffer.writableBytes == capacity - 6)
        buffer.writeInteger(UInt8(10))
        #expect(buffer.readAll() == [4, 5, 6, 7, 8, 9, 10])
    }

    @Test func consumingEverythingRewindsSoCapacityIsReused() {
        var buffer = ByteBuffer(capacity: 8)
        buffer.writeBytes([1, 2, 3, 4, 5, 6, 7, 8])
        _ = buffer.readAll()
        #expect(buffer.readerIndex == 0 && buffer.writerIndex == 0)
        buffer.writeBytes([9, 9, 9, 9, 9, 9, 9, 9])
        #expect(buffer.capacity == 8, "a drained buffer is written again from the front, not grown")
    }

    @Test(arguments: [
        // (initial capacity, bytes already written, reserve, expected capacity)
        (0, 0, 1, 64),          // at least 64
        (0, 0, 64, 64),
        (0, 0, 65, 128),        // doubling
        (0, 0, 1000, 1024),
        (64, 60, 4, 64),        // already room: unchanged
        (64, 60, 5, 128),       // writer index + count decides, not count alone
        (100, 100, 1, 200),
    ])
    func reserveWritableGrowsByDoubling(initial: Int, written: Int, reserve: Int, expected: Int) {
        var buffer = ByteBuffer(capacity: initial)
        buffer.writeBytes([UInt8](repeating: 7, count: written))
        buffer.reserveWritable(reserve)
        #expect(buffer.capacity == expected)
        #expect(buffer.writableBytes >= reserve)
        #expect(Array(buffer.readableView) == [UInt8](repeating: 7, count: written), "growth keeps the bytes")
    }

    @Test func writesBeyondCapacityGrowTheStorage() {
        var buffer = ByteBuffer()
        for i in 0..<1000 { buffer.writeInteger(UInt32(i)) }
        #expect(buffer.readableBytes == 4000)
        for i in 0..<1000 { #expect(buffer.readInteger(as: UInt32.self) == UInt32(i)) }
    }

    @Test(arguments: [
        // (absolute index, why it is out of range) on a buffer holding bytes 2..<10 (2 already read)
        (0, "before the reader index"),
        (1, "straddles the reader index"),
        (7, "runs past the writer index"),
        (10, "at the writer index"),
        (-4, "negative"),
        (Int.max, "so large that index + size overflows"),
        (Int.min, "most negative"),
    ])
    func getIntegerOutOfRangeIsNil(index: Int, why: String) {
        var buffer = ByteBuffer(bytes: Array(0..<10) as [UInt8])
        _ = buffer.readBytes(length: 2)
        #expect(buffer.getInteger(at: index, as: UInt32.self) == nil, "\(why)")
        #expect(buffer.getInteger(at: 6, as: UInt32.self) == 0x0607_0809, "the last in-range position")
        #expect(buffer.getInteger(at: 2, as: UInt32.self) == 0x0203_0405, "the first in-range position")
    }

    @Test(arguments: [(0, nil), (1, nil), (2, 2), (9, 9), (10, nil), (Int.max, nil), (-1, nil)] as [(Int, UInt8?)])
    func getByteIsNilOutsideTheReadableBytes(index: Int, expected: UInt8?) {
        var buffer = ByteBuffer(bytes: Array(0..<10) as [UInt8])
        _ = buffer.readBytes(length: 2)
        #expect(buffer.getByte(at: index) == expected)
    }

    @Test func buffersCompareByReadableBytesOnly() {
        var a = ByteBuffer(bytes: [0, 0, 1, 2])
        _ = a.readBytes(length: 2)
        #expect(a == ByteBuffer(bytes: [1, 2]))
        #expect(a != ByteBuffer(bytes: [1, 2, 3]))
    }
}
