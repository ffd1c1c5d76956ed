package import GLBCore

/// Writes a response straight into the caller's memory (RFC 1035 §4.1): the UDP batch slot the
/// answer is sent from, or the TCP connection's scratch, so no array grows, no uniqueness check
/// runs and nothing is copied afterwards. Callgrind counted those array appends at a fifth of the
/// DNS server's instructions.
///
/// Every write is bounds-checked against `capacity`: a write that does not fit is dropped and
/// sets `overflowed`, and the responder then cuts the message back to its question with TC set,
/// as it does for any answer over the client's limit.
package struct DNSWriter {
    private let base: UnsafeMutableRawPointer?
    /// The most bytes the memory holds.
    package let capacity: Int
    /// The number of bytes written.
    package private(set) var count = 0
    /// A write did not fit; the message is incomplete and must be truncated.
    package private(set) var overflowed = false

    /// A writer over `memory`, which must stay valid while the writer is used.
    package init(_ memory: UnsafeMutableRawBufferPointer) {
        base = memory.baseAddress
        capacity = memory.count
    }

    /// Whether `n` more bytes fit; sets `overflowed` when they do not.
    @inline(__always) private mutating func room(_ n: Int) -> Bool {
        if capacity - count >= n { return true }
        overflowed = true
        return false
    }

    /// Appends one byte.
    @inline(__always) package mutating func u8(_ v: UInt8) {
        guard room(1) else { return }
        base.unsafelyUnwrapped.storeBytes(of: v, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Appends a big-endian 16-bit value.
    @inline(__always) package mutating func u16(_ v: UInt16) {
        guard room(2) else { return }
        base.unsafelyUnwrapped.storeBytes(of: v.bigEndian, toByteOffset: count, as: UInt16.self)
        count += 2
    }

    /// Appends a big-endian 32-bit value.
    @inline(__always) package mutating func u32(_ v: UInt32) {
        guard room(4) else { return }
        base.unsafelyUnwrapped.storeBytes(of: v.bigEndian, toByteOffset: count, as: UInt32.self)
        count += 4
    }

    /// Overwrites the 16-bit value at `offset` (which must already be written).
    @inline(__always) package mutating func set16(_ v: UInt16, at offset: Int) {
        guard offset >= 0, offset + 2 <= count else { return }
        base.unsafelyUnwrapped.storeBytes(of: v.bigEndian, toByteOffset: offset, as: UInt16.self)
    }

    /// Appends raw bytes.
    @inline(__always) package mutating func append(_ raw: UnsafeRawBufferPointer) {
        guard raw.count > 0, room(raw.count) else { return }
        (base.unsafelyUnwrapped + count).copyMemory(from: raw.baseAddress.unsafelyUnwrapped, byteCount: raw.count)
        count += raw.count
    }

    /// Appends the contents of an array.
    @inline(__always) package mutating func append(_ array: [UInt8]) {
        array.withUnsafeBytes { append($0) }
    }

    /// Drops everything after `count` bytes (used to cut a response back to its question for TC),
    /// and forgets an overflow.
    package mutating func truncate(to count: Int) {
        self.count = Swift.min(self.count, Swift.max(0, count))
        overflowed = false
    }

    /// The 12-byte header (RFC 1035 §4.1.1).
    package mutating func header(id: UInt16, flags: UInt16, questions: UInt16, answers: UInt16 = 0,
                                 authority: UInt16 = 0, additional: UInt16 = 0) {
        u16(id); u16(flags); u16(questions); u16(answers); u16(authority); u16(additional)
    }

    /// A compression pointer to `offset` (RFC 1035 §4.1.4); `offset` must be below 0x4000.
    @inline(__always) package mutating func pointer(to offset: Int) {
        u16(0xC000 | UInt16(offset))
    }

    /// TYPE, CLASS IN, TTL, and a zero RDLENGTH to patch; returns RDLENGTH's offset for `endRData`.
    /// The owner name must already be written.
    @inline(__always) package mutating func beginRecord(type: DNSType, ttl: UInt32) -> Int {
        u16(type.rawValue); u16(DNSClass.in.rawValue); u32(ttl)
        let at = count
        u16(0)
        return at
    }

    /// Patches the RDLENGTH written by `beginRecord`.
    @inline(__always) package mutating func endRData(lengthAt offset: Int) {
        set16(UInt16(truncatingIfNeeded: count - offset - 2), at: offset)
    }

    /// The address bytes in network order (A or AAAA RDATA, RFC 1035 §3.4.1, RFC 3596 §2.2).
    @inline(__always) package mutating func address(_ address: IPAddress, byteCount: Int? = nil) {
        switch address {
        case .v4(let a) where byteCount == nil:
            u32(a)
        case .v6(let high, let low) where byteCount == nil:
            guard room(16) else { return }
            base.unsafelyUnwrapped.storeBytes(of: high.bigEndian, toByteOffset: count, as: UInt64.self)
            base.unsafelyUnwrapped.storeBytes(of: low.bigEndian, toByteOffset: count + 8, as: UInt64.self)
            count += 16
        case .v4(let a):
            for k in 0..<(byteCount ?? 4) { u8(UInt8(truncatingIfNeeded: a >> UInt32(24 - 8 * k))) }
        case .v6(let high, let low):
            for k in 0..<(byteCount ?? 16) {
                u8(k < 8 ? UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * k)) : UInt8(truncatingIfNeeded: low >> UInt64(120 - 8 * k)))
            }
        }
    }

    /// The OPT pseudo-RR (RFC 6891 §6.1.2, §6.1.3): root owner, our payload size, the high bits of
    /// the extended rcode, version 0, the DO bit, and the ECS option echoed with `scope` (RFC 7871
    /// §7.2.1: FAMILY, SOURCE PREFIX-LENGTH and ADDRESS as the query sent them).
    package mutating func opt(rcode: DNSRCode, dnssecOK: Bool, clientSubnet: ClientSubnet?, scope: UInt8) {
        u8(0)
        u16(DNSType.opt.rawValue)
        u16(UInt16(DNSLimits.advertisedUDPSize))
        u8(UInt8(truncatingIfNeeded: rcode.rawValue >> 4))
        u8(0)
        u16(dnssecOK ? 0x8000 : 0)
        let length = count
        u16(0)
        if let subnet = clientSubnet {
            u16(EDNSOptionCode.clientSubnet)
            u16(UInt16(4 + subnet.addressByteCount))
            u16(subnet.family)
            u8(subnet.sourcePrefix)
            u8(scope)
            address(subnet.address, byteCount: subnet.addressByteCount)
        }
        endRData(lengthAt: length)
    }
}
