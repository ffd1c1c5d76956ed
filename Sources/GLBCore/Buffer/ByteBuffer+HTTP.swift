extension ByteBuffer {
    /// Passes the readable bytes to `body` as typed bytes; does not move the reader index.
    ///
    /// Unlike `withUnsafeReadableBytes` this keeps `body`'s typed error (the HTTP parser throws
    /// `HTTPParseError` from inside its scanning loops) instead of widening it to `any Error`.
    @inline(__always)
    func withUnsafeReadableBuffer<R, E: Error>(_ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        let start = readerIndex
        let end = writerIndex
        return try storage.withUnsafeBufferPointer { (all: UnsafeBufferPointer<UInt8>) throws(E) -> R in
            try body(UnsafeBufferPointer(rebasing: all[start..<end]))
        }
    }
}
