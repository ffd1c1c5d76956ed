package import GLBCore

/// The client identity a canary split hashes: a subnet, so that every host behind one resolver or
/// one /24 lands on the same side, and so that resolvers can cache the answer for that subnet.
package struct ClientKey: Hashable, Sendable {
    /// The subnet's address, zero past `prefix`.
    package let address: IPAddress
    /// The subnet's prefix length.
    package let prefix: UInt8
    /// True when the key came from an EDNS Client Subnet option: the answer then depends on ECS
    /// and the response's scope prefix must say so (RFC 7871 §7.2.1).
    package let fromClientSubnet: Bool
    /// The address geo routing locates: the ECS address as sent (zero past its source prefix, not
    /// shortened to /24 or /56: a database may know finer networks), else the client's own.
    package let origin: IPAddress

    /// Keys are equal when their subnets are: `origin` only tells geo where to look, and two
    /// hosts of one /24 are one canary client.
    package static func == (a: ClientKey, b: ClientKey) -> Bool {
        a.address == b.address && a.prefix == b.prefix && a.fromClientSubnet == b.fromClientSubnet
    }

    /// Hashes what `==` compares.
    package func hash(into hasher: inout Hasher) {
        hasher.combine(address)
        hasher.combine(prefix)
        hasher.combine(fromClientSubnet)
    }

    /// The longest prefix hashed: a /24 for IPv4, a /56 for IPv6 (a typical end-site assignment).
    package static let v4Prefix: UInt8 = 24, v6Prefix: UInt8 = 56

    /// The key for a query from `client` carrying `subnet`. A subnet with source prefix 0 means
    /// "do not use my clients' addresses" (RFC 7871 §7.1.2), so the source address is used instead.
    /// A longer ECS prefix is shortened to /24 or /56: the canary side is the same, the scope we
    /// return is shorter, and resolvers cache one answer per /24 instead of one per host.
    @inline(__always)
    package init(client: IPAddress, subnet: ClientSubnet?) {
        if let subnet, subnet.sourcePrefix > 0 {
            let p = Swift.min(subnet.sourcePrefix, subnet.address.isIPv4 ? ClientKey.v4Prefix : ClientKey.v6Prefix)
            address = subnet.address.masked(toPrefix: Int(p))
            prefix = p
            fromClientSubnet = true
            origin = subnet.address
        } else {
            prefix = client.isIPv4 ? ClientKey.v4Prefix : ClientKey.v6Prefix
            address = client.masked(toPrefix: Int(prefix))
            fromClientSubnet = false
            origin = client
        }
    }

    @inline(__always)
    private static func mix(_ h: inout UInt64, _ byte: UInt8) { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }

    /// A fixed, documented hash so every node and every restart puts a client on the same side:
    /// FNV-1a 64 over (family byte 4 or 6, prefix length, address bytes in network order), then the
    /// SplitMix64 finalizer so neighbouring subnets spread over the whole range.
    package var hash: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        switch address {
        case .v4(let a):
            ClientKey.mix(&h, 4); ClientKey.mix(&h, prefix)
            for shift in stride(from: 24, through: 0, by: -8) { ClientKey.mix(&h, UInt8(truncatingIfNeeded: a >> UInt32(shift))) }
        case .v6(let high, let low):
            ClientKey.mix(&h, 6); ClientKey.mix(&h, prefix)
            for shift in stride(from: 56, through: 0, by: -8) { ClientKey.mix(&h, UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
            for shift in stride(from: 56, through: 0, by: -8) { ClientKey.mix(&h, UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
        }
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }
}

/// The canary split's arithmetic.
package enum Canary {
    /// `percent` (0...100) as a threshold on the hash's top 32 bits: 100 % is 2^32, so every
    /// bucket is below it.
    package static func threshold(percent: Double) -> UInt64 {
        guard percent.isFinite, percent > 0 else { return 0 }
        guard percent < 100 else { return 1 << 32 }
        return UInt64((percent / 100 * 4_294_967_296).rounded())
    }

    /// True if a client with key hash `hash` belongs to the canary side.
    @inline(__always)
    package static func isCanary(hash: UInt64, threshold: UInt64) -> Bool {
        hash >> 32 < threshold
    }
}
