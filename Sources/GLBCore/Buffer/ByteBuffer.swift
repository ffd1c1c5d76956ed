/// A growable byte buffer with separate read and write positions, after SwiftNIO's `ByteBuffer`.
///
///     +-------------------+------------------+------------------+
///     | discardable bytes |  readable bytes  |  writable bytes  |
///     +-------------------+------------------+------------------+
///     0      <=      readerIndex   <=   writerIndex    <=    capacity
///
/// `read*` consumes from the reader index; `get*` is random access and returns nil out of range;
/// `write*` appends at the writer index, growing the storage when needed. Loops keep one buffer per
/// connection and reuse its capacity: `discardReadBytes()` moves the unread tail to the front
/// instead of allocating.
///
/// Why `public` in an executable: the hot accessors and the write path are `@inlinable`, so that
/// callers in other modules (the proxy's head rewriter writes a head a few bytes at a time) get
/// them specialised and inlined. With Swift 6.3 and SwiftPM's default CMO, a `package`
/// `@inlinable` body is *not* inlined or specialised in another module (measured: every
/// `writeInteger(UInt8)` from `Proxy` stayed an unspecialised generic call, ~100 instructions
/// each); a `public` one is. Everything else stays `package`.
public struct ByteBuffer: Sendable, Equatable {
    @usableFromInline package internal(set) var storage: [UInt8]
    @usableFromInline package internal(set) var readerIndex: Int = 0
    @usableFromInline package internal(set) var writerIndex: Int = 0

    package init(capacity: Int = 0) {
        storage = [UInt8](repeating: 0, count: capacity)
    }

    package init(bytes: some Sequence<UInt8>) {
        storage = Array(bytes)
        writerIndex = storage.count
    }

    package init(string: String) {
        self.init(bytes: string.utf8)
    }

    @inlinable public var capacity: Int { storage.count }
    @inlinable public var readableBytes: Int { writerIndex - readerIndex }
    @inlinable public var writableBytes: Int { storage.count - writerIndex }
    @inlinable public var isEmpty: Bool { readerIndex == writerIndex }

    /// The readable bytes as an array slice. Slicing shares storage: no copy until one side writes.
    @inlinable
    public var readableView: ArraySlice<UInt8> { storage[readerIndex..<writerIndex] }

    // MARK: Writing

    /// Makes room for at least `count` more bytes, doubling so appends stay amortised O(1).
    @inlinable
    public mutating func reserveWritable(_ count: Int) {
        guard writableBytes < count else { return }
        growWritable(count)
    }

    /// The slow half of `reserveWritable`, out of line.
    @usableFromInline
    mutating func growWritable(_ count: Int) {
        if readerIndex > 0, readerIndex == writerIndex {
            readerIndex = 0
            writerIndex = 0
            if storage.count >= count { return }
        }
        let needed = writerIndex + count
        var newCapacity = Swift.max(storage.count, 64)
        while newCapacity < needed { newCapacity *= 2 }
        // New space is left uninitialised rather than zero-filled (appending zeros went a byte
        // at a time: ~1k instructions for the 4 KiB a new connection reads into). Nothing reads
        // past `writerIndex`, and UInt8 needs no initialisation to be valid.
        let keep = writerIndex
        storage = storage.withUnsafeBufferPointer { old in
            [UInt8](unsafeUninitializedCapacity: newCapacity) { new, initialized in
                if keep > 0 { new.baseAddress!.initialize(from: old.baseAddress!, count: keep) }
                initialized = newCapacity
            }
        }
    }

    /// Appends `bytes`: one `memcpy` for contiguous collections (arrays, slices, buffers).
    @inlinable
    public mutating func writeBytes(_ bytes: some Collection<UInt8>) {
        let count = bytes.count
        reserveWritable(count)
        let start = writerIndex
        storage.withUnsafeMutableBufferPointer { dst in
            let copied: Void? = bytes.withContiguousStorageIfAvailable { src in
                guard let from = src.baseAddress, src.count > 0 else { return }
                (dst.baseAddress! + start).update(from: from, count: src.count)
            }
            if copied == nil {
                _ = UnsafeMutableBufferPointer(rebasing: dst[start..<(start + count)]).initialize(from: bytes)
            }
        }
        writerIndex += count
    }

    package mutating func writeString(_ string: String) {
        var string = string
        string.withUTF8 { writeBytes($0) }
    }

    @inlinable
    public mutating func writeInteger<T: FixedWidthInteger>(_ value: T) {
        let size = MemoryLayout<T>.size
        reserveWritable(size)
        let bigEndian = value.bigEndian
        storage.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: bigEndian, toByteOffset: writerIndex, as: T.self)
        }
        writerIndex += size
    }

    /// Lets `body` fill the writable region (for example with `read(2)`), then advances the writer
    /// index by what it returned. Call `reserveWritable` first to choose the region's size.
    package mutating func writeWithUnsafeMutableBytes(_ body: (UnsafeMutableRawBufferPointer) throws(SystemError) -> Int) throws(SystemError) -> Int {
        let start = writerIndex
        // withUnsafeMutableBytes only rethrows untyped errors, so carry the typed one out in a Result.
        let result: Result<Int, SystemError> = storage.withUnsafeMutableBytes { raw in
            do throws(SystemError) {
                return .success(try body(UnsafeMutableRawBufferPointer(rebasing: raw[start...])))
            } catch {
                return .failure(error)
            }
        }
        let written = try result.get()
        precondition(written >= 0 && written <= storage.count - start, "wrote outside the buffer")
        writerIndex += written
        return written
    }

    // MARK: Reading

    /// Passes the readable bytes to `body`; does not move the reader index.
    package func withUnsafeReadableBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[readerIndex..<writerIndex]))
        }
    }

    @inlinable
    public mutating func moveReaderIndex(forwardBy count: Int) {
        precondition(count >= 0 && count <= readableBytes, "reader index beyond writer index")
        readerIndex += count
        if readerIndex == writerIndex {
            readerIndex = 0
            writerIndex = 0
        }
    }

    package mutating func readBytes(length: Int) -> [UInt8]? {
        guard length >= 0, length <= readableBytes else { return nil }
        let bytes = Array(storage[readerIndex..<(readerIndex + length)])
        moveReaderIndex(forwardBy: length)
        return bytes
    }

    package mutating func readSlice(length: Int) -> ArraySlice<UInt8>? {
        guard length >= 0, length <= readableBytes else { return nil }
        let slice = storage[readerIndex..<(readerIndex + length)]
        moveReaderIndex(forwardBy: length)
        return slice
    }

    package mutating func readInteger<T: FixedWidthInteger>(as: T.Type = T.self) -> T? {
        guard let value = getInteger(at: readerIndex, as: T.self) else { return nil }
        moveReaderIndex(forwardBy: MemoryLayout<T>.size)
        return value
    }

    package mutating func readString(length: Int) -> String? {
        guard let bytes = readSlice(length: length) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Consumes everything readable.
    package mutating func readAll() -> [UInt8] {
        readBytes(length: readableBytes) ?? []
    }

    /// Random access: the byte at absolute `index`, or nil if it is not readable.
    @inlinable
    public func getByte(at index: Int) -> UInt8? {
        guard index >= readerIndex, index < writerIndex else { return nil }
        return storage[index]
    }

    package func getInteger<T: FixedWidthInteger>(at index: Int, as: T.Type = T.self) -> T? {
        let size = MemoryLayout<T>.size
        // `index <= writerIndex - size`, not `index + size <= writerIndex`: a huge index (from a
        // length field on the wire) must give nil, not trap on overflow.
        guard index >= readerIndex, index <= writerIndex - size else { return nil }
        return storage.withUnsafeBytes { raw in
            T(bigEndian: raw.loadUnaligned(fromByteOffset: index, as: T.self))
        }
    }

    /// Moves the unread bytes to the front so their capacity can be written again.
    package mutating func discardReadBytes() {
        guard readerIndex > 0 else { return }
        let count = readableBytes
        if count > 0 {
            storage.withUnsafeMutableBytes { raw in
                raw.baseAddress!.copyMemory(from: raw.baseAddress! + readerIndex, byteCount: count)
            }
        }
        readerIndex = 0
        writerIndex = count
    }

    /// Forgets every byte, keeping the capacity.
    @inlinable
    public mutating func clear() {
        readerIndex = 0
        writerIndex = 0
    }

    public static func == (a: ByteBuffer, b: ByteBuffer) -> Bool { a.readableView == b.readableView }
}
