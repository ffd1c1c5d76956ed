/// Serialises HTTP/1.1 heads and chunked framing by appending to a `ByteBuffer` (RFC 9112).
///
/// Heads are validated before the first byte is written, so on a throw the buffer is unchanged.
/// A CR or LF in a value from a caller (a header set through the admin API, a target built from a
/// service name) therefore throws `HTTPWriteError` instead of splitting the message: the
/// control plane reports it, the data plane treats it as a bug in the route. Fields in an
/// `HTTPHeaders` were validated when they were parsed or added, so writing them checks nothing
/// again; that is the proxy's path, and it allocates nothing beyond buffer growth.
package enum HTTPWriter {
    /// Appends `method SP target SP HTTP/1.x CRLF`, the fields, and the blank line (RFC 9112 §3).
    package static func writeRequestHead(method: HTTPMethod, target: some Collection<UInt8>, version: HTTPVersion = .http1_1,
                                         headers: HTTPHeaders, into buffer: inout ByteBuffer) throws(HTTPWriteError) {
        guard !target.isEmpty, target.allSatisfy({ $0 > HTTPBytes.sp && $0 < 0x7F }) else { throw .invalidTarget }
        method.withBytes { buffer.writeBytes($0) }
        buffer.writeInteger(HTTPBytes.sp)
        buffer.writeBytes(target)
        buffer.writeInteger(HTTPBytes.sp)
        writeVersion(version, into: &buffer)
        writeCRLF(into: &buffer)
        writeFields(headers, into: &buffer)
    }

    /// Control plane variant: fields as string pairs, validated first.
    package static func writeRequestHead(method: HTTPMethod, target: String, version: HTTPVersion = .http1_1,
                                         headers: [(String, String)], into buffer: inout ByteBuffer) throws(HTTPWriteError) {
        try writeRequestHead(method: method, target: target.utf8, version: version, headers: HTTPHeaders(headers), into: &buffer)
    }

    /// Appends `HTTP/1.x SP status SP reason CRLF`, the fields, and the blank line (RFC 9112 §4).
    /// `reason` defaults to the registered phrase for `status` (RFC 9110 §15).
    package static func writeResponseHead(status: Int, reason: String? = nil, version: HTTPVersion = .http1_1,
                                          headers: HTTPHeaders, into buffer: inout ByteBuffer) throws(HTTPWriteError) {
        guard status >= 100, status <= 999 else { throw .invalidStatus }
        if let reason {
            guard reason.utf8.allSatisfy(HTTPBytes.isFieldValueByte) else { throw .invalidStatus }
        }
        writeVersion(version, into: &buffer)
        buffer.writeInteger(HTTPBytes.sp)
        buffer.writeInteger(UInt8(0x30 + status / 100))
        buffer.writeInteger(UInt8(0x30 + status / 10 % 10))
        buffer.writeInteger(UInt8(0x30 + status % 10))
        buffer.writeInteger(HTTPBytes.sp)
        if let reason {
            buffer.writeString(reason)
        } else {
            reasonPhrase(for: status).withUTF8Buffer { buffer.writeBytes($0) }
        }
        writeCRLF(into: &buffer)
        writeFields(headers, into: &buffer)
    }

    /// Control plane variant: fields as string pairs, validated first.
    package static func writeResponseHead(status: Int, reason: String? = nil, version: HTTPVersion = .http1_1,
                                          headers: [(String, String)], into buffer: inout ByteBuffer) throws(HTTPWriteError) {
        try writeResponseHead(status: status, reason: reason, version: version, headers: HTTPHeaders(headers), into: &buffer)
    }

    /// Appends one chunk: hex size CRLF data CRLF (RFC 9112 §7.1). An empty `bytes` writes
    /// nothing, because a zero-size chunk would end the body.
    package static func writeChunk(_ bytes: some Collection<UInt8>, into buffer: inout ByteBuffer) {
        let count = bytes.count
        guard count > 0 else { return }
        var shift = (Int.bitWidth - count.leadingZeroBitCount + 3) / 4 * 4
        while shift > 0 {
            shift -= 4
            let nibble = UInt8((count >> shift) & 0xF)
            buffer.writeInteger(nibble < 10 ? 0x30 + nibble : 0x61 + nibble - 10)
        }
        writeCRLF(into: &buffer)
        buffer.writeBytes(bytes)
        writeCRLF(into: &buffer)
    }

    /// Appends the last chunk and an empty trailer section: `0 CRLF CRLF`.
    package static func writeLastChunk(into buffer: inout ByteBuffer) {
        lastChunk.withUTF8Buffer { buffer.writeBytes($0) }
    }

    private static let lastChunk: StaticString = "0\r\n\r\n"

    private static func writeVersion(_ version: HTTPVersion, into buffer: inout ByteBuffer) {
        ("HTTP/" as StaticString).withUTF8Buffer { buffer.writeBytes($0) }
        buffer.writeInteger(0x30 + version.major)
        buffer.writeInteger(UInt8(0x2E))
        buffer.writeInteger(0x30 + version.minor)
    }

    @inline(__always)
    private static func writeCRLF(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(0x0D0A))        // big-endian: CR then LF
    }

    private static func writeFields(_ headers: HTTPHeaders, into buffer: inout ByteBuffer) {
        for (name, value) in headers {
            buffer.writeBytes(name)
            buffer.writeInteger(HTTPBytes.colon)
            buffer.writeInteger(HTTPBytes.sp)
            buffer.writeBytes(value)
            writeCRLF(into: &buffer)
        }
        writeCRLF(into: &buffer)
    }
}
