/// The header fields of one message: ordered, duplicates kept, names and values as byte ranges into
/// one array.
///
/// For a parsed message that array is the head's own copy of the wire bytes, so holding headers
/// costs no `String` and no per-field allocation. Lookups ignore ASCII case (RFC 9110 §5.1) and
/// allocate nothing. The same type builds outgoing heads: `add` appends bytes and an index entry,
/// `remove` only drops index entries, so ranges taken earlier stay valid.
package struct HTTPHeaders: Sendable, RandomAccessCollection {
    struct Field: Sendable {
        var name: Range<Int>
        var value: Range<Int>
    }

    /// The bytes the fields index into (for a parsed head: the whole head).
    private(set) var storage: [UInt8]
    private(set) var fields: [Field] {
        didSet { connectionNamesField = nil }
    }
    /// Whether a Connection token names a field of this list that is not hop-by-hop by itself,
    /// if known: the parser works it out while it reads the Connection tokens anyway, so that
    /// `forEachEndToEndField` need not walk them again. Any edit of the list forgets it.
    var connectionNamesField: Bool?

    /// An empty field list, for building a message.
    package init() {
        storage = []
        fields = []
    }

    /// Used by the parser: `fields` index into `storage`, already validated.
    init(storage: [UInt8], fields: [Field], connectionNamesField: Bool? = nil) {
        self.storage = storage
        self.fields = fields
        self.connectionNamesField = connectionNamesField
    }

    /// Builds a field list from pairs, validating each one (see `add(name:value:)`).
    package init(_ pairs: [(String, String)]) throws(HTTPWriteError) {
        self.init()
        for (name, value) in pairs { try add(name: name, value: value) }
    }

    // MARK: Collection

    /// One field: name and value as slices of the shared storage (OWS already trimmed from the value).
    package typealias Element = (name: ArraySlice<UInt8>, value: ArraySlice<UInt8>)
    /// The first field's position.
    package var startIndex: Int { 0 }
    /// One past the last field.
    package var endIndex: Int { fields.count }
    /// The field at `position`.
    package subscript(position: Int) -> Element {
        let field = fields[position]
        return (storage[field.name], storage[field.value])
    }

    // MARK: Lookup

    @inline(__always)
    func firstIndex(of name: HTTPFieldName, from start: Int = 0) -> Int? {
        name.withBuffer { name in
            storage.withUnsafeBufferPointer { bytes in
                var i = start
                while i < fields.count {
                    if HTTPBytes.equalsIgnoringCase(bytes, fields[i].name, name) { return i }
                    i += 1
                }
                return nil
            }
        }
    }

    /// The value of the first field called `name` (any case), or nil. No allocation.
    package func first(_ name: HTTPFieldName) -> ArraySlice<UInt8>? {
        firstIndex(of: name).map { storage[fields[$0].value] }
    }

    /// The value of the first field called `name`, for callers that hold the name as bytes.
    package func first(_ name: [UInt8]) -> ArraySlice<UInt8>? {
        first(.bytes(name[...]))
    }

    /// True if a field called `name` is present.
    package func contains(_ name: HTTPFieldName) -> Bool {
        firstIndex(of: name) != nil
    }

    /// The values of every field called `name`, in order. Lazy: no allocation.
    package func values(for name: HTTPFieldName) -> Values {
        Values(headers: self, name: name)
    }

    /// The list elements of every field called `name` (for example `tokens(for: "connection")`).
    package func tokens(for name: HTTPFieldName) -> HTTPTokenList {
        HTTPTokenList(values: values(for: name))
    }

    /// Control plane convenience: the first value of `name` decoded as UTF-8, or nil.
    package func firstString(_ name: String) -> String? {
        var name = name
        return name.withUTF8 { buffer in
            first(.bytes(ArraySlice(buffer))).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// The values of the fields with one name, in order.
    package struct Values: Sequence, Sendable {
        let headers: HTTPHeaders
        let name: HTTPFieldName

        /// Walks the fields from the front, one match at a time.
        package struct Iterator: IteratorProtocol {
            let headers: HTTPHeaders
            let name: HTTPFieldName
            var position = 0

            package mutating func next() -> ArraySlice<UInt8>? {
                guard let index = headers.firstIndex(of: name, from: position) else {
                    position = headers.fields.count
                    return nil
                }
                position = index + 1
                return headers.storage[headers.fields[index].value]
            }
        }

        package func makeIterator() -> Iterator { Iterator(headers: headers, name: name) }
    }

    // MARK: Building

    /// Appends a field after validating it: the name must be a token and the value free of
    /// control bytes other than HTAB (RFC 9110 §5.5). Leading and trailing OWS is trimmed from
    /// the value. On error nothing is added.
    package mutating func add(name: some Collection<UInt8>, value: some Collection<UInt8>) throws(HTTPWriteError) {
        guard !name.isEmpty, name.allSatisfy(HTTPBytes.isTokenByte) else { throw .invalidFieldName }
        guard value.allSatisfy(HTTPBytes.isFieldValueByte) else { throw .invalidFieldValue }
        let nameStart = storage.count
        storage.append(contentsOf: name)
        let valueStart = storage.count
        storage.append(contentsOf: value)
        var lower = valueStart
        var upper = storage.count
        while lower < upper, HTTPBytes.isWhitespace(storage[lower]) { lower += 1 }
        while upper > lower, HTTPBytes.isWhitespace(storage[upper - 1]) { upper -= 1 }
        fields.append(Field(name: nameStart..<valueStart, value: lower..<upper))
    }

    /// Appends a field given as strings; see `add(name:value:)` on bytes.
    package mutating func add(name: String, value: String) throws(HTTPWriteError) {
        try add(name: name.utf8, value: value.utf8)
    }

    /// Removes every field called `name`. The bytes stay; only the index shrinks.
    package mutating func remove(_ name: HTTPFieldName) {
        name.withBuffer { name in
            storage.withUnsafeBufferPointer { bytes in
                fields.removeAll { HTTPBytes.equalsIgnoringCase(bytes, $0.name, name) }
            }
        }
    }

    /// Removes the hop-by-hop fields a proxy must not forward (RFC 9110 §7.6.1): every field named
    /// in Connection, then Connection itself and the well-known connection-specific fields
    /// (Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade, Trailer; RFC 9110 §7.6.1
    /// and RFC 9112 §6.1, since the proxy re-frames the body).
    package mutating func removeHopByHopFields() {
        // Usually there is no Connection field, and then nothing but one pass over the index runs.
        // With one, the token list holds a copy of `fields`, so `removeAll` copies the index once.
        if contains("connection") {
            for token in tokens(for: "connection") { remove(.bytes(token)) }
        }
        storage.withUnsafeBufferPointer { bytes in
            fields.removeAll { Self.isHopByHop(bytes, $0.name) }
        }
    }

    /// Calls `body` with every field `removeHopByHopFields()` would keep, in order, without
    /// changing the list. A proxy that writes a head straight to the wire uses this: editing a
    /// copy of a parsed head's index (which the head still shares) would copy it once per message.
    package func forEachEndToEndField(_ body: (_ name: ArraySlice<UInt8>, _ value: ArraySlice<UInt8>) -> Void) {
        // Each field costs one switch on its length. Connection's tokens are looked at once, and
        // per field only if one of them names a field that is present and not hop-by-hop anyway
        // (`close` and `keep-alive`, the usual ones, never are).
        let checkTokens = connectionNamesField ?? connectionNamesPresentField()
        storage.withUnsafeBufferPointer { bytes in
            for field in fields {
                if Self.isHopByHop(bytes, field.name) { continue }
                if checkTokens, namedInConnection(bytes, field.name) { continue }
                body(storage[field.name], storage[field.value])
            }
        }
    }

    /// Appends every field `forEachEndToEndField` yields and `keep` accepts to `buffer` as
    /// `Name: value` CRLF lines. Consecutive fields that the stored bytes already hold in exactly
    /// that form (one SP after the colon, no trailing OWS: what most servers send) are copied as
    /// one run; a field at a time, a response head took ~25 small writes.
    package func writeEndToEndFields(into buffer: inout ByteBuffer, keeping keep: (_ name: ArraySlice<UInt8>) -> Bool) {
        let checkTokens = connectionNamesField ?? connectionNamesPresentField()
        storage.withUnsafeBufferPointer { bytes in
            var runStart = -1, runEnd = -1           // the pending run of canonical lines
            for field in fields {
                if Self.isHopByHop(bytes, field.name) { continue }
                if checkTokens, namedInConnection(bytes, field.name) { continue }
                if !keep(storage[field.name]) { continue }
                let lineEnd = field.value.upperBound + 2
                // Parsed lines end in CRLF; fields added by `add` have no colon and no CR stored.
                let canonical = field.value.lowerBound == field.name.upperBound + 2 && lineEnd <= bytes.count
                    && bytes[field.name.upperBound] == HTTPBytes.colon && bytes[field.name.upperBound + 1] == HTTPBytes.sp
                    && bytes[field.value.upperBound] == HTTPBytes.cr && bytes[field.value.upperBound + 1] == HTTPBytes.lf
                if canonical, field.name.lowerBound == runEnd {
                    runEnd = lineEnd                   // continues the run
                    continue
                }
                if runStart >= 0 { buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[runStart..<runEnd])) }
                runStart = -1
                runEnd = -1
                if canonical {
                    runStart = field.name.lowerBound
                    runEnd = lineEnd
                } else {
                    buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[field.name]))
                    buffer.writeInteger(UInt16(0x3A20))          // ": "
                    buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[field.value]))
                    buffer.writeInteger(UInt16(0x0D0A))
                }
            }
            if runStart >= 0 { buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[runStart..<runEnd])) }
        }
    }

    /// True if a Connection token names a field of this list that is not hop-by-hop by itself.
    private func connectionNamesPresentField() -> Bool {
        guard contains("connection") else { return false }
        for token in tokens(for: "connection") {
            let wellKnown = token.withUnsafeBufferPointer { Self.isHopByHop($0, 0..<$0.count) }
            if !wellKnown, contains(.bytes(token)) { return true }
        }
        return false
    }

    /// True if a token of a Connection field equals the field name at `name`.
    private func namedInConnection(_ bytes: UnsafeBufferPointer<UInt8>, _ name: Range<Int>) -> Bool {
        for token in tokens(for: "connection") {
            let matches = token.withUnsafeBufferPointer { HTTPBytes.equalsIgnoringCase(bytes, name, $0) }
            if matches { return true }
        }
        return false
    }

    /// True if any field's name equals `bytes[name]`, ignoring ASCII case.
    func containsField(named name: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for field in fields where field.name.count == name.count {
            var equal = true
            var i = field.name.lowerBound, j = name.lowerBound
            while i < field.name.upperBound {
                if HTTPBytes.lower(bytes[i]) != HTTPBytes.lower(bytes[j]) { equal = false; break }
                i += 1
                j += 1
            }
            if equal { return true }
        }
        return false
    }

    static func isHopByHop(_ bytes: UnsafeBufferPointer<UInt8>, _ name: Range<Int>) -> Bool {
        func equals(_ literal: StaticString) -> Bool {
            HTTPBytes.equalsIgnoringCase(bytes, name, literal)
        }
        switch name.count {
        case 2: return equals("te")
        case 7: return equals("upgrade") || equals("trailer")
        case 10: return equals("connection") || equals("keep-alive")
        case 16: return equals("proxy-connection")
        case 17: return equals("transfer-encoding")
        default: return false
        }
    }
}
