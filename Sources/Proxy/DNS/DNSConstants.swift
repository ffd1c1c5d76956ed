// DNS wire constants (RFC 1035 §3.2, §4.1.1; RFC 3596; RFC 6891; RFC 7871).
// Each type is a RawRepresentable struct rather than an enum so that any 16-bit value read from a
// packet can be held without a failable conversion. Append only; values are on the wire.

/// A resource-record TYPE or QTYPE (RFC 1035 §3.2.2, §3.2.3).
package struct DNSType: RawRepresentable, Hashable, Sendable {
    /// The 16-bit value on the wire.
    package var rawValue: UInt16
    /// Wraps a wire value.
    package init(rawValue: UInt16) { self.rawValue = rawValue }

    /// A host address (RFC 1035 §3.4.1).
    package static let a = DNSType(rawValue: 1)
    /// An authoritative name server (RFC 1035 §3.3.11).
    package static let ns = DNSType(rawValue: 2)
    /// Start of a zone of authority (RFC 1035 §3.3.13).
    package static let soa = DNSType(rawValue: 6)
    /// Host information; RFC 8482 §4.2 allows it as a synthesised answer to ANY.
    package static let hinfo = DNSType(rawValue: 13)
    /// An IPv6 host address (RFC 3596 §2.1).
    package static let aaaa = DNSType(rawValue: 28)
    /// The EDNS(0) pseudo-RR (RFC 6891 §6.1.1).
    package static let opt = DNSType(rawValue: 41)
    /// Incremental zone transfer (RFC 1995).
    package static let ixfr = DNSType(rawValue: 251)
    /// Full zone transfer (RFC 1035 §3.2.3).
    package static let axfr = DNSType(rawValue: 252)
    /// A request for all records, answered minimally (RFC 8482).
    package static let any = DNSType(rawValue: 255)
}

/// A CLASS or QCLASS (RFC 1035 §3.2.4, §3.2.5).
package struct DNSClass: RawRepresentable, Hashable, Sendable {
    /// The 16-bit value on the wire.
    package var rawValue: UInt16
    /// Wraps a wire value.
    package init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The Internet.
    package static let `in` = DNSClass(rawValue: 1)
    /// Chaos (version.bind and friends): GLB refuses it.
    package static let ch = DNSClass(rawValue: 3)
    /// Any class (RFC 1035 §3.2.5).
    package static let any = DNSClass(rawValue: 255)
}

/// A response code, including the EDNS extended ones (RFC 1035 §4.1.1, RFC 6891 §9).
/// Values above 15 need an OPT record: the high 8 bits go into the OPT TTL.
package struct DNSRCode: RawRepresentable, Hashable, Sendable {
    /// The 12-bit value (4 bits in the header, 8 in the OPT TTL).
    package var rawValue: UInt16
    /// Wraps a value.
    package init(rawValue: UInt16) { self.rawValue = rawValue }

    /// No error.
    package static let noError = DNSRCode(rawValue: 0)
    /// The query could not be interpreted.
    package static let formErr = DNSRCode(rawValue: 1)
    /// The server failed.
    package static let servFail = DNSRCode(rawValue: 2)
    /// The name does not exist (authoritative only).
    package static let nxDomain = DNSRCode(rawValue: 3)
    /// The kind of query is not implemented.
    package static let notImp = DNSRCode(rawValue: 4)
    /// The server refuses to answer (not our zone, or a class we do not serve).
    package static let refused = DNSRCode(rawValue: 5)
    /// The EDNS version is not supported (RFC 6891 §6.1.3).
    package static let badVers = DNSRCode(rawValue: 16)
}

/// A header OPCODE (RFC 1035 §4.1.1). Only QUERY is implemented; everything else gets NOTIMP.
package struct DNSOpcode: RawRepresentable, Hashable, Sendable {
    /// The 4-bit value.
    package var rawValue: UInt8
    /// Wraps a value.
    package init(rawValue: UInt8) { self.rawValue = rawValue }

    /// A standard query.
    package static let query = DNSOpcode(rawValue: 0)
}

/// Header flag bits in the 16-bit word at offset 2 (RFC 1035 §4.1.1).
package enum DNSFlags {
    /// Query (0) or response (1).
    package static let qr: UInt16 = 0x8000
    /// Authoritative answer.
    package static let aa: UInt16 = 0x0400
    /// Truncated: retry over TCP.
    package static let tc: UInt16 = 0x0200
    /// Recursion desired: copied from the query.
    package static let rd: UInt16 = 0x0100
    /// Recursion available: GLB never sets it.
    package static let ra: UInt16 = 0x0080
}

/// EDNS(0) option codes (RFC 6891 §6.1.2, IANA registry). Append only; values are on the wire.
package enum EDNSOptionCode {
    /// Client Subnet (RFC 7871 §6).
    package static let clientSubnet: UInt16 = 8
}

/// Sizes and limits GLB applies to messages.
package enum DNSLimits {
    /// The DNS header is always 12 bytes (RFC 1035 §4.1.1).
    package static let headerSize = 12
    /// UDP limit for a client without EDNS (RFC 1035 §2.3.4).
    package static let classicUDPSize = 512
    /// The payload size GLB advertises and the most it sends over UDP (the DNS Flag Day 2020 value,
    /// which avoids IP fragmentation on nearly every path).
    package static let advertisedUDPSize = 1232
    /// The largest message over TCP: the 16-bit length prefix (RFC 1035 §4.2.2).
    package static let maxTCPSize = 65535
    /// A label is at most 63 bytes (RFC 1035 §2.3.4).
    package static let maxLabel = 63
    /// A name in wire form is at most 255 bytes, length bytes and root included (RFC 1035 §2.3.4).
    package static let maxName = 255
}
