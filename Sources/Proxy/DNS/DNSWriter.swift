package import GLBCore

/// Writes a response into a byte array whose capacity is reused from query to query (RFC 1035
/// §4.1). Appending to a uniquely referenced array with spare capacity does not allocate; the
/// responder reserves the largest message it can write (64 KiB for TCP) once.
package struct DNSWriter {
    /// The message so far.
    package var bytes: [UInt8] = []

    /// An empty writer; call `reserve` before the first message.
    package init() {}

    /// Room for `count` bytes without reallocating.
    package mutating func reserve(_ count: Int) {
        if bytes.capacity < count { bytes.reserveCapacity(count) }
    }

    /// Forgets the message, keeping the capacity.
    @inline(__always) package mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    /// The number of bytes written.
    @inline(__always) package var count: Int { bytes.count }

    /// Appends one byte.
    @inline(__always) package mutating func u8(_ v: UInt8) { bytes.append(v) }

    /// Appends a big-endian 16-bit value.
    @inline(__always) package mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    /// Appends a big-endian 32-bit value.
    @inline(__always) package mutating func u32(_ v: UInt32) {
        u16(UInt16(v >> 16))
        u16(UInt16(truncatingIfNeeded: v))
    }

    /// Overwrites the 16-bit value at `offset`.
    @inline(__always) package mutating func set16(_ v: UInt16, at offset: Int) {
        bytes[offset] = UInt8(v >> 8)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: v)
    }

    /// Appends raw bytes.
    @inline(__always) package mutating func append(_ raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }

    /// Appends the contents of an array.
    @inline(__always) package mutating func append(_ array: [UInt8]) { bytes.append(contentsOf: array) }

    /// Drops everything after `count` bytes (used to cut a response back to its question for TC).
    package mutating func truncate(to count: Int) { bytes.removeLast(bytes.count - count) }

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
        let at = bytes.count
        u16(0)
        return at
    }

    /// Patches the RDLENGTH written by `beginRecord`.
    @inline(__always) package mutating func endRData(lengthAt offset: Int) {
        set16(UInt16(bytes.count - offset - 2), at: offset)
    }

    /// The address bytes in network order (A or AAAA RDATA, RFC 1035 §3.4.1, RFC 3596 §2.2).
    @inline(__always) package mutating func address(_ address: IPAddress, byteCount: Int? = nil) {
        switch address {
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
        let length = bytes.count
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
