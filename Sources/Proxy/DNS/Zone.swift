package import GLBCore

/// One authoritative zone as compiled into a snapshot: everything the responder writes for the
/// apex is precomputed, so answering SOA or NS is a copy of bytes. A class: the responder reads
/// one per query, and a reference costs one retain where a struct copy retained every array.
package final class Zone: Sendable {
    package let name: DNSName
    /// TTL of SOA, NS and glue records.
    package let ttl: UInt32
    /// The SOA MINIMUM field.
    package let negativeTTL: UInt32
    /// The SOA SERIAL.
    package let serial: UInt32
    /// SOA RDATA (RFC 1035 §3.3.13), names uncompressed: MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM.
    package let soaRData: [UInt8]
    /// NS names at the apex.
    package let nameservers: [DNSName]
    /// For each nameserver, the index of its glue in `RoutingSnapshot.hosts`, or -1 when it is out
    /// of zone or has no addresses.
    package let glue: [Int32]

    /// SOA REFRESH/RETRY/EXPIRE. GLB nodes sync by gossip, not AXFR, so secondaries never use these;
    /// they are the RFC 1912 §2.2 suggestions.
    package static let refresh: UInt32 = 3600, retry: UInt32 = 600, expire: UInt32 = 1_209_600

    /// TTL of the SOA in a negative answer: min(SOA TTL, MINIMUM) (RFC 2308 §3, §5).
    package var negativeAnswerTTL: UInt32 { Swift.min(ttl, negativeTTL) }

    /// Compiles the SOA RDATA. `hostmaster` may be a name or a mail address (`user@domain`).
    package init(name: DNSName, ttl: UInt32, negativeTTL: UInt32, serial: UInt32, hostmaster: DNSName,
                 nameservers: [DNSName], glue: [Int32]) {
        self.name = name
        self.ttl = ttl
        self.negativeTTL = negativeTTL
        self.serial = serial
        self.nameservers = nameservers
        self.glue = glue
        var rdata = nameservers.first?.wire ?? name.wire
        rdata += hostmaster.wire
        for value in [serial, Zone.refresh, Zone.retry, Zone.expire, negativeTTL] {
            rdata += [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                      UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
        }
        soaRData = rdata
    }

    /// The RNAME for a hostmaster given as a mail address or a name (RFC 1035 §8: the local part
    /// is the first label, even if it contains dots). Nil if it is neither.
    package static func mailbox(_ text: String, in zone: DNSName) -> DNSName? {
        guard let at = text.firstIndex(of: "@") else { return DNSName(text) }
        let local = Array(text[..<at].utf8)
        guard let domain = DNSName(String(text[text.index(after: at)...])) else { return nil }
        return DNSName(labels: [local] + domain.labels.map { Array($0) })
    }
}

/// An in-zone nameserver's addresses: glue in NS answers and the answer to its own A/AAAA query.
package struct GlueHost: Sendable {
    /// The nameserver's name.
    package let name: DNSName
    /// Its IPv4 addresses.
    package let v4: [IPAddress]
    /// Its IPv6 addresses.
    package let v6: [IPAddress]
}
