/// A field name to look up: a literal (no allocation) or bytes the caller already holds, such as
/// a token taken from a Connection field.
package enum HTTPFieldName: Sendable, ExpressibleByStringLiteral {
    /// A literal such as `"content-length"`. Any case; lookups ignore ASCII case.
    case literal(StaticString)
    /// Bytes, for example a Connection token naming a field to strip.
    case bytes(ArraySlice<UInt8>)

    /// Lets `headers.first("host")` take a literal with no allocation.
    package init(stringLiteral value: StaticString) { self = .literal(value) }

    @inline(__always)
    func withBuffer<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        switch self {
        case .literal(let name): name.withUTF8Buffer(body)
        case .bytes(let name): name.withUnsafeBufferPointer(body)
        }
    }
}

/// The comma-separated elements of every field with one name, trimmed of OWS, with empty elements
/// skipped (RFC 9110 §5.6.1). Used for Connection, Transfer-Encoding and Upgrade. Allocates nothing.
package struct HTTPTokenList: Sequence, Sendable {
    let values: HTTPHeaders.Values

    /// Iterates the elements in field order, then in list order.
    package struct Iterator: IteratorProtocol {
        var values: HTTPHeaders.Values.Iterator
        var current: ArraySlice<UInt8> = []

        package mutating func next() -> ArraySlice<UInt8>? {
            while true {
                if current.isEmpty {
                    guard let value = values.next() else { return nil }
                    current = value
                    continue
                }
                let end = current.firstIndex(of: HTTPBytes.comma) ?? current.endIndex
                var element = current[current.startIndex..<end]
                current = end < current.endIndex ? current[(end + 1)...] : []
                while let first = element.first, HTTPBytes.isWhitespace(first) { element = element.dropFirst() }
                while let last = element.last, HTTPBytes.isWhitespace(last) { element = element.dropLast() }
                if !element.isEmpty { return element }
            }
        }
    }

    package func makeIterator() -> Iterator { Iterator(values: values.makeIterator()) }

    /// True if any element equals `token`, ignoring ASCII case (tokens such as `close` are
    /// case-insensitive, RFC 9110 §7.6.1).
    package func contains(_ token: StaticString) -> Bool {
        token.withUTF8Buffer { token in
            for element in self {
                let equal = element.withUnsafeBufferPointer { HTTPBytes.equalsIgnoringCase($0, 0..<$0.count, token) }
                if equal { return true }
            }
            return false
        }
    }
}
