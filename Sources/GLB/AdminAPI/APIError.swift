import GLBCore
import Store

/// An answer the admin API gives instead of doing what was asked: a status and a message a
/// person can act on, plus the offending field when there is one. Rendered as
/// `{"error": "...", "field": "..."}`.
struct APIError: Error, Equatable {
    var status: Int
    var message: String
    var field: String?
    var headers: [(name: String, value: String)] = []

    static func == (a: APIError, b: APIError) -> Bool {
        a.status == b.status && a.message == b.message && a.field == b.field
    }

    static func badRequest(_ message: String, field: String? = nil) -> APIError { APIError(status: 400, message: message, field: field) }
    static func notFound(_ message: String) -> APIError { APIError(status: 404, message: message) }
    static func conflict(_ message: String) -> APIError { APIError(status: 409, message: message) }
    /// Well-formed fields that contradict each other or the path: what the document's schemas
    /// cannot rule out, so a client that checked its request against them still learns why.
    static func unprocessable(_ message: String, field: String? = nil) -> APIError { APIError(status: 422, message: message, field: field) }

    static func methodNotAllowed(_ method: String, allowed: [String]) -> APIError {
        APIError(status: 405, message: "method \(method) is not allowed here; use \(allowed.joined(separator: ", "))",
                 headers: [("Allow", allowed.joined(separator: ", "))])
    }

    /// Maps a store failure onto HTTP: not found 404, conflict 409, invalid 400, inconsistent 422,
    /// anything else 500 (with the detail logged by the caller, not sent).
    init(_ error: StoreError) {
        switch error.kind {
        case .notFound: self.init(status: 404, message: error.message, field: error.field)
        case .conflict: self.init(status: 409, message: error.message, field: error.field)
        case .invalid: self.init(status: 400, message: error.message, field: error.field)
        case .inconsistent: self.init(status: 422, message: error.message, field: error.field)
        default: self.init(status: 500, message: "the store failed: \(error.message)")
        }
    }

    init(status: Int, message: String, field: String? = nil, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.message = message
        self.field = field
        self.headers = headers
    }

    var response: HTTPResponse {
        var members: [(key: String, value: JSONValue)] = [("error", .string(message))]
        if let field { members.append(("field", .string(field))) }
        var response = HTTPResponse(status: status, contentType: "application/json", body: JSONValue.object(members).serialized() + "\n")
        response.headers.append(contentsOf: headers)
        return response
    }
}
