extension RoutingSnapshot {
    /// The service whose owner name is the HTTP `Host` value `host` (RFC 9110 §7.2: uri-host
    /// [":" port]), or nil. Case-insensitive, a trailing dot and any port are ignored; an IP
    /// literal (`127.0.0.1:8080`, `[::1]`) names no service.
    ///
    /// The name is converted to wire form in `scratch`, which the caller owns and reuses, so the
    /// lookup allocates nothing once the scratch has grown: the same `NameTable` probe DNS uses.
    package func service(host: some Collection<UInt8>, scratch: inout [UInt8]) -> Int? {
        scratch.removeAll(keepingCapacity: true)
        guard let first = host.first, first != UInt8(ascii: "[") else { return nil }
        scratch.append(0)                       // length of the first label, patched below
        var labelStart = 0
        for byte in host {
            if byte == UInt8(ascii: ":") { break }
            if byte == UInt8(ascii: ".") {
                let length = scratch.count - labelStart - 1
                guard length > 0, length <= 63 else { return nil }
                scratch[labelStart] = UInt8(length)
                labelStart = scratch.count
                scratch.append(0)
                continue
            }
            scratch.append(DNSName.fold(byte))
            guard scratch.count < 255 else { return nil }
        }
        let last = scratch.count - labelStart - 1
        guard last <= 63 else { return nil }
        if last > 0 {
            scratch[labelStart] = UInt8(last)
            scratch.append(0)                   // the root label
        }
        guard scratch.count > 1 else { return nil }
        guard let node = scratch.withUnsafeBytes({ names.lookup($0) }), node.service >= 0 else { return nil }
        return Int(node.proxyService >= 0 ? node.proxyService : node.service)
    }
}
