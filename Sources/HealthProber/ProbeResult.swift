#if canImport(Glibc)
import Glibc
#endif

/// The outcome of one probe attempt. A failure is data, not a thrown error (STYLE.md §8.3).
package enum ProbeResult: Hashable, Sendable {
    /// The check passed; `rtt` runs from the start of the connect to the verdict.
    case success(rtt: Duration)
    case failure(ProbeFailure)

    package var isSuccess: Bool { if case .success = self { true } else { false } }

    /// The failure, if this is one.
    package var failure: ProbeFailure? { if case .failure(let failure) = self { failure } else { nil } }

    /// `"ok"` or the failure's metric label.
    package var label: String { failure?.reason.label ?? "ok" }
}

/// Why a probe failed: a closed reason to count and route on, plus a short text for people.
/// `Error` only so that it can sit in a `Result`; probes return it, they never throw it.
package struct ProbeFailure: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Reason: Hashable, Sendable {
        /// The connect was refused (RST to the SYN: nothing listens on the port).
        case refused
        /// The peer reset the connection after it was established.
        case reset
        /// The probe did not finish within the spec's timeout.
        case timeout
        /// The TLS handshake failed for a reason other than the certificate.
        case tlsHandshake
        /// The certificate did not verify: untrusted chain, expired, or the wrong name.
        case certificate
        /// The response status was outside the expected range.
        case badStatus(Int)
        /// The body did not contain the expected text.
        case bodyMismatch
        /// The response was not valid HTTP/1.x.
        case malformedResponse
        /// The peer closed the connection before a whole response.
        case closedEarly
        /// The spec cannot be sent (for example a path that is not a valid request target).
        case misconfigured
        /// Any other system error, by errno (EHOSTUNREACH, ENETUNREACH, ...).
        case other(errno: CInt)

        /// A low-cardinality name for metrics and logs (`badStatus` does not carry its code).
        package var label: String {
            switch self {
            case .refused: "refused"
            case .reset: "reset"
            case .timeout: "timeout"
            case .tlsHandshake: "tls_handshake"
            case .certificate: "certificate"
            case .badStatus: "bad_status"
            case .bodyMismatch: "body_mismatch"
            case .malformedResponse: "malformed_response"
            case .closedEarly: "closed_early"
            case .misconfigured: "misconfigured"
            case .other: "other"
            }
        }
    }

    package var reason: Reason
    /// One short line: what was seen, for `glb status` and the transition log.
    package var detail: String

    package init(_ reason: Reason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    package var description: String { "\(reason.label): \(detail)" }

    /// Classifies a socket errno seen while connecting, writing or reading.
    package static func fromErrno(_ code: CInt, during phase: String) -> ProbeFailure {
        let text = String(cString: strerror(code))
        switch code {
        case ECONNREFUSED: return ProbeFailure(.refused, "\(phase): \(text)")
        case ECONNRESET, EPIPE: return ProbeFailure(.reset, "\(phase): \(text)")
        case ETIMEDOUT: return ProbeFailure(.timeout, "\(phase): \(text)")
        default: return ProbeFailure(.other(errno: code), "\(phase): \(text)")
        }
    }
}
