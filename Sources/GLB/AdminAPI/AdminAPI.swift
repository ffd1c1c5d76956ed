import FoundationEssentials
import GLBCore
import HealthProber
import Proxy
import Store

/// The admin REST API: JSON over HTTP/1.1 on its own listener (docs/architecture.md "Interfaces").
///
/// Each request is matched against `AdminRoute`, authorised by `AdminAuth`, then served from the
/// `Store` actor. Every failure is a JSON `{"error", "field"}` with the status that fits:
/// 400 invalid input, 401/403 auth, 404 unknown thing, 405 wrong method, 409 conflict,
/// 413 body too large (from the server), 415 a body that is not JSON, 422 valid fields that
/// contradict each other, 500 a store failure.
struct AdminAPI: HTTPHandler {
    let store: Store
    let metrics: MetricsRegistry
    let auth: AdminAuth
    let node: NodeIdentity
    /// The routing snapshot the data plane serves, for `explain`.
    let publisher: SnapshotPublisher
    /// The running node: health, quorum, gossip members, certificates, readiness, and the
    /// snapshot to publish after a write.
    let running: any AdminNode
    let clock: any GLBClock
    let startedAt: Instant
    let logger: Logger

    struct NodeIdentity: Sendable {
        var name: String
        var region: String
    }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        do {
            let response = try await route(request)
            if request.method != "GET", request.method != "HEAD", (200..<300).contains(response.status) { await running.configWritten() }
            return response
        } catch let error as APIError {
            if error.status >= 500 { logger.error("admin request failed", ["target": request.target, "error": error.message]) }
            return error.response
        } catch let error as StoreError {
            let answer = APIError(error)
            if answer.status >= 500 { logger.error("admin request failed", ["target": request.target, "error": "\(error)"]) }
            return answer.response
        } catch {
            logger.error("admin request failed", ["target": request.target, "error": "\(error)"])
            return APIError(status: 500, message: "internal error").response
        }
    }

    private func route(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let segments = request.pathSegments else { throw APIError.badRequest("the path has an invalid percent-escape") }
        guard let (route, parameters) = AdminRoute.match(segments) else {
            throw APIError.notFound("no such endpoint: \(request.path); see docs/openapi.json")
        }
        let method = request.method == "HEAD" ? "GET" : request.method
        guard route.methods.contains(method) else { throw APIError.methodNotAllowed(request.method, allowed: route.methods) }

        let scope: AdminAuth.Scope = switch route {
        case .healthz, .readyz, .metrics: .open
        default: method == "GET" ? .read : .write
        }
        let identity = try auth.authorize(request, scope: scope).get()
        if scope == .write, !request.body.isEmpty { try Self.checkContentType(request) }
        let context = WriteContext(actor: identity.auditName, source: request.remote.map { "\($0)" } ?? "local")

        switch (route, method) {
        case (.healthz, _):
            return Self.json(200, .object([("status", .string("ok"))]))
        case (.readyz, _):
            return running.isReady ? Self.json(200, .object([("status", .string("ready"))]))
                             : Self.json(503, .object([("status", .string("starting or stopping"))]))
        case (.metrics, _):
            return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.render())
        case (.status, _):
            return try await status()
        case (.members, _):
            return membersAnswer()
        case (.audit, _):
            return try await audit(request)
        case (.zones, _):
            return Self.json(200, .object([("zones", .array(try await store.zones().map(Self.value)))]))
        case (.zone, "GET"):
            guard let zone = try await store.zone(named: Self.zoneName(parameters[0])) else { throw APIError.notFound("zone \"\(parameters[0])\" not found") }
            return Self.json(200, try Self.value(zone))
        case (.zone, "PUT"):
            return try await putZone(Self.zoneName(parameters[0]), request.body, context)
        case (.zone, "PATCH"):
            return try await patchZone(Self.zoneName(parameters[0]), request.body, context)
        case (.zone, _):
            guard let zone = try await store.deleteZone(named: Self.zoneName(parameters[0]), context: context) else { throw APIError.notFound("zone \"\(parameters[0])\" not found") }
            return Self.json(200, try Self.value(zone))
        case (.services, _):
            let zone = request.query["zone"].map(Self.zoneName)
            return Self.json(200, .object([("services", .array(try await store.services(zone: zone).map(Self.serviceValue)))]))
        case (.service, "GET"):
            guard let service = try await store.service(named: parameters[0]) else { throw APIError.notFound("service \"\(parameters[0])\" not found") }
            return Self.json(200, try Self.serviceValue(service))
        case (.service, "PUT"):
            return try await putService(parameters[0], request.body, context)
        case (.service, "PATCH"):
            return try await patchService(parameters[0], request.body, context)
        case (.service, _):
            guard let service = try await store.deleteService(named: parameters[0], context: context) else { throw APIError.notFound("service \"\(parameters[0])\" not found") }
            return Self.json(200, try Self.serviceValue(service))
        case (.canary, "GET"):
            guard let split = try await store.canary(service: parameters[0]) else {
                throw APIError.notFound("service \"\(parameters[0])\" has no canary")
            }
            return Self.json(200, try Self.value(split))
        case (.canary, "PUT"):
            return try await putCanary(service: parameters[0], request.body, context)
        case (.canary, _):
            guard let split = try await store.clearCanary(service: parameters[0], context: context) else {
                throw APIError.notFound("service \"\(parameters[0])\" has no canary to abort")
            }
            return Self.json(200, try Self.value(split))
        case (.canaryPromote, _):
            let promotion = try await store.promoteCanary(service: parameters[0], context: context)
            return Self.json(200, .object([("promoted", try Self.value(promotion.canary)),
                                           ("drained", .array(promotion.drained.map { .string($0) }))]))
        case (.events, _):
            return try await events(request)
        case (.explain, _):
            return try explain(service: parameters[0], request.query)
        case (.clusters, _):
            guard try await store.service(named: parameters[0]) != nil else { throw APIError.notFound("service \"\(parameters[0])\" not found") }
            return Self.json(200, .object([("clusters", .array(try await store.clusters(service: parameters[0]).map(Self.value)))]))
        case (.cluster, "GET"):
            guard let cluster = try await store.cluster(service: parameters[0], name: parameters[1]) else {
                throw APIError.notFound("cluster \"\(parameters[1])\" of service \"\(parameters[0])\" not found")
            }
            return Self.json(200, try Self.value(cluster))
        case (.cluster, "PUT"):
            return try await putCluster(service: parameters[0], name: parameters[1], request.body, context)
        case (.cluster, "PATCH"):
            return try await patchCluster(service: parameters[0], name: parameters[1], request.body, context)
        case (.cluster, _):
            guard let cluster = try await store.deleteCluster(service: parameters[0], name: parameters[1], context: context) else {
                throw APIError.notFound("cluster \"\(parameters[1])\" of service \"\(parameters[0])\" not found")
            }
            return Self.json(200, try Self.value(cluster))
        }
    }

    /// Bodies must be JSON. `application/x-www-form-urlencoded` is accepted too, because that is
    /// what `curl -d` sends by default and the README's operator story uses plain `curl -d`.
    static func checkContentType(_ request: HTTPRequest) throws(APIError) {
        guard let type = request.header("Content-Type") else { return }
        let essence = type.split(separator: ";").first.map { $0.filter { $0 != " " && $0 != "\t" }.lowercased() } ?? ""
        let accepted = ["application/json", "application/x-www-form-urlencoded", "text/json"]
        guard accepted.contains(essence) || essence.hasSuffix("+json") else {
            throw APIError(status: 415, message: "the body must be JSON (Content-Type: application/json), got \(type)")
        }
    }

    static func zoneName(_ text: String) -> String {
        let lower = text.lowercased()
        return lower.hasSuffix(".") ? lower : lower + "."
    }

    // MARK: JSON helpers

    static func json(_ status: Int, _ value: JSONValue) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: value.serialized(sortedKeys: true) + "\n")
    }

    /// A store record as a JSON value, through its `Codable` form (snake_case keys).
    static func value(_ record: some Encodable) throws -> JSONValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try JSONParser.parse(Array(try encoder.encode(record)))
    }

    static func serviceValue(_ service: Service) throws -> JSONValue {
        guard case .object(var members) = try value(service) else { return .null }
        members.append(("fqdn", .string(service.fqdn)))
        return .object(members)
    }
}

extension Result where Failure == APIError {
    /// Lets `try` unwrap an authorisation result inside a throwing function.
    func get() throws(APIError) -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let error): throw error
        }
    }
}
