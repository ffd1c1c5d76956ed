/// Why `HTTPWriter` or `HTTPHeaders.add` refused to write a message part. Nothing was written.
///
/// These exist so that a CR or LF in a value from the control plane (a service name, a header set
/// through the admin API) can never split a response or smuggle a header (RFC 9110 §5.5).
package enum HTTPWriteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A field name that is empty or not a token (RFC 9110 §5.1).
    case invalidFieldName
    /// A field value with CR, LF, NUL or another control byte other than HTAB (RFC 9110 §5.5).
    case invalidFieldValue
    /// A request-target that is empty or has a space or control byte.
    case invalidTarget
    /// A status outside 100...999 or a reason phrase with a control byte.
    case invalidStatus

    /// A message for the log or for the person who configured the value.
    package var description: String {
        switch self {
        case .invalidFieldName: "header name must be a non-empty token"
        case .invalidFieldValue: "header value contains CR, LF or another control character"
        case .invalidTarget: "request target must be non-empty, without spaces or control characters"
        case .invalidStatus: "status must be three digits and the reason free of control characters"
        }
    }
}
