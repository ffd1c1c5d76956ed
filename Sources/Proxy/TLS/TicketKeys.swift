import CGLBOpenSSL
import GLBCore
import Synchronization

/// Session-ticket keys (RFC 5077 §4; RFC 8446 §4.6.1 for TLS 1.3's stateless tickets), shared by
/// every certificate context and every loop, and rotated: `rotate()` makes a new key current and
/// keeps the previous one for decrypting, so a ticket lives for one to two rotation periods.
/// Tickets sealed with the previous key are accepted and renewed (the callback returns 2).
///
/// Keys are random and live in memory only: a restart costs clients one full handshake, and a
/// stolen disk never yields past traffic keys.
///
/// The keys sit behind a `Mutex` read only by the ticket callback, i.e. once per full handshake
/// or resumption, never per request; the critical section copies 80 bytes.
package final class TicketKeys: Sendable {
    /// 16-byte name, 32-byte AES-256 key, 32-byte HMAC-SHA256 key.
    struct Key: Sendable {
        var name: [UInt8]
        var aes: [UInt8]
        var hmac: [UInt8]

        static func random() -> Key {
            var bytes = [UInt8](repeating: 0, count: 80)
            _ = RAND_bytes(&bytes, 80)
            return Key(name: Array(bytes[0..<16]), aes: Array(bytes[16..<48]), hmac: Array(bytes[48..<80]))
        }
    }

    private let keys: Mutex<(current: Key, previous: Key?)>

    package init() {
        keys = Mutex((Key.random(), nil))
    }

    /// A new current key; the old current one still opens tickets until the next rotation.
    package func rotate() {
        let fresh = Key.random()
        keys.withLock { $0 = (fresh, $0.current) }
    }

    /// Installs the ticket callback on a server context. The context's ex_data slot 0 points at
    /// `self` (unretained): every context is made by a `CertificateStore`, which keeps its
    /// `TicketKeys` for as long as any context lives.
    func install(on context: OpaquePointer) {
        _ = SSL_CTX_set_ex_data(context, 0, Unmanaged.passUnretained(self).toOpaque())
        _ = SSL_CTX_set_tlsext_ticket_key_evp_cb(context, ticketKeyCallback)
    }

    /// The callback's work: 1 = sealed or opened with the current key, 2 = opened with the
    /// previous key (OpenSSL then issues a fresh ticket), 0 = unknown key (full handshake), -1 = error.
    fileprivate func handle(name: UnsafeMutablePointer<UInt8>, iv: UnsafeMutablePointer<UInt8>, cipher: OpaquePointer,
                            mac: OpaquePointer, encrypt: Bool) -> CInt {
        let (current, previous) = keys.withLock { ($0.current, $0.previous) }
        if encrypt {
            current.name.withUnsafeBufferPointer { name.update(from: $0.baseAddress!, count: 16) }
            return cglb_ticket_crypto_init(cipher, mac, current.aes, current.hmac, iv, 1) == 1 ? 1 : -1
        }
        let presented = UnsafeBufferPointer(start: name, count: 16)
        let key: Key, result: CInt
        if presented.elementsEqual(current.name) {
            (key, result) = (current, 1)
        } else if let previous, presented.elementsEqual(previous.name) {
            (key, result) = (previous, 2)
        } else {
            return 0
        }
        return cglb_ticket_crypto_init(cipher, mac, key.aes, key.hmac, iv, 0) == 1 ? result : -1
    }
}

/// OpenSSL's ticket-key callback (`SSL_CTX_set_tlsext_ticket_key_evp_cb`): a C function, so it
/// finds its `TicketKeys` through the context's ex_data (TOOLCHAIN.md pitfall 8).
private let ticketKeyCallback: cglb_ticket_callback = { ssl, name, iv, cipher, mac, encrypt in
    guard let ssl, let name, let iv, let cipher, let mac, let context = SSL_get_SSL_CTX(ssl),
          let raw = SSL_CTX_get_ex_data(context, 0) else { return -1 }
    let keys = Unmanaged<TicketKeys>.fromOpaque(raw).takeUnretainedValue()
    return keys.handle(name: name, iv: iv, cipher: cipher, mac: mac, encrypt: encrypt == 1)
}
