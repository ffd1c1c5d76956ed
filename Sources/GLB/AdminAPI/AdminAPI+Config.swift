import GLBCore
import Store

/// PUT handlers: read the body field by field (so every mistake names its field and unknown
/// fields are refused), build the store record, and let the store validate and commit it.
/// 201 when the PUT created the thing, 200 when it replaced it. A PUT replaces the whole record:
/// a field left out takes its default. PATCH (AdminAPI+Patch.swift) changes only what it names.
extension AdminAPI {
    func putZone(_ name: String, _ body: [UInt8], _ context: WriteContext) async throws -> HTTPResponse {
        var input = try JSONInput.body(body)
        let zone = try Self.zone(name, from: &input)
        return try await commit { () async throws(StoreError) in try await store.putZone(zone, context: context) }
    }

    /// A zone from a whole document (a PUT body, or a record with a merge patch applied).
    static func zone(_ name: String, from input: inout JSONInput) throws(APIError) -> Zone {
        try input.ignoreServerFields()
        if let bodyName = try input.string("name"), Self.zoneName(bodyName) != name {
            throw APIError.unprocessable("name \"\(bodyName)\" does not match the zone in the path", field: "name")
        }
        let zone = Zone(name: name, ttl: try input.int("ttl") ?? 300, negativeTTL: try input.int("negative_ttl") ?? 30,
                        nameservers: try input.strings("nameservers") ?? [], hostmaster: try input.string("hostmaster"),
                        glue: try input.stringLists("glue") ?? [:])
        try input.finish()
        return zone
    }

    func putService(_ name: String, _ body: [UInt8], _ context: WriteContext) async throws -> HTTPResponse {
        var input = try JSONInput.body(body)
        let service = try Self.service(name, from: &input)
        return try await commit { () async throws(StoreError) in try await store.putService(service, context: context) }
    }

    /// A service from a whole document; fields left out take their defaults.
    static func service(_ name: String, from input: inout JSONInput) throws(APIError) -> Service {
        try input.ignoreServerFields()
        if let bodyName = try input.string("name"), bodyName != name {
            throw APIError.unprocessable("name \"\(bodyName)\" does not match the service in the path", field: "name")
        }
        guard let zone = try input.string("zone") else { throw APIError.badRequest("zone is required, e.g. \"glb.example.\"", field: "zone") }
        guard !zone.isEmpty, zone != "." else { throw APIError.badRequest("zone must name a zone, e.g. \"glb.example.\"", field: "zone") }
        var check = HealthCheck()
        if var c = try input.object("check") {
            check = HealthCheck(
                type: try c.choice("type", HealthCheck.Kind.self) ?? .http, path: try c.string("path") ?? "/",
                port: try c.int("port"), address: try c.string("address"), host: try c.string("host"),
                intervalMS: try c.int("interval_ms") ?? 1000, timeoutMS: try c.int("timeout_ms"),
                rise: try c.int("rise") ?? 2, fall: try c.int("fall") ?? 2,
                expectStatus: try c.string("expect_status") ?? "200-399", bodyContains: try c.string("body_contains"),
                tlsVerify: try c.bool("tls_verify") ?? true)
            try c.finish()
        }
        let service = Service(
            name: name, zone: Self.zoneName(zone), policy: try input.choice("policy", RoutingPolicy.self) ?? .weighted,
            ttl: try input.int("ttl") ?? 30, mode: try input.choice("mode", ServiceMode.self) ?? .dns,
            failClosed: try input.bool("fail_closed") ?? false, answers: try input.int("answers") ?? 1, check: check)
        _ = try input.string("fqdn")        // echoed back by GET; accepted so a GET body can be PUT again
        try input.finish()
        return service
    }

    func putCluster(service: String, name: String, _ body: [UInt8], _ context: WriteContext) async throws -> HTTPResponse {
        var input = try JSONInput.body(body)
        let cluster = try Self.cluster(service: service, name: name, from: &input)
        return try await commit { () async throws(StoreError) in try await store.putCluster(cluster, context: context) }
    }

    /// A cluster from a whole document; fields left out take their defaults.
    static func cluster(service: String, name: String, from input: inout JSONInput) throws(APIError) -> Cluster {
        try input.ignoreServerFields()
        if let bodyName = try input.string("name"), bodyName != name {
            throw APIError.unprocessable("name \"\(bodyName)\" does not match the cluster in the path", field: "name")
        }
        if let bodyService = try input.string("service"), bodyService != service {
            throw APIError.unprocessable("service \"\(bodyService)\" does not match the service in the path", field: "service")
        }
        let single = try input.string("address")
        let list = try input.strings("addresses")
        if single != nil, list != nil { throw APIError.badRequest("give address or addresses, not both", field: "addresses") }
        guard let addresses = list ?? single.map({ [$0] }) else {
            throw APIError.badRequest("address is required (an IPv4 or IPv6 address, or addresses: [...])", field: "address")
        }
        guard let region = try input.string("region") else { throw APIError.badRequest("region is required", field: "region") }
        guard let port = try input.int("port") else { throw APIError.badRequest("port is required", field: "port") }
        var cluster = Cluster(
            service: service, name: name, region: region, addresses: addresses, port: port,
            weight: try input.int("weight") ?? 100, priority: try input.int("priority") ?? 0,
            state: try input.choice("state", Cluster.State.self) ?? .active,
            latitude: try input.double("latitude"), longitude: try input.double("longitude"),
            tls: try input.bool("tls") ?? false, tlsServerName: try input.string("tls_server_name"),
            tlsVerify: try input.bool("tls_verify") ?? true)
        cluster.countries = try input.strings("countries") ?? []
        cluster.continents = try input.strings("continents") ?? []
        try input.finish()
        return cluster
    }

    func putCanary(service: String, _ body: [UInt8], _ context: WriteContext) async throws -> HTTPResponse {
        var input = try JSONInput.body(body)
        try input.ignoreServerFields()
        if let bodyService = try input.string("service"), bodyService != service {
            throw APIError.unprocessable("service \"\(bodyService)\" does not match the service in the path", field: "service")
        }
        guard let cluster = try input.string("cluster") else { throw APIError.badRequest("cluster is required: the cluster that gets the canary share", field: "cluster") }
        guard let percent = try input.double("percent") else { throw APIError.badRequest("percent is required (0 to 100)", field: "percent") }
        try input.finish()
        let split = CanarySplit(service: service, cluster: cluster, percent: percent)
        return try await commit { () async throws(StoreError) in try await store.setCanary(split, context: context) }
    }

    /// Runs one store write and renders its outcome, mapping store errors to API errors.
    func commit<R: Encodable & Sendable>(_ write: () async throws(StoreError) -> WriteOutcome<R>) async throws -> HTTPResponse {
        let outcome: WriteOutcome<R>
        do { outcome = try await write() } catch { throw APIError(error) }
        return Self.json(outcome.created ? 201 : 200, try Self.value(outcome.record))
    }
}
