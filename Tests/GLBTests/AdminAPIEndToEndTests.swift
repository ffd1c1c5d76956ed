import GLBCore
import GLBTestSupport
import Testing
@testable import GLB

/// The admin API over real loopback sockets against an in-process agent with its own SQLite file.
@Suite struct AdminAPIEndToEndTests {
    static let service = #"{"zone":"glb.example.","policy":"weighted","ttl":30,"check":{"type":"http","path":"/healthz","interval_ms":1000,"fall":2,"rise":2}}"#
    static let eu = #"{"region":"eu-west","address":"127.0.0.11","port":18081,"weight":100}"#
    static let us = #"{"region":"us-east","address":"127.0.0.12","port":18082,"weight":100}"#

    @Test func theOperatorStoryRegistersAServiceAndTwoClustersThatSurviveARestart() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        var agent = try await RunningAgent.start(dataDirectory: dir.path)

        #expect(try await agent.request("GET", "/healthz").status == 200)
        #expect(try await agent.request("PUT", "/v1/services/www", body: Self.service).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/eu", body: Self.eu).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/us", body: Self.us).status == 201)
        // The same PUT again replaces rather than creates.
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/us", body: Self.us).status == 200)

        let list = try await agent.request("GET", "/v1/services/www/clusters")
        #expect(list.status == 200)
        #expect(list.json?["clusters"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["eu", "us"])
        #expect(list.json?["clusters"]?.arrayValue?.first?["addresses"] == .array([.string("127.0.0.11")]))

        try await agent.stop()
        agent = try await RunningAgent.start(dataDirectory: dir.path)
        let again = try await agent.request("GET", "/v1/services/www/clusters")
        #expect(again.json?["clusters"]?.arrayValue?.count == 2, "a restart keeps what REST acknowledged")
        let service = try await agent.request("GET", "/v1/services/www")
        #expect(service.json?["check"]?["path"]?.stringValue == "/healthz")
        #expect(service.json?["fqdn"]?.stringValue == "www.glb.example.")
        try await agent.stop()
    }

    struct BadWrite: CustomTestStringConvertible, Sendable {
        let name: String
        let method: String
        let path: String
        let body: String
        let contentType: String?
        let status: Int
        let field: String?
        var testDescription: String { name }
    }

    static let badWrites: [BadWrite] = [
        BadWrite(name: "bad JSON", method: "PUT", path: "/v1/services/www/clusters/us", body: "{bad", contentType: nil, status: 400, field: nil),
        BadWrite(name: "unknown field", method: "PUT", path: "/v1/services/www/clusters/us", body: #"{"region":"us","address":"127.0.0.12","port":1,"wieght":5}"#, contentType: nil, status: 400, field: "wieght"),
        BadWrite(name: "negative weight", method: "PUT", path: "/v1/services/www/clusters/us", body: #"{"region":"us","address":"127.0.0.12","port":1,"weight":-5}"#, contentType: nil, status: 400, field: "weight"),
        BadWrite(name: "weight of the wrong type", method: "PUT", path: "/v1/services/www/clusters/us", body: #"{"region":"us","address":"127.0.0.12","port":1,"weight":"heavy"}"#, contentType: nil, status: 400, field: "weight"),
        BadWrite(name: "bad address", method: "PUT", path: "/v1/services/www/clusters/us", body: #"{"region":"us","address":"300.1.1.1","port":1}"#, contentType: nil, status: 400, field: "addresses"),
        BadWrite(name: "missing port", method: "PUT", path: "/v1/services/www/clusters/us", body: #"{"region":"us","address":"127.0.0.12"}"#, contentType: nil, status: 400, field: "port"),
        BadWrite(name: "unknown service", method: "PUT", path: "/v1/services/nope/clusters/us", body: Self.us, contentType: nil, status: 404, field: nil),
        // A zone that does not exist is a record the service depends on, as a cluster's service is.
        BadWrite(name: "unknown zone", method: "PUT", path: "/v1/services/api", body: #"{"zone":"other.example."}"#, contentType: nil, status: 404, field: "zone"),
        BadWrite(name: "unknown policy", method: "PUT", path: "/v1/services/api", body: #"{"zone":"glb.example.","policy":"random"}"#, contentType: nil, status: 400, field: "policy"),
        BadWrite(name: "unknown nested field", method: "PUT", path: "/v1/services/api", body: #"{"zone":"glb.example.","check":{"intervall_ms":5}}"#, contentType: nil, status: 400, field: "check.intervall_ms"),
        BadWrite(name: "not JSON content type", method: "PUT", path: "/v1/services/api", body: "zone=x", contentType: "text/plain", status: 415, field: nil),
        BadWrite(name: "body is an array", method: "PUT", path: "/v1/services/api", body: "[]", contentType: nil, status: 400, field: nil),
        BadWrite(name: "huge weight", method: "PUT", path: "/v1/services/www/clusters/us", body: #"{"region":"us","address":"127.0.0.12","port":1,"weight":99999999999999999999}"#, contentType: nil, status: 400, field: "weight"),
        BadWrite(name: "empty zone", method: "PUT", path: "/v1/services/api", body: #"{"zone":""}"#, contentType: nil, status: 400, field: "zone"),
        BadWrite(name: "body is null", method: "PUT", path: "/v1/services/www/clusters/us", body: "null", contentType: nil, status: 400, field: nil),
        BadWrite(name: "body is a number", method: "PUT", path: "/v1/zones/glb.example.", body: "42", contentType: nil, status: 400, field: nil),
        BadWrite(name: "body is a truncated object", method: "PUT", path: "/v1/services/api", body: #"{"zone":"#, contentType: nil, status: 400, field: nil),
        BadWrite(name: "POST is not a method here", method: "POST", path: "/v1/services/api", body: "{}", contentType: nil, status: 405, field: nil),
        BadWrite(name: "delete of an unknown cluster", method: "DELETE", path: "/v1/services/www/clusters/zz", body: "", contentType: nil, status: 404, field: nil),
        BadWrite(name: "delete of a zone in use", method: "DELETE", path: "/v1/zones/glb.example.", body: "", contentType: nil, status: 409, field: nil),
        // Bodies that match docs/openapi.json field by field but whose fields contradict each
        // other (or the path): 422 naming the field to change, never a 400 a client cannot foresee.
        BadWrite(name: "a check timeout above its interval", method: "PUT", path: "/v1/services/api",
                 body: #"{"zone":"glb.example.","check":{"interval_ms":1000,"timeout_ms":1001}}"#, contentType: nil, status: 422, field: "check.timeout_ms"),
        BadWrite(name: "an expect_status range from high to low", method: "PUT", path: "/v1/services/api",
                 body: #"{"zone":"glb.example.","check":{"expect_status":"500-200"}}"#, contentType: nil, status: 422, field: "check.expect_status"),
        BadWrite(name: "a latitude without a longitude", method: "PUT", path: "/v1/services/www/clusters/us",
                 body: #"{"region":"us","address":"127.0.0.12","port":1,"latitude":40}"#, contentType: nil, status: 422, field: "longitude"),
        BadWrite(name: "a tls_server_name without tls", method: "PUT", path: "/v1/services/www/clusters/us",
                 body: #"{"region":"us","address":"127.0.0.12","port":1,"tls_server_name":"origin"}"#, contentType: nil, status: 422, field: "tls_server_name"),
        BadWrite(name: "one address in two spellings", method: "PUT", path: "/v1/services/www/clusters/us",
                 body: #"{"region":"us","addresses":["::1","0::1"],"port":1}"#, contentType: nil, status: 422, field: "addresses"),
        BadWrite(name: "one country in two cases", method: "PUT", path: "/v1/services/www/clusters/us",
                 body: #"{"region":"us","address":"127.0.0.12","port":1,"countries":["gb","GB"]}"#, contentType: nil, status: 422, field: "countries"),
        BadWrite(name: "a name in the body that is not the path's", method: "PUT", path: "/v1/services/www/clusters/us",
                 body: #"{"name":"eu","region":"us","address":"127.0.0.12","port":1}"#, contentType: nil, status: 422, field: "name"),
        BadWrite(name: "glue for a name that is not a nameserver", method: "PUT", path: "/v1/zones/glb.example.",
                 body: #"{"nameservers":["ns1.glb.example."],"glue":{"ns2.glb.example.":["192.0.2.53"]}}"#, contentType: nil, status: 422, field: "glue"),
        // A zone name so long that the default ns1.<zone> or hostmaster.<zone> is over 253
        // characters was stored, then skipped by routing: accepted but never served.
        BadWrite(name: "a zone too long for its default nameserver", method: "PUT", path: "/v1/zones/" + Self.longZone(252),
                 body: "{}", contentType: nil, status: 422, field: "nameservers"),
        BadWrite(name: "a zone too long for its default hostmaster", method: "PUT", path: "/v1/zones/" + Self.longZone(245),
                 body: "{}", contentType: nil, status: 422, field: "hostmaster"),
        // What the document's patterns and types refuse, the server refuses too.
        BadWrite(name: "a probe path beyond visible ASCII", method: "PUT", path: "/v1/services/api",
                 body: #"{"zone":"glb.example.","check":{"path":"/caf\u00e9"}}"#, contentType: nil, status: 400, field: "check.path"),
        BadWrite(name: "a probe host with a control character", method: "PUT", path: "/v1/services/api",
                 body: #"{"zone":"glb.example.","check":{"host":"a\u001cb"}}"#, contentType: nil, status: 400, field: "check.host"),
        BadWrite(name: "a country that upper-cases to two letters", method: "PUT", path: "/v1/services/www/clusters/us",
                 body: #"{"region":"us","address":"127.0.0.12","port":1,"countries":["\u00df"]}"#, contentType: nil, status: 400, field: "countries"),
        BadWrite(name: "a version that is not a number", method: "PUT", path: "/v1/services/api",
                 body: #"{"zone":"glb.example.","version":"new"}"#, contentType: nil, status: 400, field: "version"),
        BadWrite(name: "a negative version", method: "PUT", path: "/v1/zones/glb.example.", body: #"{"version":-1}"#, contentType: nil, status: 400, field: "version"),
    ]

    /// A valid zone name of `length` characters with its trailing dot, in labels of up to 63.
    static func longZone(_ length: Int) -> String {
        var labels: [String] = []
        var left = length
        while left > 0 {
            let label = min(63, left - 1)
            labels.append(String(repeating: "a", count: label))
            left -= label + 1
        }
        return labels.joined(separator: ".") + "."
    }

    /// A Swift type name or debug description that leaked into a message meant for people.
    static func showsSwiftInternals(_ message: String) -> Bool {
        ["Error(", "APIError", "StoreError", "Failure(", "Optional(", "status: ", "Swift."].contains { message.contains($0) }
    }

    @Test(arguments: badWrites)
    func aBadWriteGetsA4xxWithAMessageAndChangesNothing(_ bad: BadWrite) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path)
        _ = try await agent.request("PUT", "/v1/services/www", body: Self.service)
        _ = try await agent.request("PUT", "/v1/services/www/clusters/eu", body: Self.eu)
        // Config only: health fields in /v1/status move on their own as the prober works.
        let before = try await agent.request("GET", "/v1/services/www/clusters")
        let beforeVersion = try await agent.request("GET", "/v1/status").json?["config_version"]
        let auditBefore = try await agent.request("GET", "/v1/audit")

        let headers = bad.contentType.map { [(name: "Content-Type", value: $0)] } ?? []
        let answer = try await agent.request(bad.method, bad.path, body: bad.body, headers: headers)
        #expect(answer.status == bad.status)
        let message = answer.json?["error"]?.stringValue ?? ""
        #expect(!message.isEmpty, "every error carries a message")
        #expect(!message.contains("not a whole number") && !message.contains("zone . "), "\(message)")
        #expect(!Self.showsSwiftInternals(message), "errors are for people: \(message)")
        if let field = bad.field { #expect(answer.json?["field"]?.stringValue == field) }
        if bad.status == 405 { #expect(answer.response.header("Allow") == "GET, PUT, PATCH, DELETE") }

        let after = try await agent.request("GET", "/v1/services/www/clusters")
        #expect(after.json == before.json, "a rejected write changes nothing")
        #expect(try await agent.request("GET", "/v1/status").json?["config_version"] == beforeVersion)
        #expect(try await agent.request("GET", "/v1/services").json?["services"]?.arrayValue?.count == 1)
        #expect(try await agent.request("GET", "/v1/audit").json == auditBefore.json, "and is not audited")
        try await agent.stop()
    }

    /// Query strings that once reached an index past the end of a split (one GET stopped the
    /// whole node): each is a 400 naming the parameter, and the node keeps answering.
    @Test(arguments: ["subnet=", "subnet", "subnet=/", "subnet=%2F", "subnet=/24", "subnet=1.2.3.4/", "subnet=1.2.3.4/24/1", "subnet=::/129",
                      // The prefix is plain decimal, as documented: no sign, no leading zeros.
                      "subnet=1.2.3.4/%2B8", "subnet=1.2.3.4/008"])
    func aMalformedExplainQueryIsA400AndTheNodeStaysUp(_ query: String) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path)
        let answer = try await agent.request("GET", "/v1/services/www/explain?client=192.0.2.1&\(query)")
        #expect(answer.status == 400, "\(query)")
        #expect(answer.json?["field"]?.stringValue == "subnet")
        #expect(try await agent.request("GET", "/healthz").status == 200)
        try await agent.stop()
    }

    /// A misspelt kind (`clusters`) once matched nothing and looked like an empty audit log.
    @Test func anUnknownAuditEntityIsA400() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path)
        let answer = try await agent.request("GET", "/v1/audit?entity=clusters")
        #expect(answer.status == 400)
        #expect(answer.json?["field"]?.stringValue == "entity")
        #expect(try await agent.request("GET", "/v1/audit?entity=cluster").status == 200)
        try await agent.stop()
    }

    @Test func writesNeedTheAdminTokenWhenOneIsSet() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let admin = "admin-token-0123456789", reader = "read-token-0123456789"
        let agent = try await RunningAgent.start(dataDirectory: dir.path, adminToken: admin, readToken: reader)

        #expect(try await agent.request("PUT", "/v1/services/www", body: Self.service).status == 401)
        #expect(try await agent.request("PUT", "/v1/services/www", body: Self.service, headers: [("Authorization", "Bearer wrong-token-000000")]).status == 401)
        #expect(try await agent.request("PUT", "/v1/services/www", body: Self.service, headers: [("Authorization", "Bearer \(reader)")]).status == 403)
        #expect(try await agent.request("GET", "/v1/services").status == 401, "with a read token set, reads need a token")
        #expect(try await agent.request("GET", "/v1/services", headers: [("Authorization", "Bearer \(reader)")]).status == 200)
        #expect(try await agent.request("PUT", "/v1/services/www", body: Self.service, headers: [("Authorization", "Bearer \(admin)")]).status == 201)
        #expect(try await agent.request("GET", "/healthz").status == 200, "health stays open for probes")
        #expect(try await agent.request("GET", "/metrics").status == 200, "metrics stay open for Prometheus")

        let audit = try await agent.request("GET", "/v1/audit", headers: [("Authorization", "Bearer \(admin)")])
        let entry = audit.json?["entries"]?.arrayValue?.first
        #expect(entry?["actor"]?.stringValue == "token:admin")
        #expect(entry?["key"]?.stringValue == "www")
        try await agent.stop()
    }

    @Test func healthReadinessAndMetricsAnswer() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path)
        #expect(try await agent.request("GET", "/readyz").status == 200)
        let metrics = try await agent.request("GET", "/metrics")
        let text = String(decoding: metrics.response.body, as: UTF8.self)
        #expect(metrics.response.header("Content-Type")?.hasPrefix("text/plain") == true)
        #expect(text.contains("# TYPE glb_http_server_requests_total counter"))
        #expect(text.contains("glb_ready 1"))
        #expect(try await agent.request("GET", "/v1/nothing").status == 404)
        try await agent.stop()
    }

    @Test func deletingAServiceRemovesItsClusters() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path)
        _ = try await agent.request("PUT", "/v1/services/www", body: Self.service)
        _ = try await agent.request("PUT", "/v1/services/www/clusters/eu", body: Self.eu)
        #expect(try await agent.request("DELETE", "/v1/services/www").status == 200)
        #expect(try await agent.request("GET", "/v1/services/www").status == 404)
        #expect(try await agent.request("GET", "/v1/services/www/clusters").status == 404)
        #expect(try await agent.request("PUT", "/v1/services/www", body: Self.service).status == 201, "a deleted name can be created again")
        #expect(try await agent.request("GET", "/v1/services/www/clusters").json?["clusters"]?.arrayValue?.isEmpty == true)
        try await agent.stop()
    }
}
