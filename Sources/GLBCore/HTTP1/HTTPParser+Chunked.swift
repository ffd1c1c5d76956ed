extension HTTPParser {
    /// At most this many hex digits in a chunk size: 16 digits fill 64 bits, and Int holds 63.
    static let maxChunkSizeDigits = 16

    /// Reads one chunk-size line (RFC 9112 §7.1): chunk-size [ chunk-ext ] CRLF. Extensions are
    /// checked for bad bytes, bounded by `maxChunkExtensionBytes`, and ignored (§7.1.1).
    /// Returns nil until the whole line is in `buffer`; a line is re-scanned from its start on
    /// each call, which the bound keeps cheap.
    mutating func readChunkSize(_ buffer: inout ByteBuffer) throws(HTTPParseError) -> Int? {
        let maxExtension = limits.maxChunkExtensionBytes
        let result = try buffer.withUnsafeReadableBuffer { (p: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> (size: Int, length: Int)? in
            var i = 0
            var size = 0
            while i < p.count, let digit = Self.hexValue(p[i]) {
                guard i < Self.maxChunkSizeDigits, size <= (Int.max - digit) / 16 else { throw .invalidChunkSize }
                size = size * 16 + digit
                i += 1
            }
            guard i < p.count else { return nil }
            guard i > 0 else { throw .invalidChunkSize }
            // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ): only whitespace may
            // come before the first ";", and nothing that could end a line early or hide one.
            let extensionStart = i
            var sawSemicolon = false
            while i < p.count, p[i] != HTTPBytes.cr {
                let byte = p[i]
                if byte == HTTPBytes.lf { throw .bareLF }
                if byte == HTTPBytes.semicolon {
                    sawSemicolon = true
                } else if !sawSemicolon {
                    guard HTTPBytes.isWhitespace(byte) else { throw .invalidChunkSize }
                } else {
                    guard HTTPBytes.isFieldValueByte(byte) else { throw .invalidChunkExtension }
                }
                i += 1
                guard i - extensionStart <= maxExtension else { throw .invalidChunkExtension }
            }
            guard i + 1 < p.count else { return nil }
            guard p[i + 1] == HTTPBytes.lf else { throw .bareCR }
            guard i == extensionStart || sawSemicolon else { throw .invalidChunkSize }
            return (size, i + 2)
        }
        guard let result else { return nil }
        buffer.moveReaderIndex(forwardBy: result.length)
        return result.size
    }

    /// Reads one trailer line (RFC 9112 §7.1.2). Trailer fields are validated like header fields,
    /// counted against the trailer limits and dropped: GLB forwards no trailers, so none can
    /// smuggle a field a later hop would merge into the head.
    /// Returns true at the blank line that ends the message, false after a field, nil for more bytes.
    mutating func readTrailerLine(_ buffer: inout ByteBuffer, bytes: Int, count: Int) throws(HTTPParseError) -> Bool? {
        let budget = limits.maxTrailerBytes - bytes
        let lineLength = try buffer.withUnsafeReadableBuffer { (p: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> Int? in
            var i = 0
            while i < p.count, p[i] != HTTPBytes.cr {
                if p[i] == HTTPBytes.lf { throw .bareLF }
                i += 1
                guard i <= budget else { throw .trailersTooLarge }
            }
            guard i + 1 < p.count else { return nil }
            guard p[i + 1] == HTTPBytes.lf else { throw .bareCR }
            if i > 0 { _ = try Self.parseFieldLine(p, start: 0) }       // the first CR is at i
            return i
        }
        guard let lineLength else { return nil }
        buffer.moveReaderIndex(forwardBy: lineLength + 2)
        if lineLength == 0 { return true }
        guard count + 1 <= limits.maxTrailerCount, lineLength + 2 <= budget else { throw .trailersTooLarge }
        state = .trailers(bytes: bytes + lineLength + 2, count: count + 1)
        return false
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }
}
