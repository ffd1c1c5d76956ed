extension HTTPParser {
    /// Finds the end of the head without copying, then copies it once and parses the copy.
    ///
    /// Scanning first means a slow client costs one pass over its bytes in total (`scan` resumes
    /// where the last call stopped), and a head over the limits is refused before it is copied.
    mutating func readHead(_ buffer: inout ByteBuffer) throws(HTTPParseError) -> HTTPHead? {
        if kind == .request, scan.offset == 0 {
            // RFC 9112 §2.2: a server SHOULD ignore at least one empty line received before the
            // request line. They are consumed, so an endless stream of them holds no memory.
            while buffer.getByte(at: buffer.readerIndex) == HTTPBytes.cr {
                guard let lf = buffer.getByte(at: buffer.readerIndex + 1) else { return nil }
                guard lf == HTTPBytes.lf else { throw .bareCR }
                buffer.moveReaderIndex(forwardBy: 2)
            }
        }
        guard let end = try scanHead(buffer) else { return nil }
        let lines = scan.lines
        scan = HeadScan()
        // The one copy per message: the head leaves the read buffer so the buffer can be reused.
        // Into the last head's storage when the caller has let that head go (it is then
        // uniquely referenced again, and `removeAll(keepingCapacity:)` keeps it); otherwise
        // this allocates, as a fresh array would.
        var bytes = spareBytes
        spareBytes = []
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: buffer.readableView.prefix(end))
        buffer.moveReaderIndex(forwardBy: end)
        var fields = spareFields
        spareFields = []
        fields.removeAll(keepingCapacity: true)
        fields.reserveCapacity(lines - 1)
        let head = try makeHead(bytes, fields: &fields)
        // Kept for the next head, unless large: a rare 60 KiB head should not stay with the connection.
        if bytes.capacity <= 4096 { spareBytes = head.headers.storage }
        if fields.capacity <= 64 { spareFields = head.headers.fields }
        return head
    }

    /// Returns the length of the head (through its blank line) once it is all in `buffer`.
    /// Checks line endings (CRLF only, RFC 9112 §2.2) and the size limits on the way.
    private mutating func scanHead(_ buffer: ByteBuffer) throws(HTTPParseError) -> Int? {
        let limit = min(buffer.readableBytes, limits.maxHeadBytes)
        let isRequest = kind == .request
        let maxLine = limits.maxRequestLineBytes
        let maxFields = limits.maxHeaderCount
        var s = scan
        let end = try buffer.withUnsafeReadableBuffer { (p: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> Int? in
            var i = s.offset
            while i < limit {
                // Jump to the next CR or LF: the bytes between need no look one at a time.
                let next = HTTPBytes.firstLineBreak(p, from: i, limit: limit)
                // Checked by position, before looking at the byte, so the verdict does not depend on
                // how much has arrived: a line whose CR would sit past this point cannot fit.
                if s.lines == 0, isRequest, Swift.min(next, limit - 1) > maxLine - 2 { throw .requestLineTooLong }
                i = next
                guard i < limit else { break }
                if p[i] == HTTPBytes.lf { throw .bareLF }      // every valid LF is consumed with its CR below
                guard i + 1 < p.count else { break }          // wait for the byte after CR
                guard p[i + 1] == HTTPBytes.lf else { throw .bareCR }
                if i == s.lineStart {
                    guard s.lines > 0 else { throw isRequest ? .invalidMethod : .invalidStatusLine }
                    s.offset = i
                    return i + 2
                }
                s.lines += 1
                if s.lines - 1 > maxFields { throw .tooManyHeaders }
                i += 2
                s.lineStart = i
            }
            s.offset = i
            return nil
        }
        scan = s
        if let end {
            guard end <= limits.maxHeadBytes else { throw .headTooLarge }
            return end
        }
        if s.lines == 0, isRequest, s.offset > maxLine - 2 { throw .requestLineTooLong }
        if buffer.readableBytes >= limits.maxHeadBytes { throw .headTooLarge }
        return nil
    }

    /// Parses a complete head whose line endings `scanHead` already checked.
    /// `fields` comes in empty with room for every field, and inout: a copy would not be unique,
    /// and the first append would copy it.
    private func makeHead(_ bytes: [UInt8], fields: inout [HTTPHeaders.Field]) throws(HTTPParseError) -> HTTPHead {
        var startLine = StartLine()
        var seen = SeenFields()
        try bytes.withUnsafeBufferPointer { (p: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) in
            // `scanHead` checked that every CR or LF is a CRLF, so the first break is a CR.
            let startEnd = HTTPBytes.firstLineBreak(p, from: 0, limit: p.count)
            startLine = try kind == .request ? Self.parseRequestLine(p, end: startEnd) : Self.parseStatusLine(p, end: startEnd)
            var lineStart = startEnd + 2
            while lineStart < p.count - 2 {
                let (field, lineEnd) = try Self.parseFieldLine(p, start: lineStart)
                seen.note(p, field, index: fields.count)
                fields.append(field)
                lineStart = lineEnd + 2
            }
        }
        let headers = HTTPHeaders(storage: bytes, fields: fields)
        return try HTTPHeadBuilder(kind: kind, startLine: startLine, seen: seen, headers: headers,
                                   requestMethod: requestMethod, limits: limits).build()
    }

    /// RFC 9112 §3: request-line = method SP request-target SP HTTP-version.
    private static func parseRequestLine(_ p: UnsafeBufferPointer<UInt8>, end: Int) throws(HTTPParseError) -> StartLine {
        var i = 0
        while i < end, p[i] != HTTPBytes.sp {
            guard HTTPBytes.isTokenByte(p[i]) else { throw .invalidMethod }
            i += 1
        }
        guard i > 0 else { throw .invalidMethod }
        guard i < end else { throw .invalidVersion }
        let method = HTTPMethod(bytes: UnsafeBufferPointer(rebasing: p[0..<i]))!
        // The version follows the last SP, so a space inside the target is reported as one.
        var lastSpace = end - 1
        while p[lastSpace] != HTTPBytes.sp { lastSpace -= 1 }
        guard lastSpace > i else { throw .invalidVersion }     // no version: HTTP/0.9 is not supported
        let target = (i + 1)..<lastSpace
        guard !target.isEmpty else { throw .invalidTarget }
        for j in target where p[j] <= HTTPBytes.sp || p[j] >= 0x7F { throw .invalidTarget }
        let version = try parseVersion(p, (lastSpace + 1)..<end)
        return StartLine(version: version, method: method, target: target)
    }

    /// RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]. A missing
    /// final SP is accepted: servers omit it, and clients ignore the reason anyway.
    private static func parseStatusLine(_ p: UnsafeBufferPointer<UInt8>, end: Int) throws(HTTPParseError) -> StartLine {
        guard end >= 12, p[8] == HTTPBytes.sp else { throw .invalidStatusLine }
        let version = try parseVersion(p, 0..<8)
        var status = 0
        for j in 9..<12 {
            guard p[j] >= 0x30, p[j] <= 0x39 else { throw .invalidStatusLine }
            status = status * 10 + Int(p[j] - 0x30)
        }
        guard status >= 100, status <= 599 else { throw .invalidStatusLine }
        var reason = 12..<12
        if end > 12 {
            guard p[12] == HTTPBytes.sp else { throw .invalidStatusLine }
            reason = 13..<end
            for j in reason where !HTTPBytes.isFieldValueByte(p[j]) { throw .invalidStatusLine }
        }
        return StartLine(version: version, status: status, reason: reason)
    }

    /// RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive. Well-formed but
    /// other than 1.0 or 1.1 is 505.
    private static func parseVersion(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(HTTPParseError) -> HTTPVersion {
        let b = range.lowerBound
        guard range.count == 8, p[b] == 0x48, p[b + 1] == 0x54, p[b + 2] == 0x54, p[b + 3] == 0x50, p[b + 4] == 0x2F,
              p[b + 6] == 0x2E, (0x30...0x39).contains(p[b + 5]), (0x30...0x39).contains(p[b + 7])
        else { throw .invalidVersion }
        let version = HTTPVersion(major: p[b + 5] - 0x30, minor: p[b + 7] - 0x30)
        guard version == .http1_1 || version == .http1_0 else { throw .unsupportedVersion }
        return version
    }

    /// RFC 9112 §5: field-line = field-name ":" OWS field-value OWS. Rejects obs-fold (§5.2),
    /// whitespace before the colon (§5.1) and control bytes in the value (RFC 9110 §5.5).
    ///
    /// The line starts at `start` and ends at the first CR after it, which the caller guarantees
    /// is there (and is the line's CRLF). Finding it and checking the value are one scan: the
    /// first control byte of a valid value is that CR. Returns the field and the CR's index.
    static func parseFieldLine(_ p: UnsafeBufferPointer<UInt8>, start: Int) throws(HTTPParseError) -> (field: HTTPHeaders.Field, end: Int) {
        guard !HTTPBytes.isWhitespace(p[start]) else { throw .obsFold }
        // The name runs to the first non-tchar, which must be the colon; CR, SP/HTAB and any
        // other byte there are the errors the byte-at-a-time loop reported for them.
        let i = HTTPBytes.endOfToken(p, from: start)
        let stop = p[i]
        if stop != HTTPBytes.colon {
            if stop == HTTPBytes.cr { throw .missingColon }
            if HTTPBytes.isWhitespace(stop) { throw .whitespaceBeforeColon }
            throw .invalidFieldName
        }
        guard i > start else { throw .invalidFieldName }
        let name = start..<i
        var lower = i + 1
        while HTTPBytes.isWhitespace(p[lower]) { lower += 1 }          // stops at the CR at the latest
        var end = lower
        while true {
            end = HTTPBytes.firstControl(p, from: end, limit: p.count)
            guard end < p.count, p[end] != HTTPBytes.cr else { break }
            guard p[end] == HTTPBytes.htab else { throw .invalidFieldValue }
            end += 1
        }
        var upper = end
        while upper > lower, HTTPBytes.isWhitespace(p[upper - 1]) { upper -= 1 }
        return (HTTPHeaders.Field(name: name, value: lower..<upper), end)
    }
}
