import GLBCore

/// Who may do what on the admin API.
///
/// With no tokens configured (a loopback-only admin listener, the operator's quick start) every
/// request is allowed. With `--admin-token`, writes need `Authorization: Bearer <admin token>`.
/// With `--read-token` as well, reads need either token. Health and metrics stay open so
/// probes and Prometheus need no secret. Tokens are compared in constant time.
struct AdminAuth: Sendable {
    enum Scope: Sendable { case open, read, write }

    enum Identity: Equatable, Sendable {
        case anonymous, reader, admin
        /// How the audit log names this caller.
        var auditName: String {
            switch self {
            case .anonymous: "anonymous"
            case .reader: "token:read"
            case .admin: "token:admin"
            }
        }
    }

    var adminToken: String?
    var readToken: String?

    /// The caller's identity, or the error to answer with.
    func authorize(_ request: HTTPRequest, scope: Scope) -> Result<Identity, APIError> {
        let presented = Self.bearer(request.header("Authorization"))
        var identity = Identity.anonymous
        if let presented {
            if let adminToken, Self.constantTimeEqual(presented, adminToken) {
                identity = .admin
            } else if let readToken, Self.constantTimeEqual(presented, readToken) {
                identity = .reader
            } else {
                return .failure(unauthorized("the bearer token is not valid for this node"))
            }
        }
        switch scope {
        case .open:
            return .success(identity)
        case .read:
            if readToken != nil, identity == .anonymous { return .failure(unauthorized("reads need a bearer token (--read-token or --admin-token)")) }
            return .success(identity)
        case .write:
            if adminToken != nil, identity != .admin {
                return .failure(identity == .anonymous
                    ? unauthorized("writes need Authorization: Bearer <admin token>")
                    : APIError(status: 403, message: "this token may only read; writes need the admin token"))
            }
            return .success(identity)
        }
    }

    private func unauthorized(_ message: String) -> APIError {
        APIError(status: 401, message: message, headers: [("WWW-Authenticate", "Bearer realm=\"glb\"")])
    }

    static func bearer(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1])
    }

    /// Compares without an early exit, so response timing does not reveal how many leading
    /// characters of a guess were right.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for i in 0..<max(x.count, y.count) {
            difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return difference == 0
    }
}
