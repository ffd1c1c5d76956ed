/// Every route of the admin API, in one table: the dispatcher matches against it, `405` answers
/// list the methods it allows, and a test checks it against docs/openapi.json so the document
/// and the server cannot drift apart.
enum AdminRoute: CaseIterable, Sendable {
    case healthz, readyz, metrics
    case status, audit, events, members
    case zones, zone
    case services, service
    case clusters, cluster
    case explain
    case canary, canaryPromote

    /// The path template, in OpenAPI's `{name}` notation.
    var template: String {
        switch self {
        case .healthz: "/healthz"
        case .readyz: "/readyz"
        case .metrics: "/metrics"
        case .status: "/v1/status"
        case .audit: "/v1/audit"
        case .events: "/v1/events"
        case .members: "/v1/members"
        case .zones: "/v1/zones"
        case .zone: "/v1/zones/{zone}"
        case .services: "/v1/services"
        case .service: "/v1/services/{service}"
        case .clusters: "/v1/services/{service}/clusters"
        case .cluster: "/v1/services/{service}/clusters/{cluster}"
        case .explain: "/v1/services/{service}/explain"
        case .canary: "/v1/services/{service}/canary"
        case .canaryPromote: "/v1/services/{service}/canary/promote"
        }
    }

    var methods: [String] {
        switch self {
        case .zone, .service, .cluster: ["GET", "PUT", "PATCH", "DELETE"]
        case .canary: ["GET", "PUT", "DELETE"]
        case .canaryPromote: ["POST"]
        default: ["GET"]
        }
    }

    /// Matches decoded path segments; returns the route and its parameters in template order.
    static func match(_ segments: [String]) -> (route: AdminRoute, parameters: [String])? {
        for route in allCases {
            let pattern = route.template.split(separator: "/").map(String.init)
            guard pattern.count == segments.count else { continue }
            var parameters: [String] = []
            var matched = true
            for (expected, actual) in zip(pattern, segments) {
                if expected.hasPrefix("{") {
                    parameters.append(actual)
                } else if expected != actual {
                    matched = false
                    break
                }
            }
            if matched { return (route, parameters) }
        }
        return nil
    }
}
