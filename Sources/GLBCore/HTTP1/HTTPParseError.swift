/// Why the parser refused a message. A closed set on the hot path, so an enum with typed throws:
/// no existential box and no allocation (house style §8.3).
///
/// After any of these the connection cannot be trusted to be in sync (RFC 9112 §11.2), so the
/// caller answers with `status` if it is a server, and closes.
package enum HTTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    // Limits
    /// The request line is longer than `HTTPLimits.maxRequestLineBytes`.
    case requestLineTooLong
    /// The head is larger than `HTTPLimits.maxHeadBytes`.
    case headTooLarge
    /// The head has more fields than `HTTPLimits.maxHeaderCount`.
    case tooManyHeaders
    /// The trailer section exceeds `maxTrailerBytes` or `maxTrailerCount`.
    case trailersTooLarge
    /// Content-Length or the chunk sizes exceed `HTTPLimits.maxBodyBytes`.
    case bodyTooLarge

    // Line syntax (RFC 9112 §2.2)
    /// A CR not followed by LF.
    case bareCR
    /// An LF not preceded by CR: GLB requires CRLF, since a lone LF is read differently by
    /// different parsers and so is a smuggling vector.
    case bareLF
    /// A field line that starts with SP or HTAB (obs-fold, RFC 9112 §5.2).
    case obsFold

    // Start line
    /// The method is empty or has a byte that is not a token character.
    case invalidMethod
    /// The request-target is empty or has a space or control byte (RFC 9112 §3.2).
    case invalidTarget
    /// The version is not `HTTP/` DIGIT `.` DIGIT, or the start line is otherwise malformed.
    case invalidVersion
    /// A well-formed version other than HTTP/1.0 and HTTP/1.1.
    case unsupportedVersion
    /// A status line whose status code is not three digits from 100 to 599, or whose reason has a control byte.
    case invalidStatusLine

    // Fields (RFC 9112 §5, RFC 9110 §5)
    /// A field name with a byte that is not a token character, or an empty name.
    case invalidFieldName
    /// Whitespace between a field name and the colon (RFC 9112 §5.1: must be rejected with 400).
    case whitespaceBeforeColon
    /// A field line without a colon.
    case missingColon
    /// A field value with a control byte other than HTAB.
    case invalidFieldValue
    /// An HTTP/1.1 request without a Host field (RFC 9112 §3.2).
    case missingHost
    /// A request with more than one Host field (RFC 9112 §3.2).
    case duplicateHost

    // Framing (RFC 9112 §6)
    /// Content-Length that is not a plain non-negative decimal that fits in an Int.
    case invalidContentLength
    /// More than one Content-Length field, even with equal values.
    case duplicateContentLength
    /// Both Content-Length and Transfer-Encoding (RFC 9112 §6.1: a smuggling attempt).
    case contentLengthWithTransferEncoding
    /// Transfer-Encoding where chunked is not the final coding, is repeated, or the list is empty.
    case invalidTransferEncoding
    /// A transfer coding other than chunked (501, RFC 9112 §6.1).
    case unsupportedTransferCoding
    /// Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1: the framing is faulty).
    case transferEncodingInHTTP10

    // Chunked coding (RFC 9112 §7.1)
    /// A chunk size that is empty, not hex, or too large for an Int.
    case invalidChunkSize
    /// A chunk extension that is malformed or longer than `maxChunkExtensionBytes`.
    case invalidChunkExtension
    /// Chunk data not followed by CRLF.
    case missingChunkCRLF

    // Connection
    /// The peer closed the connection in the middle of a message.
    case truncated

    /// The status a server answers with.
    package var status: Int {
        switch self {
        case .requestLineTooLong: 414
        case .headTooLarge, .tooManyHeaders, .trailersTooLarge: 431
        case .bodyTooLarge: 413
        case .unsupportedTransferCoding: 501
        case .unsupportedVersion: 505
        default: 400
        }
    }

    /// A short phrase a person can act on, for logs and error bodies.
    package var reason: String {
        switch self {
        case .requestLineTooLong: "request line too long: shorten the URL"
        case .headTooLarge: "request header section too large"
        case .tooManyHeaders: "too many header fields"
        case .trailersTooLarge: "trailer section too large"
        case .bodyTooLarge: "body larger than the configured limit"
        case .bareCR: "CR not followed by LF"
        case .bareLF: "line ends in LF without CR: send CRLF"
        case .obsFold: "obsolete line folding is not accepted"
        case .invalidMethod: "invalid method"
        case .invalidTarget: "invalid request target: empty, or contains spaces or control characters"
        case .invalidVersion: "malformed start line or HTTP version"
        case .unsupportedVersion: "HTTP version not supported: use HTTP/1.1 or HTTP/1.0"
        case .invalidStatusLine: "malformed status line"
        case .invalidFieldName: "invalid header field name"
        case .whitespaceBeforeColon: "whitespace between header name and colon"
        case .missingColon: "header line without a colon"
        case .invalidFieldValue: "control character in header field value"
        case .missingHost: "HTTP/1.1 request without Host header"
        case .duplicateHost: "more than one Host header"
        case .invalidContentLength: "invalid Content-Length"
        case .duplicateContentLength: "more than one Content-Length header"
        case .contentLengthWithTransferEncoding: "both Content-Length and Transfer-Encoding"
        case .invalidTransferEncoding: "Transfer-Encoding must end in a single chunked"
        case .unsupportedTransferCoding: "transfer coding not implemented: only chunked is supported"
        case .transferEncodingInHTTP10: "Transfer-Encoding in an HTTP/1.0 message"
        case .invalidChunkSize: "invalid chunk size"
        case .invalidChunkExtension: "invalid or oversized chunk extension"
        case .missingChunkCRLF: "chunk data not followed by CRLF"
        case .truncated: "connection closed in the middle of a message"
        }
    }

    /// `"400 invalid chunk size"`.
    package var description: String { "\(status) \(reason)" }
}
