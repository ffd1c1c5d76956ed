/// An immutable open-addressing hash table from wire-form names to values, looked up with the
/// packet's own bytes: no `String`, no key object, no allocation on the query path.
///
/// Keys live back to back in one byte arena (10,000 services cost a few hundred kilobytes, not
/// 10,000 arrays). The hash is FNV-1a 64 over case-folded bytes: keys come from the operator, not
/// from the network, so an attacker can choose what to look up but cannot fill a probe chain.
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
        arena.append(contentsOf: name.wire)
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
        guard Int(keyLength[entry]) == name.count else { return false }
        let start = Int(keyStart[entry])
        for i in 0..<name.count where arena[start + i] != DNSName.fold(name[i]) { return false }
        return true
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

    /// FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3) over folded bytes.
    @inline(__always)
    package static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { h = (h ^ UInt64(DNSName.fold(byte))) &* 0x100_0000_01b3 }
        return h
    }

    private static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { hash($0) }
    }
}
