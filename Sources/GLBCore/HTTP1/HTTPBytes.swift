/// Byte classes and case-insensitive comparison for HTTP/1.1 syntax, without tables or `String`.
///
/// The character classes follow RFC 9110 §5.6.2 (tokens) and §5.5 (field values). Bit masks keep
/// `isTokenByte` to a shift and a test, with no lazily initialised global table to touch.
enum HTTPBytes {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let sp: UInt8 = 0x20
    static let htab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let comma: UInt8 = 0x2C

    /// tchar for bytes 0..<64 and 64..<128: "!#$%&'*+-.^_`|~", DIGIT, ALPHA (RFC 9110 §5.6.2).
    private static let tokenMaskLow: UInt64 = 0x03FF_6CFA_0000_0000
    private static let tokenMaskHigh: UInt64 = 0x57FF_FFFF_C7FF_FFFE

    /// True for a `tchar` (RFC 9110 §5.6.2): the bytes allowed in methods, field names and codings.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        if byte < 64 { return (tokenMaskLow >> UInt64(byte)) & 1 != 0 }
        if byte < 128 { return (tokenMaskHigh >> UInt64(byte - 64)) & 1 != 0 }
        return false
    }

    /// `isTokenByte` as a lookup for 0..<128, '1' for a tchar: the same set as the masks. A
    /// `StaticString` sits in read-only data, so unlike a global array it needs no lazy
    /// initialisation check on each use. Field names are checked with it: one load per byte.
    private static let tokenTable: StaticString =
        "00000000000000000000000000000000010111110011011011111111110000000111111111111111111111111110001111111111111111111111111111101010"

    /// The index of the first byte at or after `start` that is not a `tchar`. There must be one
    /// (the caller's CR, for a head).
    @inline(__always)
    static func endOfToken(_ p: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let table = tokenTable.utf8Start
        var i = start
        while true {
            let byte = p[i]
            guard byte < 128, table[Int(byte)] == 0x31 else { return i }
            i += 1
        }
    }

    /// True for a byte allowed inside a field value: HTAB, SP, VCHAR and obs-text (RFC 9110 §5.5).
    /// Every other control byte, and DEL, is rejected rather than replaced, as §5.5 permits.
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == htab || (byte >= 0x20 && byte != 0x7F)
    }

    /// True for SP or HTAB: optional whitespace (OWS, RFC 9110 §5.6.3).
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == sp || byte == htab }

    /// ASCII lower-case of one byte; other bytes are unchanged.
    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    /// `equalsIgnoringCase` against a literal, without a closure: `StaticString.withUTF8Buffer`
    /// around each comparison cost ~100 instructions per field on the forwarding path.
    @inline(__always)
    static func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard range.count == count else { return false }
        let other = literal.utf8Start
        var i = 0
        var j = range.lowerBound
        while i < count {
            if lower(bytes[j]) != lower(other[i]) { return false }
            i += 1
            j += 1
        }
        return true
    }

    /// Compares `bytes[range]` with `lowercaseName` ignoring ASCII case. `lowercaseName` must
    /// already be lower case (all names GLB looks up are literals written that way, or lowered once).
    @inline(__always)
    static func equalsIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ other: UnsafeBufferPointer<UInt8>) -> Bool {
        guard range.count == other.count else { return false }
        var i = 0
        var j = range.lowerBound
        while i < other.count {
            if lower(bytes[j]) != lower(other[i]) { return false }
            i += 1
            j += 1
        }
        return true
    }

    // MARK: Eight bytes at a time
    //
    // The head scans look for a few byte values in runs of ordinary ones, so they test a word
    // at a time (SWAR): `zeroBytes` flags every zero byte of a word; a borrow can also flag a
    // byte above a real zero, never one below it, so the lowest flag is always exact, and the
    // lowest is all these scans use. Little-endian loads put the first byte lowest.

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    @inline(__always)
    private static func zeroBytes(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }

    @inline(__always)
    private static func word(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(p.baseAddress! + i).loadUnaligned(as: UInt64.self))
    }

    /// The index of the first CR or LF in `p[start..<limit]`, or `limit`.
    @inline(__always)
    static func firstLineBreak(_ p: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int) -> Int {
        var i = start
        while i + 8 <= limit {
            let w = word(p, i)
            let found = zeroBytes(w ^ 0x0D0D_0D0D_0D0D_0D0D) | zeroBytes(w ^ 0x0A0A_0A0A_0A0A_0A0A)
            if found != 0 { return i + found.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < limit, p[i] != cr, p[i] != lf { i += 1 }
        return i
    }

    /// The index of the first control byte (below 0x20, HTAB and CR included) or DEL in
    /// `p[start..<limit]`, or `limit`: where a field value might end or be invalid.
    @inline(__always)
    static func firstControl(_ p: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int) -> Int {
        var i = start
        while i + 8 <= limit {
            let w = word(p, i)
            // Bytes below 0x20: subtracting 0x20 borrows into the high bit only for them (bytes
            // of 0x80 and up have it set in w, so ~w clears them).
            let found = ((w &- 0x2020_2020_2020_2020) & ~w & highs) | zeroBytes(w ^ 0x7F7F_7F7F_7F7F_7F7F)
            if found != 0 { return i + found.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < limit, p[i] >= 0x20, p[i] != 0x7F { i += 1 }
        return i
    }
}
