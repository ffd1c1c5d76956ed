/// Reads data fields of one section of a MaxMind DB file (the data section, or the metadata),
/// bounds-checked at every byte (MaxMind-DB-spec.md, "Output Data Section" and "Data Field
/// Format"). A value type over borrowed bytes: the owner (`GeoDatabase`) keeps them mapped.
///
///     control byte  TTTSSSSS   T: type 1-7, or 0 = extended (next byte + 7)
///                              S: size < 29, or 29/30/31 = 29 / 285 / 65,821 + the next 1/2/3 bytes
///     pointer       001SSVVV   SS = 0..3 selects 1-4 more bytes (+0 / 2048 / 526,336 / 0)
///
/// Two ways in: `decode` builds an `MMDBValue` (tests, metadata, `glb explain`); `value(in:key:)`,
/// `code(at:)` and `double(at:)` walk maps in place, comparing key bytes to static strings, for the
/// data path, which must not allocate.
///
/// Termination on hostile input: `skip` never follows pointers and every field consumes at least
/// one in-bounds byte; `decode` follows pointers but counts nesting (`maxDepth`) and values
/// (`maxValues`), so a map that points at itself, or a pointer DAG that doubles at every level,
/// ends in `.tooDeep` instead of a stack overflow or an exponential walk.
package struct MMDBDecoder {
    /// The whole file.
    let bytes: UnsafeRawBufferPointer
    /// Where the section starts: pointers count from here.
    let start: Int
    /// One past its last byte.
    let end: Int

    /// Deepest map/array nesting `decode` and `skip` accept. MaxMind's own databases nest four
    /// levels; libmaxminddb stops at 512. 64 is ample and keeps recursion shallow.
    static let maxDepth = 64
    /// Most values one `decode` may produce, pointers followed.
    static let maxValues = 1 << 20

    /// Type numbers (spec). Append only; values are in the file format.
    enum Kind {
        static let pointer: UInt8 = 1, string: UInt8 = 2, double: UInt8 = 3, bytes: UInt8 = 4, uint16: UInt8 = 5
        static let uint32: UInt8 = 6, map: UInt8 = 7, int32: UInt8 = 8, uint64: UInt8 = 9, uint128: UInt8 = 10
        static let array: UInt8 = 11, container: UInt8 = 12, endMarker: UInt8 = 13, bool: UInt8 = 14, float: UInt8 = 15
    }

    /// A decoded control byte: for a pointer, `size` is the target (relative to `start`) and
    /// `payload` the offset after the pointer; otherwise `payload` is where the payload starts.
    struct Field {
        var type: UInt8
        var size: Int
        var payload: Int
    }

    /// A decoder for `bytes[start..<end]`.
    init(bytes: UnsafeRawBufferPointer, start: Int, end: Int) {
        self.bytes = bytes
        self.start = start
        self.end = min(end, bytes.count)
    }

    @inline(__always)
    private func byte(_ offset: Int) throws(MMDBError) -> Int {
        guard offset >= start, offset < end else { throw .dataOutOfBounds(offset: offset) }
        return Int(bytes[offset])
    }

    @inline(__always)
    private func bigEndian(_ offset: Int, count: Int) throws(MMDBError) -> Int {
        guard offset >= start, count >= 0, offset + count <= end else { throw .dataOutOfBounds(offset: offset) }
        var value = 0
        var k = 0
        while k < count { value = value << 8 | Int(bytes[offset + k]); k += 1 }
        return value
    }

    /// The control byte(s) at `offset`.
    @inline(__always)
    func field(at offset: Int) throws(MMDBError) -> Field {
        let control = try byte(offset)
        var type = UInt8(control >> 5)
        var cursor = offset + 1
        if type == Kind.pointer {
            let extra = (control >> 3) & 3
            let low = control & 7
            let next = try bigEndian(cursor, count: extra + 1)
            let target: Int
            switch extra {
            case 0: target = low << 8 | next
            case 1: target = 2048 + (low << 16 | next)
            case 2: target = 526_336 + (low << 24 | next)
            default: target = next                    // the three low bits are ignored
            }
            return Field(type: Kind.pointer, size: target, payload: cursor + extra + 1)
        }
        if type == 0 {
            let extended = try byte(cursor)
            cursor += 1
            // An extended type is 8...15: "the type number in the second byte is the number minus 7".
            guard (1...8).contains(extended) else { throw .badType(type: UInt8(truncatingIfNeeded: extended + 7), offset: offset) }
            type = UInt8(extended + 7)
        }
        var size = control & 0x1F
        if size >= 29 {
            let count = size - 28
            let base = count == 1 ? 29 : count == 2 ? 285 : 65_821
            size = base + (try bigEndian(cursor, count: count))
            cursor += count
        }
        return Field(type: type, size: size, payload: cursor)
    }

    /// The field at `offset`, or the one it points at: pointers are followed once ("It is illegal
    /// for a pointer to point to another pointer"). `next` is the offset after the field at
    /// `offset` for scalars and pointers; for an inline map or array it is its payload start.
    @inline(__always)
    func resolved(at offset: Int) throws(MMDBError) -> (field: Field, next: Int) {
        let f = try field(at: offset)
        guard f.type == Kind.pointer else { return (f, f.payload) }
        let target = start + f.size
        guard target < end else { throw .dataOutOfBounds(offset: offset) }
        let t = try field(at: target)
        guard t.type != Kind.pointer else { throw .pointerToPointer(offset: offset) }
        return (t, f.payload)
    }

    /// The offset just past the field at `offset`, children included; pointers count as their own
    /// bytes and are not followed.
    func skip(_ offset: Int, depth: Int = 0) throws(MMDBError) -> Int {
        guard depth <= Self.maxDepth else { throw .tooDeep(offset: offset) }
        let f = try field(at: offset)
        switch f.type {
        case Kind.pointer:
            return f.payload
        case Kind.map:
            var cursor = f.payload
            for _ in 0..<f.size {
                cursor = try skip(cursor, depth: depth + 1)
                cursor = try skip(cursor, depth: depth + 1)
            }
            return cursor
        case Kind.array:
            var cursor = f.payload
            for _ in 0..<f.size { cursor = try skip(cursor, depth: depth + 1) }
            return cursor
        case Kind.bool, Kind.endMarker:
            return f.payload
        default:
            try checkSize(f, at: offset)
            guard f.payload + f.size <= end else { throw .dataOutOfBounds(offset: offset) }
            return f.payload + f.size
        }
    }

    /// Rejects sizes a fixed-width type cannot have.
    @inline(__always)
    private func checkSize(_ f: Field, at offset: Int) throws(MMDBError) {
        let ok: Bool
        switch f.type {
        case Kind.double: ok = f.size == 8
        case Kind.float: ok = f.size == 4
        case Kind.uint16: ok = f.size <= 2
        case Kind.uint32, Kind.int32: ok = f.size <= 4
        case Kind.uint64: ok = f.size <= 8
        case Kind.uint128: ok = f.size <= 16
        case Kind.bool: ok = f.size <= 1
        case Kind.endMarker: ok = f.size == 0
        default: ok = true
        }
        guard ok else { throw .badSize(type: f.type, size: f.size, offset: offset) }
    }

    // MARK: - In place, for the data path

    /// The offset of the value under `key` in the map at `offset` (following a pointer to the
    /// map), or nil when the map has no such key or the field is not a map. Allocates nothing.
    func value(inMapAt offset: Int, key: StaticString) throws(MMDBError) -> Int? {
        let (map, _) = try resolved(at: offset)
        guard map.type == Kind.map else { return nil }
        var cursor = map.payload
        for _ in 0..<map.size {
            let (k, afterKey) = try resolved(at: cursor)
            guard k.type == Kind.string else { throw .badType(type: k.type, offset: cursor) }
            guard k.payload + k.size <= end else { throw .dataOutOfBounds(offset: cursor) }
            // A key that is itself a pointer ends after the pointer, not after the string.
            let valueOffset = try keyEnd(cursor, afterKey, k)
            if equals(k, key) { return valueOffset }
            cursor = try skip(valueOffset, depth: 1)
        }
        return nil
    }

    /// The top-level keys `GeoDatabase.location` cares about.
    enum LocationKey { case country, registeredCountry, continent, location, other }

    /// The map key at `cursor` (a string or a pointer to one), classified, and where its value
    /// starts.
    @inline(__always)
    func key(at cursor: Int) throws(MMDBError) -> (LocationKey, valueOffset: Int) {
        let (k, afterKey) = try resolved(at: cursor)
        guard k.type == Kind.string else { throw .badType(type: k.type, offset: cursor) }
        guard k.payload + k.size <= end else { throw .dataOutOfBounds(offset: cursor) }
        let valueOffset = try keyEnd(cursor, afterKey, k)
        let name: LocationKey
        if equals(k, "country") { name = .country }
        else if equals(k, "continent") { name = .continent }
        else if equals(k, "location") { name = .location }
        else if equals(k, "registered_country") { name = .registeredCountry }
        else { name = .other }
        return (name, valueOffset)
    }

    @inline(__always)
    private func keyEnd(_ cursor: Int, _ afterField: Int, _ k: Field) throws(MMDBError) -> Int {
        let first = try byte(cursor)
        return first >> 5 == Int(Kind.pointer) ? afterField : k.payload + k.size
    }

    @inline(__always)
    private func equals(_ k: Field, _ key: StaticString) -> Bool {
        guard k.size == key.utf8CodeUnitCount else { return false }
        let expected = key.utf8Start
        var i = 0
        while i < k.size {
            if bytes[k.payload + i] != expected[i] { return false }
            i += 1
        }
        return true
    }

    /// A two-letter code (ISO 3166-1 country, continent) at `offset`; nil if it is not a
    /// two-byte string of letters.
    func code(at offset: Int) throws(MMDBError) -> GeoCode? {
        let (f, _) = try resolved(at: offset)
        guard f.type == Kind.string, f.size == 2, f.payload + 2 <= end else { return nil }
        return GeoCode(bytes[f.payload], bytes[f.payload + 1])
    }

    /// A double or float at `offset`, or nil.
    func double(at offset: Int) throws(MMDBError) -> Double? {
        let (f, _) = try resolved(at: offset)
        guard f.payload + f.size <= end else { throw .dataOutOfBounds(offset: offset) }
        switch f.type {
        case Kind.double:
            guard f.size == 8 else { throw .badSize(type: f.type, size: f.size, offset: offset) }
            return Double(bitPattern: UInt64(truncatingIfNeeded: try bigEndian(f.payload, count: 8)))
        case Kind.float:
            guard f.size == 4 else { throw .badSize(type: f.type, size: f.size, offset: offset) }
            return Double(Float(bitPattern: UInt32(truncatingIfNeeded: try bigEndian(f.payload, count: 4))))
        default:
            return nil
        }
    }

    // MARK: - Whole values, off the data path

    /// Decodes the field at `offset` (following pointers) into a value.
    func decode(at offset: Int) throws(MMDBError) -> MMDBValue {
        var budget = Self.maxValues
        return try decode(at: offset, depth: 0, budget: &budget).value
    }

    private func decode(at offset: Int, depth: Int, budget: inout Int) throws(MMDBError) -> (value: MMDBValue, next: Int) {
        guard depth <= Self.maxDepth, budget > 0 else { throw .tooDeep(offset: offset) }
        budget -= 1
        let f = try field(at: offset)
        if f.type == Kind.pointer {
            let target = start + f.size
            guard target < end else { throw .dataOutOfBounds(offset: offset) }
            guard try field(at: target).type != Kind.pointer else { throw .pointerToPointer(offset: offset) }
            return (try decode(at: target, depth: depth + 1, budget: &budget).value, f.payload)
        }
        if f.type != Kind.map && f.type != Kind.array && f.type != Kind.bool {
            try checkSize(f, at: offset)
            guard f.payload + f.size <= end else { throw .dataOutOfBounds(offset: offset) }
        }
        let payload = f.payload, size = f.size
        switch f.type {
        case Kind.string:
            let raw = UnsafeRawBufferPointer(rebasing: bytes[payload..<(payload + size)])
            guard let text = String(validating: raw, as: UTF8.self) else { throw .badUTF8(offset: offset) }
            return (.string(text), payload + size)
        case Kind.double:
            return (.double(Double(bitPattern: UInt64(truncatingIfNeeded: try bigEndian(payload, count: 8)))), payload + 8)
        case Kind.float:
            return (.float(Float(bitPattern: UInt32(truncatingIfNeeded: try bigEndian(payload, count: 4)))), payload + 4)
        case Kind.bytes, Kind.container:
            let value: MMDBValue = f.type == Kind.bytes ? .bytes(Array(bytes[payload..<(payload + size)])) : .dataCacheContainer
            return (value, payload + size)
        case Kind.uint16:
            return (.uint16(UInt16(truncatingIfNeeded: try bigEndian(payload, count: size))), payload + size)
        case Kind.uint32:
            return (.uint32(UInt32(truncatingIfNeeded: try bigEndian(payload, count: size))), payload + size)
        case Kind.int32:
            // Two's complement in `size` bytes (spec "integer formats"); fewer than four bytes are
            // written only for non-negative values by MaxMind's writer, so sign-extend from 32 bits.
            return (.int32(Int32(truncatingIfNeeded: UInt32(truncatingIfNeeded: try bigEndian(payload, count: size)))), payload + size)
        case Kind.uint64:
            var value: UInt64 = 0
            for k in 0..<size { value = value << 8 | UInt64(bytes[payload + k]) }
            return (.uint64(value), payload + size)
        case Kind.uint128:
            var high: UInt64 = 0, low: UInt64 = 0
            for k in 0..<size {
                high = high << 8 | low >> 56
                low = low << 8 | UInt64(bytes[payload + k])
            }
            return (.uint128(high: high, low: low), payload + size)
        case Kind.bool:
            guard size <= 1 else { throw .badSize(type: f.type, size: size, offset: offset) }
            return (.bool(size == 1), payload)
        case Kind.endMarker:
            return (.endMarker, payload)
        case Kind.map:
            var entries: [MMDBValue.MapEntry] = []
            var cursor = payload
            for _ in 0..<size {
                let (key, afterKey) = try decode(at: cursor, depth: depth + 1, budget: &budget)
                guard case .string(let name) = key else { throw .badType(type: Kind.map, offset: cursor) }
                let (value, afterValue) = try decode(at: afterKey, depth: depth + 1, budget: &budget)
                entries.append(.init(key: name, value: value))
                cursor = afterValue
            }
            return (.map(entries), cursor)
        case Kind.array:
            var items: [MMDBValue] = []
            var cursor = payload
            for _ in 0..<size {
                let (value, next) = try decode(at: cursor, depth: depth + 1, budget: &budget)
                items.append(value)
                cursor = next
            }
            return (.array(items), cursor)
        default:
            throw .badType(type: f.type, offset: offset)
        }
    }
}
