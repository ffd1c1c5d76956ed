package import GLBCore

/// An EDNS Client Subnet option as received (RFC 7871 §6): the family, the source prefix length
/// and the address with every bit past the prefix zero (checked, not masked: see `EDNS.parse`).
package struct ClientSubnet: Hashable, Sendable {
    /// 1 for IPv4, 2 for IPv6 (IANA address family numbers). Append only; values are on the wire.
    package var family: UInt16
    /// How many leading bits of `address` the resolver sent.
    package var sourcePrefix: UInt8
    /// The address, zero past `sourcePrefix`.
    package var address: IPAddress

    /// A subnet from its parts; `address` is masked to `sourcePrefix`.
    package init(address: IPAddress, sourcePrefix: UInt8) {
        self.family = address.isIPv4 ? 1 : 2
        self.sourcePrefix = sourcePrefix
        self.address = address.masked(toPrefix: Int(sourcePrefix))
    }

    /// ceil(sourcePrefix / 8): the address bytes on the wire (RFC 7871 §6).
    package var addressByteCount: Int { (Int(sourcePrefix) + 7) / 8 }
}

/// What a query's OPT pseudo-RR said (RFC 6891 §6.1.2, §6.1.3).
package struct EDNSOptions: Hashable, Sendable {
    /// The requestor's UDP payload size, from the OPT CLASS field.
    package var udpPayloadSize: UInt16
    /// The EDNS version, from the OPT TTL; GLB speaks 0 and answers BADVERS above.
    package var version: UInt8
    /// The DO bit (RFC 3225 §3); copied into the response, although GLB does not sign.
    package var dnssecOK: Bool
    /// The Client Subnet option, if the query had a valid one.
    package var clientSubnet: ClientSubnet?
}

/// Parsing of the OPT record's fixed fields and options.
package enum EDNS {
    /// Parses an OPT record whose CLASS and TTL were read as `udpSize` and `ttl`, with `rdata` its
    /// RDATA. Options are parsed only for version 0 (their meaning may differ in later versions;
    /// the caller answers BADVERS there). Unknown options are ignored (RFC 6891 §6.1.2).
    ///
    /// FORMERR cases: an option running past RDLENGTH; an ECS option that is malformed per RFC 7871
    /// §7.1.1 (unknown family, source prefix over 32/128, address length not ceil(prefix/8), bits
    /// set past the prefix, non-zero scope prefix in a query); more than one ECS option.
    package static func parse(udpSize: UInt16, ttl: UInt32, rdata: UnsafeRawBufferPointer) throws(DNSParseError) -> EDNSOptions {
        var options = EDNSOptions(udpPayloadSize: udpSize, version: UInt8(truncatingIfNeeded: ttl >> 16),
                                  dnssecOK: ttl & 0x8000 != 0, clientSubnet: nil)
        guard options.version == 0 else { return options }
        var i = 0
        while i < rdata.count {
            guard i + 4 <= rdata.count else { throw .badOption }
            let code = UInt16(rdata[i]) << 8 | UInt16(rdata[i + 1])
            let length = Int(rdata[i + 2]) << 8 | Int(rdata[i + 3])
            i += 4
            guard i + length <= rdata.count else { throw .badOption }
            if code == EDNSOptionCode.clientSubnet {
                guard options.clientSubnet == nil else { throw .badClientSubnet }
                options.clientSubnet = try parseClientSubnet(UnsafeRawBufferPointer(rebasing: rdata[i..<(i + length)]))
            }
            i += length
        }
        return options
    }

    /// RFC 7871 §6 option data: FAMILY (2), SOURCE PREFIX-LENGTH (1), SCOPE PREFIX-LENGTH (1), ADDRESS.
    package static func parseClientSubnet(_ data: UnsafeRawBufferPointer) throws(DNSParseError) -> ClientSubnet {
        guard data.count >= 4 else { throw .badClientSubnet }
        let family = UInt16(data[0]) << 8 | UInt16(data[1])
        let source = Int(data[2]), scope = data[3]
        let maxPrefix: Int
        switch family {
        case 1: maxPrefix = 32
        case 2: maxPrefix = 128
        default: throw .badClientSubnet
        }
        guard source <= maxPrefix, scope == 0, data.count - 4 == (source + 7) / 8 else { throw .badClientSubnet }
        // Accumulate into 128 bits, high byte first, without an intermediate array.
        var high: UInt64 = 0, low: UInt64 = 0
        for k in 0..<(maxPrefix / 8) {
            let byte = 4 + k < data.count ? UInt64(data[4 + k]) : 0
            if k < 8 { high = high << 8 | byte } else { low = low << 8 | byte }
        }
        let address: IPAddress = family == 1 ? .v4(UInt32(truncatingIfNeeded: high)) : .v6(high: high, low: low)
        // RFC 7871 §6: "ADDRESS ... MUST be ... the remaining bits set to 0"; §7.1.1: else FORMERR.
        guard address.masked(toPrefix: source) == address else { throw .badClientSubnet }
        return ClientSubnet(address: address, sourcePrefix: UInt8(source))
    }
}
