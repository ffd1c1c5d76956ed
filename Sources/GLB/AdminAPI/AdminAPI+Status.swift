import GLBCore
import HealthProber
import Proxy
import Store

/// Read-only views that span several records: the node's status and the audit log.
extension AdminAPI {
    /// Everything `glb status` prints: the node, its config version, and every service with its
    /// clusters, weights, canary share and health.
    func status() async throws -> HTTPResponse {
        let snapshot: ConfigSnapshot
        do { snapshot = try await store.configSnapshot() } catch { throw APIError(error) }
        let canaries = Dictionary(snapshot.canaries.map { ($0.service, $0) }, uniquingKeysWith: { a, _ in a })
        let clustersByService = Dictionary(grouping: snapshot.clusters, by: \.service)
        let health = running.health()
        let verdicts = running.verdicts()
        var services: [JSONValue] = []
        for service in snapshot.services.sorted(by: { $0.fqdn < $1.fqdn }) {
            var clusters: [JSONValue] = []
            for cluster in (clustersByService[service.name] ?? []).sorted(by: { $0.name < $1.name }) {
                guard case .object(var members) = try Self.value(cluster) else { continue }
                let canary = canaries[service.name]
                let share: JSONValue = canary.map { $0.cluster == cluster.name ? .number("\($0.percent)") : .null } ?? .null
                members.append(("canary_percent", share))
                if let target = health[cluster.key] {
                    members.append(("health", .string(target.status.rawValue)))
                    members.append(("last_probe", .string(target.lastReason)))
                    members.append(("rtt_ms", target.rtt.map { .number(String(Double($0.microseconds / 10) / 100)) } ?? .null))
                } else {
                    members.append(("health", .string("unprobed")))
                }
                // The GLB-wide verdict DNS answers by: down only when most fresh observers see it down.
                let verdict = verdicts[cluster.key]
                members.append(("quorum", .object([
                    ("answered", .bool(verdict?.up ?? true)),
                    ("up_votes", .number(String(verdict?.upVotes ?? 0))),
                    ("down_votes", .number(String(verdict?.downVotes ?? 0))),
                ])))
                clusters.append(.object(members))
            }
            services.append(.object([
                ("name", .string(service.name)), ("fqdn", .string(service.fqdn)), ("zone", .string(service.zone)),
                ("policy", .string(service.policy.rawValue)), ("ttl", .number(String(service.ttl))),
                ("mode", .string(service.mode.rawValue)), ("clusters", .array(clusters)),
            ]))
        }
        let uptime = (clock.now - startedAt).milliseconds / 1000
        let members = running.members()
        return Self.json(200, .object([
            ("node", .object([("name", .string(node.name)), ("region", .string(node.region))])),
            ("config_version", .string(snapshot.version.readable)),
            ("uptime_s", .number(String(uptime))),
            ("members", .number(String(members?.filter { !$0.status.isGone }.count ?? 1))),
            // Every node with the config version it serves; empty without gossip.
            ("nodes", .array((members ?? []).map(\.json))),
            ("zones", .array(snapshot.zones.map { .string($0.name) })),
            ("services", .array(services)),
            ("tls_certificates", .array(certificateStatus())),
        ]))
    }

    /// Each certificate --https serves, with its days to expiry and `ok`, `expiring` (within
    /// `CertificateInfo.warningDays`) or `expired`.
    func certificateStatus() -> [JSONValue] {
        let now = clock.wallMilliseconds
        return running.certificates().map { info in
            let days = info.daysToExpiry(wallMilliseconds: now)
            let state = days < 0 ? "expired" : days <= CertificateInfo.warningDays ? "expiring" : "ok"
            return .object([
                ("name", .string(info.name)),
                ("dns_names", .array(info.dnsNames.map { .string($0) })),
                ("default", .bool(info.isDefault)),
                ("not_after", .string(UTCTimestamp.format(secondsSinceEpoch: info.notAfter))),
                ("days_to_expiry", .number(String(Int(days)))),
                ("state", .string(state)),
                ("file", .string(info.certificateFile)),
            ])
        }
    }

    /// `GET /v1/members`: every gossip member this node knows, itself first. With gossip off the
    /// list is empty and `gossip` is false, so a script can tell "alone by design" from "alone".
    func membersAnswer() -> HTTPResponse {
        let members = running.members()
        return Self.json(200, .object([
            ("gossip", .bool(members != nil)),
            ("members", .array((members ?? []).map(\.json))),
        ]))
    }

    /// The newest health transitions this node saw: `?limit=N` (1-1000, default 100),
    /// `?target=www/eu`.
    func events(_ request: HTTPRequest) async throws -> HTTPResponse {
        let query = request.query
        let limit = try Self.limit(query)
        let events: [HealthEvent]
        do { events = try await store.healthEvents(limit: limit, target: query["target"]) } catch { throw APIError(error) }
        return Self.json(200, .object([("events", .array(try events.map(Self.value)))]))
    }

    static func limit(_ query: [String: String]) throws(APIError) -> Int {
        guard let text = query["limit"] else { return 100 }
        guard let n = Int(text), (1...1000).contains(n) else { throw .badRequest("limit must be a whole number from 1 to 1000", field: "limit") }
        return n
    }

    /// The kinds of record the audit log names; `?entity=` takes one of them.
    static let auditEntities = ["zone", "service", "cluster", "canary", "node"]

    /// The newest audit entries: `?limit=N` (1-1000, default 100), `?entity=cluster`, `?key=www/eu`.
    func audit(_ request: HTTPRequest) async throws -> HTTPResponse {
        let query = request.query
        let limit = try Self.limit(query)
        // A misspelt kind (`clusters`) would otherwise match nothing and look like an empty log.
        if let entity = query["entity"], !Self.auditEntities.contains(entity) {
            throw APIError.badRequest("entity must be one of \(Self.auditEntities.joined(separator: ", ")), got \"\(entity)\"", field: "entity")
        }
        let entries: [AuditEntry]
        do { entries = try await store.auditLog(limit: limit, entity: query["entity"], key: query["key"]) } catch { throw APIError(error) }
        return Self.json(200, .object([("entries", .array(try entries.map(Self.value)))]))
    }
}
