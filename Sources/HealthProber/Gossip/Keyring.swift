import CGLBOpenSSL

/// Why a key or key file was refused.
package enum KeyringError: Error, Hashable, Sendable, CustomStringConvertible {
    case notBase64(line: Int)
    case wrongLength(Int)
    case noKeys
    case notInstalled
    case cannotRemovePrimary

    package var description: String {
        switch self {
        case .notBase64(let line): line == 1 ? "the key (or the key file's line 1) is not base64" : "line \(line) of the key file is not base64"
        case .wrongLength(let n): "a gossip key must be 32 bytes (AES-256), got \(n)"
        case .noKeys: "the key file has no key"
        case .notInstalled: "that key is not in the keyring"
        case .cannotRemovePrimary: "the primary key cannot be removed; make another key primary first"
        }
    }
}

/// One 32-byte AES-256 key and its id: the first 4 bytes of its SHA-256, sent in each packet so
/// the receiver picks the right key at once instead of trying all of them (memberlist tries all).
package struct GossipKey: Hashable, Sendable {
    package let bytes: [UInt8]
    package let id: UInt32

    package init(_ bytes: [UInt8]) throws(KeyringError) {
        guard bytes.count == 32 else { throw .wrongLength(bytes.count) }
        self.bytes = bytes
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = EVP_Digest(bytes, bytes.count, &digest, &length, EVP_sha256(), nil)
        precondition(ok == 1, "SHA-256 failed")
        id = digest[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// The cluster keys (after memberlist's `keyring.go`): one primary key encrypts what this node
/// sends; every installed key decrypts what it receives. Rotation without downtime:
/// 1. install the new key on every node (all still send with the old one),
/// 2. make it primary everywhere (nodes still accept the old one from laggards),
/// 3. remove the old key.
package struct Keyring: Hashable, Sendable {
    package private(set) var primary: GossipKey
    /// Every installed key, primary included.
    package private(set) var keys: [GossipKey]

    package init(primary: [UInt8], others: [[UInt8]] = []) throws(KeyringError) {
        let first = try GossipKey(primary)
        self.primary = first
        keys = [first]
        for bytes in others { try install(bytes) }
    }

    /// A key file: one base64 key per line, the first one primary; blank lines and lines
    /// starting with `#` are ignored (the format of `--gossip-key-file` and `GLB_GOSSIP_KEY`).
    package init(parsing text: String) throws(KeyringError) {
        var decoded: [[UInt8]] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingWhitespace()
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            guard let bytes = Self.decodeBase64(line) else { throw .notBase64(line: index + 1) }
            decoded.append(bytes)
        }
        guard let first = decoded.first else { throw .noKeys }
        try self.init(primary: first, others: Array(decoded.dropFirst()))
    }

    /// Adds a key for receiving; a no-op if it is installed.
    package mutating func install(_ bytes: [UInt8]) throws(KeyringError) {
        let key = try GossipKey(bytes)
        if !keys.contains(key) { keys.append(key) }
    }

    /// Makes an installed key the one this node sends with.
    package mutating func use(_ bytes: [UInt8]) throws(KeyringError) {
        let key = try GossipKey(bytes)
        guard keys.contains(key) else { throw .notInstalled }
        primary = key
    }

    package mutating func remove(_ bytes: [UInt8]) throws(KeyringError) {
        let key = try GossipKey(bytes)
        guard key != primary else { throw .cannotRemovePrimary }
        keys.removeAll { $0 == key }
    }

    /// Installed keys with this id (almost always one; a 32-bit collision gives two).
    package func keys(withID id: UInt32) -> [GossipKey] { keys.filter { $0.id == id } }

    /// Standard base64 (RFC 4648 §4) with optional padding; nil on any other character.
    package static func decodeBase64(_ text: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        var accumulator: UInt32 = 0, bits = 0, padding = 0
        for byte in text.utf8 {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            default: return nil
            }
            guard padding == 0 else { return nil }            // data after padding
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return padding <= 2 ? out : nil
    }

    package static func decodeBase64(_ text: String) -> [UInt8]? { decodeBase64(Substring(text)) }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return s
    }
}
