/// An immutable open-addressing hash table from wire-form names to values, looked up with the
/// packet's own bytes: no `String`, no key object, no allocation on the query path.
///
/// Keys live back to back in one byte arena, already case-folded (10,000 services cost a few
/// hundred kilobytes, not 10,000 arrays). Hashing and comparing work eight bytes at a time: each
/// word is folded to lower case with SWAR arithmetic (no per-byte branch), mixed with a
/// multiply-xorshift, and compared as one integer; this took the lookup from 14% of the DNS
/// server's instructions to a few. Keys come from the operator, not from the network, so an
/// attacker can choose what to look up but cannot fill a probe chain.
package struct NameTable<Value: Sendable>: Sendable {
    private var arena: [UInt8] = []
    private var keyStart: [Int32] = []
    private var keyLength: [UInt8] = []
    /// The values, in insertion order; `index(of:)` and `insert` return positions in here.
    package private(set) var values: [Value] = []
    /// -1 for an empty slot, else an index into `values`.
    private var slots: [Int32] = Array(repeating: -1, count: 16)
    private var slotHashes: [UInt32] = Array(repeating: 0, count: 16)

    /// An empty table.
    package init() {}

    /// Number of keys.
    package var count: Int { values.count }

    /// Inserts `value` for `name` unless the name is present; returns the entry's index either way
    /// and whether it was new.
    @discardableResult
    package mutating func insert(_ name: DNSName, _ value: Value) -> (index: Int, inserted: Bool) {
        if let existing = name.wire.withUnsafeBytes({ index(of: $0) }) { return (existing, false) }
        if (values.count + 1) * 2 > slots.count { grow() }
        let hash = NameTable.hash(name.wire)
        keyStart.append(Int32(arena.count))
        keyLength.append(UInt8(name.wire.count))
        arena.append(contentsOf: name.wire.map(DNSName.fold))
        values.append(value)
        place(Int32(values.count - 1), hash: hash)
        return (values.count - 1, true)
    }

    /// Replaces the value at `index`, as returned by `insert` or `index(of:)`.
    package mutating func update(at index: Int, _ body: (inout Value) -> Void) {
        body(&values[index])
    }

    /// The value for wire-form `name`, compared case-insensitively.
    @inline(__always)
    package func lookup(_ name: UnsafeRawBufferPointer) -> Value? {
        guard let i = index(of: name) else { return nil }
        return values[i]
    }

    /// The index of wire-form `name` (case-insensitive), or nil.
    package func index(of name: UnsafeRawBufferPointer) -> Int? {
        let hash = NameTable.hash(name)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = slots[slot]
            if entry < 0 { return nil }
            if slotHashes[slot] == UInt32(truncatingIfNeeded: hash >> 32), matches(Int(entry), name) { return Int(entry) }
            slot = (slot + 1) & mask
        }
    }

    private func matches(_ entry: Int, _ name: UnsafeRawBufferPointer) -> Bool {
        let count = name.count
        guard Int(keyLength[entry]) == count else { return false }
        let start = Int(keyStart[entry])
        return arena.withUnsafeBytes { arena in
            var offset = 0
            while offset + 8 <= count {
                let key = arena.loadUnaligned(fromByteOffset: start + offset, as: UInt64.self)
                if key != NameTable.fold(name.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) { return false }
                offset += 8
            }
            // The tail as one word that overlaps the last full one (both sides overlap alike).
            if offset < count, count >= 8 {
                let key = arena.loadUnaligned(fromByteOffset: start + count - 8, as: UInt64.self)
                return key == NameTable.fold(name.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
            }
            while offset < count {
                if arena[start + offset] != DNSName.fold(name[offset]) { return false }
                offset += 1
            }
            return true
        }
    }

    private mutating func grow() {
        let newCount = slots.count * 2
        slots = Array(repeating: -1, count: newCount)
        slotHashes = Array(repeating: 0, count: newCount)
        for entry in 0..<values.count {
            let start = Int(keyStart[entry]), length = Int(keyLength[entry])
            let hash = arena.withUnsafeBytes { NameTable.hash(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)])) }
            place(Int32(entry), hash: hash)
        }
    }

    private mutating func place(_ entry: Int32, hash: UInt64) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = entry
        slotHashes[slot] = UInt32(truncatingIfNeeded: hash >> 32)
    }

    /// A 64-bit hash of the case-folded bytes, a word at a time: each 8-byte word (the tail
    /// zero-padded, the length in the seed so padding cannot collide) is folded, xored in and
    /// mixed by a multiply and a shift (the murmur3/splitmix finaliser's constants), then the
    /// result is finalised once more so both halves are well mixed (the table uses the low bits
    /// for the slot and the high 32 as a tag).
    @inline(__always)
    package static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let count = bytes.count
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(count)
        var offset = 0
        while offset + 8 <= count {
            h = mix(h ^ fold(bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset += 8
        }
        if offset < count, count >= 8 {
            // The tail bytes, from a load of the last eight that drops the ones already mixed
            // (little-endian: they are the low bytes): the same value as the byte loop below.
            let last = bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            h = mix(h ^ fold(last >> UInt64(8 * (8 - (count - offset)))))
        } else if offset < count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < count {
                tail |= UInt64(bytes[offset]) << shift
                shift += 8
                offset += 1
            }
            h = mix(h ^ fold(tail))
        }
        return mix(h)
    }

    @inline(__always)
    private static func mix(_ value: UInt64) -> UInt64 {
        var x = value &* 0xBF58_476D_1CE4_E5B9
        x ^= x >> 31
        return x &* 0x94D0_49BB_1331_11EB ^ (x >> 29)
    }

    /// Lower-cases the ASCII letters of eight bytes at once (the same as `DNSName.fold` on each):
    /// a byte gets 0x20 added when it is in 0x41...0x5A. Adding 0x3F (0x25) to a byte's low seven
    /// bits sets its high bit when it is at least 0x41 (0x5B), and never carries into the next
    /// byte; bytes with their own high bit set are left alone.
    @inline(__always)
    package static func fold(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let low = word & (ones &* 0x7F)
        let atLeastA = low &+ ones &* 0x3F
        let pastZ = low &+ ones &* 0x25
        let upper = atLeastA & ~pastZ & ~word & (ones &* 0x80)
        return word | (upper >> 2)
    }

    private static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { hash($0) }
    }
}
