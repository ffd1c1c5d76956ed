import CGLBOpenSSL

/// Why a received packet could not be opened. Each is a `reason` label of
/// `glb_gossip_dropped_packets_total`.
package enum CipherError: Error, Hashable, Sendable {
    case tooShort
    case unsupportedVersion(UInt8)
    case unknownKey
    case authenticationFailed

    package var reason: String {
        switch self {
        case .tooShort: "too_short"
        case .unsupportedVersion: "version"
        case .unknownKey: "unknown_key"
        case .authenticationFailed: "auth"
        }
    }
}

/// AES-256-GCM for gossip packets through OpenSSL's EVP interface.
///
///     +---------+--------+------------+----------------------+---------+
///     | version | key id |   nonce    |      ciphertext      |   tag   |
///     |  0x81   |  u32   |  12 bytes  |  (plaintext length)  | 16 bytes|
///     +---------+--------+------------+----------------------+---------+
///     \_______ authenticated as AAD ___/
///
/// The header is authenticated, so a flipped version or key id fails like a flipped payload
/// byte. The version's high bit marks an encrypted packet, so a node can tell a plaintext
/// packet (codec version 1) from a sealed one. Nonces are 96 random bits from `RAND_bytes`
/// per packet: with one key, 2^32 packets keep the collision chance under 2^-32 (NIST SP
/// 800-38D §8.3), years of gossip; rotate keys well before.
///
/// Not thread-safe: it reuses one `EVP_CIPHER_CTX`; one instance per event loop.
package final class PacketCipher {
    package static let version: UInt8 = 0x81
    package static let headerBytes = 1 + 4 + 12
    package static let tagBytes = 16
    /// Bytes a sealed packet adds to its plaintext.
    package static let overhead = headerBytes + tagBytes

    private let context: OpaquePointer

    package init() {
        guard let context = EVP_CIPHER_CTX_new() else { preconditionFailure("EVP_CIPHER_CTX_new failed: out of memory") }
        self.context = context
    }

    deinit { EVP_CIPHER_CTX_free(context) }

    /// Encrypts `plaintext` with the keyring's primary key.
    package func seal(_ plaintext: [UInt8], with keyring: Keyring) -> [UInt8] {
        let key = keyring.primary
        var packet = [UInt8](repeating: 0, count: Self.overhead + plaintext.count)
        packet[0] = Self.version
        for i in 0..<4 { packet[1 + i] = UInt8(truncatingIfNeeded: key.id >> (24 - 8 * UInt32(i))) }
        packet.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            precondition(RAND_bytes(base + 5, 12) == 1, "RAND_bytes failed")
            EVP_CIPHER_CTX_reset(context)
            var length: Int32 = 0
            var ok = EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key.bytes, base + 5)
            ok &= EVP_EncryptUpdate(context, nil, &length, base, Int32(Self.headerBytes))
            ok &= plaintext.withUnsafeBufferPointer { input in
                EVP_EncryptUpdate(context, base + Self.headerBytes, &length, input.baseAddress, Int32(input.count))
            }
            var tail: Int32 = 0
            ok &= EVP_EncryptFinal_ex(context, base + Self.headerBytes + Int(length), &tail)
            ok &= EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagBytes), base + Self.headerBytes + plaintext.count)
            precondition(ok == 1, "AES-256-GCM encryption failed")
        }
        return packet
    }

    /// Decrypts and authenticates a sealed packet with whichever installed key its id names.
    package func open(_ packet: [UInt8], with keyring: Keyring) throws(CipherError) -> [UInt8] {
        guard packet.count >= Self.overhead else { throw .tooShort }
        guard packet[0] == Self.version else { throw .unsupportedVersion(packet[0]) }
        let id = packet[1..<5].reduce(0) { $0 << 8 | UInt32($1) }
        let candidates = keyring.keys(withID: id)
        guard !candidates.isEmpty else { throw .unknownKey }
        for key in candidates {
            if let plaintext = open(packet, key: key) { return plaintext }
        }
        throw .authenticationFailed
    }

    private func open(_ packet: [UInt8], key: GossipKey) -> [UInt8]? {
        let bodyLength = packet.count - Self.overhead
        var plaintext = [UInt8](repeating: 0, count: bodyLength)
        let ok: Int32 = packet.withUnsafeBufferPointer { input in
            plaintext.withUnsafeMutableBufferPointer { out in
                let base = input.baseAddress!
                EVP_CIPHER_CTX_reset(context)
                var length: Int32 = 0
                var ok = EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key.bytes, base + 5)
                ok &= EVP_DecryptUpdate(context, nil, &length, base, Int32(Self.headerBytes))
                if bodyLength > 0 {
                    ok &= EVP_DecryptUpdate(context, out.baseAddress, &length, base + Self.headerBytes, Int32(bodyLength))
                }
                let tag = UnsafeMutableRawPointer(mutating: base + Self.headerBytes + bodyLength)
                ok &= EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagBytes), tag)
                var tail: Int32 = 0
                var scratch: UInt8 = 0
                // The tag is checked here; nothing is written for GCM.
                ok &= EVP_DecryptFinal_ex(context, &scratch, &tail)
                return ok
            }
        }
        return ok == 1 ? plaintext : nil
    }
}
