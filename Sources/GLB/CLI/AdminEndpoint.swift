import GLBCore
#if canImport(Glibc)
import Glibc
#endif

/// Where the CLI finds a node's admin API, as `--admin` or `GLB_ADMIN` gives it: `ADDR:PORT`
/// (`127.0.0.1:9090`, `[::1]:9090`), or a URL, `http://HOST[:PORT]` or `https://HOST[:PORT]`
/// (ports 80 and 443 by default, as URLs have; a trailing `/` is fine, any other path is not).
/// HOST may be a name, looked up once per command. `https` reaches an admin API behind a TLS
/// terminator, verified against the system's roots or `--admin-ca`.
struct AdminEndpoint: Equatable, CustomStringConvertible {
    var secure: Bool
    var host: String
    var port: UInt16

    init(parsing text: String) throws(UsageError) {
        var rest = Substring(text)
        let lower = text.lowercased()
        var defaultPort: UInt16?
        if lower.hasPrefix("http://") {
            secure = false
            defaultPort = 80
            rest = rest.dropFirst("http://".count)
        } else if lower.hasPrefix("https://") {
            secure = true
            defaultPort = 443
            rest = rest.dropFirst("https://".count)
        } else if let colon = lower.firstIndex(of: ":"), lower[colon...].hasPrefix("://") {
            throw UsageError("the admin API address \"\(text)\" has scheme \"\(lower[..<colon])\"; use http://, https:// or ADDR:PORT")
        } else {
            secure = false
        }
        if defaultPort != nil, let slash = rest.firstIndex(of: "/") {
            guard rest[slash...] == "/" else { throw UsageError("the admin API URL \"\(text)\" must not have a path; give only http(s)://HOST:PORT") }
            rest = rest[..<slash]
        }
        // [v6]:port, [v6], host:port, host
        var hostPart = rest
        var portPart: Substring?
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() } else if !after.isEmpty { hostPart = "" }
        } else if let colon = rest.lastIndex(of: ":"), rest.firstIndex(of: ":") == colon {
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { throw UsageError("expected ADDR:PORT such as 127.0.0.1:9090 or a URL such as http://127.0.0.1:9090, got \"\(text)\"") }
        host = String(hostPart)
        if let portPart {
            guard let port = UInt16(portPart), port > 0 else { throw UsageError("the admin API port in \"\(text)\" must be 1 to 65535") }
            self.port = port
        } else if let defaultPort {
            port = defaultPort
        } else {
            throw UsageError("expected ADDR:PORT such as 127.0.0.1:9090 or a URL such as http://127.0.0.1:9090, got \"\(text)\"")
        }
    }

    var description: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return secure ? "https://\(bracketed):\(port)" : "\(bracketed):\(port)"
    }

    /// The address to connect to: the literal, or the first address the host name resolves to.
    func resolve() throws(AdminClientError) -> SocketAddress {
        if let ip = IPAddress(host) { return SocketAddress(ip: ip, port: port) }
        var hints = addrinfo()
        hints.ai_socktype = CInt(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &results)
        defer { if let results { freeaddrinfo(results) } }
        guard rc == 0 else { throw AdminClientError(message: "cannot resolve \(host): \(String(cString: gai_strerror(rc)))") }
        var entry = results
        while let current = entry?.pointee {
            // The numeric form of the address, read back as an `IPAddress`.
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if let sockaddr = current.ai_addr,
               getnameinfo(sockaddr, current.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0,
               let ip = IPAddress(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) {
                return SocketAddress(ip: ip, port: port)
            }
            entry = current.ai_next
        }
        throw AdminClientError(message: "\(host) has no address")
    }
}
