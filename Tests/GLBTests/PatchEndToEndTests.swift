import GLBCore
import GLBTestSupport
import Testing
@testable import GLB

/// PATCH (JSON merge patch, RFC 7396) over loopback: only what is named changes, the result is
/// validated whole, a failure changes nothing, and every change is audited with old and new.
@Suite struct PatchEndToEndTests {
    static let service = AdminAPIEndToEndTests.service
    static let eu = #"{"region":"eu-west","address":"127.0.0.11","port":18081,"weight":100,"continents":["EU"],"state":"draining","priority":1}"#

    static func agentWithACluster(_ dir: TempDirectory) async throws -> RunningAgent {
        let agent = try await RunningAgent.start(dataDirectory: dir.path)
        #expect(try await agent.request("PUT", "/v1/services/www", body: Self.service).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/eu", body: Self.eu).status == 201)
        return agent
    }

    static func auditEntries(_ agent: RunningAgent) async throws -> [JSONValue] {
        try await agent.request("GET", "/v1/audit").json?["entries"]?.arrayValue ?? []
    }

    @Test func aWeightPatchChangesTheWeightAndNothingElse() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await Self.agentWithACluster(dir)
        let before = try #require(try await agent.request("GET", "/v1/services/www/clusters/eu").json)

        let answer = try await agent.request("PATCH", "/v1/services/www/clusters/eu", body: #"{"weight":50}"#,
                                             headers: [("Content-Type", "application/merge-patch+json")])
        #expect(answer.status == 200)
        let after = try #require(try await agent.request("GET", "/v1/services/www/clusters/eu").json)
        #expect(after["weight"]?.intValue == 50)
        for field in ["continents", "state", "priority", "addresses", "port", "region", "tls", "countries"] {
            #expect(after[field] == before[field], "\(field) is untouched")
        }
        #expect(answer.json == after, "the answer is the record as stored")

        let last = try #require(try await Self.auditEntries(agent).first { $0["action"]?.stringValue == "patch" })
        #expect(last["key"]?.stringValue == "www/eu")
        #expect(try JSONParser.parse(try #require(last["old_value"]?.stringValue))["weight"]?.intValue == 100)
        #expect(try JSONParser.parse(try #require(last["new_value"]?.stringValue))["weight"]?.intValue == 50)
        try await agent.stop()
    }

    @Test func aNestedObjectIsMergedMemberByMemberAndNullResetsToTheDefault() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await Self.agentWithACluster(dir)
        let service = try await agent.request("PATCH", "/v1/services/www", body: #"{"check":{"interval_ms":500},"ttl":60}"#)
        #expect(service.status == 200)
        #expect(service.json?["check"]?["interval_ms"]?.intValue == 500)
        #expect(service.json?["check"]?["path"]?.stringValue == "/healthz", "the rest of the check stays")
        #expect(service.json?["check"]?["timeout_ms"]?.intValue == 500, "a timeout at its default follows the interval")
        #expect(service.json?["ttl"]?.intValue == 60)
        #expect(service.json?["zone"]?.stringValue == "glb.example.")

        let cluster = try await agent.request("PATCH", "/v1/services/www/clusters/eu", body: #"{"state":null,"continents":null}"#)
        #expect(cluster.json?["state"]?.stringValue == "active", "null resets a field to its default")
        #expect(cluster.json?["continents"] == nil, "empty lists are left out")
        #expect(cluster.json?["priority"]?.intValue == 1)

        let moved = try await agent.request("PATCH", "/v1/services/www/clusters/eu", body: #"{"address":"127.0.0.21"}"#)
        #expect(moved.json?["addresses"] == .array([.string("127.0.0.21")]), "address replaces the list")

        let zone = try await agent.request("PATCH", "/v1/zones/glb.example.", body: #"{"ttl":600}"#)
        #expect(zone.status == 200 && zone.json?["ttl"]?.intValue == 600)
        #expect(zone.json?["nameservers"]?.arrayValue?.isEmpty == false)
        // Null for a known field the record leaves out, or for a glue name it lacks, changes nothing.
        #expect(try await agent.request("PATCH", "/v1/zones/glb.example.", body: #"{"glue":{"ns9.glb.example.":null}}"#).status == 200)
        #expect(try await agent.request("PATCH", "/v1/services/www/clusters/eu", body: #"{"latitude":null,"longitude":null}"#).status == 200)
        try await agent.stop()
    }

    struct BadPatch: Sendable, CustomTestStringConvertible {
        let name: String, path: String, body: String, status: Int, field: String?
        var testDescription: String { name }
    }

    static let badPatches = [
        BadPatch(name: "out of range", path: "/v1/services/www/clusters/eu", body: #"{"weight":2000000}"#, status: 400, field: "weight"),
        BadPatch(name: "unknown field", path: "/v1/services/www/clusters/eu", body: #"{"wieght":5}"#, status: 400, field: "wieght"),
        BadPatch(name: "unknown nested field", path: "/v1/services/www", body: #"{"check":{"intervall_ms":5}}"#, status: 400, field: "check.intervall_ms"),
        // RFC 7396 drops a null member the record lacks; a typo set to null was once a silent 200.
        BadPatch(name: "unknown field set to null", path: "/v1/services/www/clusters/eu", body: #"{"wieght":null}"#, status: 400, field: "wieght"),
        BadPatch(name: "unknown nested field set to null", path: "/v1/services/www", body: #"{"check":{"intervall_ms":null}}"#, status: 400, field: "check.intervall_ms"),
        BadPatch(name: "wrong type", path: "/v1/services/www", body: #"{"ttl":"long"}"#, status: 400, field: "ttl"),
        // A well-formed name that is not the path's: the schema cannot say so, so 422 (not 400).
        BadPatch(name: "rename", path: "/v1/services/www/clusters/eu", body: #"{"name":"us"}"#, status: 422, field: "name"),
        BadPatch(name: "an array", path: "/v1/services/www/clusters/eu", body: "[]", status: 400, field: nil),
        BadPatch(name: "not JSON", path: "/v1/services/www", body: "{", status: 400, field: nil),
        BadPatch(name: "removing a required field", path: "/v1/services/www/clusters/eu", body: #"{"port":null}"#, status: 400, field: "port"),
        BadPatch(name: "unknown zone", path: "/v1/services/www", body: #"{"zone":"other.example."}"#, status: 404, field: "zone"),
        // Each field valid, together not: 422 naming the one to change.
        BadPatch(name: "a timeout above the interval", path: "/v1/services/www", body: #"{"check":{"timeout_ms":5000}}"#, status: 422, field: "check.timeout_ms"),
        BadPatch(name: "a latitude without a longitude", path: "/v1/services/www/clusters/eu", body: #"{"latitude":50}"#, status: 422, field: "longitude"),
        // A cluster always has addresses: null has no default to reset them to.
        BadPatch(name: "address reset", path: "/v1/services/www/clusters/eu", body: #"{"address":null,"addresses":["127.0.0.31"]}"#, status: 400, field: "address"),
        BadPatch(name: "addresses reset", path: "/v1/services/www/clusters/eu", body: #"{"address":"127.0.0.31","addresses":null}"#, status: 400, field: "addresses"),
        BadPatch(name: "no such cluster", path: "/v1/services/www/clusters/zz", body: #"{"weight":5}"#, status: 404, field: nil),
        BadPatch(name: "no such service", path: "/v1/services/nope", body: #"{"ttl":5}"#, status: 404, field: nil),
        BadPatch(name: "no such zone", path: "/v1/zones/nope.example.", body: #"{"ttl":5}"#, status: 404, field: nil),
    ]

    @Test(arguments: badPatches)
    func aBadPatchGetsAClearAnswerAndChangesNothing(_ bad: BadPatch) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await Self.agentWithACluster(dir)
        let before = try await agent.request("GET", "/v1/services/www/clusters").json
        let service = try await agent.request("GET", "/v1/services/www").json
        let audit = try await Self.auditEntries(agent)

        let answer = try await agent.request("PATCH", bad.path, body: bad.body)
        #expect(answer.status == bad.status)
        let message = answer.json?["error"]?.stringValue ?? ""
        #expect(!message.isEmpty && !AdminAPIEndToEndTests.showsSwiftInternals(message), "\(message)")
        if let field = bad.field { #expect(answer.json?["field"]?.stringValue == field) }

        #expect(try await agent.request("GET", "/v1/services/www/clusters").json == before)
        #expect(try await agent.request("GET", "/v1/services/www").json == service)
        #expect(try await Self.auditEntries(agent) == audit, "and is not audited")
        try await agent.stop()
    }

    @Test func aPatchThatChangesNothingWritesNothing() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await Self.agentWithACluster(dir)
        let version = try await agent.request("GET", "/v1/status").json?["config_version"]
        let audit = try await Self.auditEntries(agent)
        #expect(try await agent.request("PATCH", "/v1/services/www/clusters/eu", body: #"{"weight":100}"#).status == 200)
        #expect(try await agent.request("PATCH", "/v1/services/www/clusters/eu", body: "").status == 200)
        #expect(try await agent.request("GET", "/v1/status").json?["config_version"] == version)
        #expect(try await Self.auditEntries(agent) == audit)
        try await agent.stop()
    }

    @Test func concurrentPatchesOfDifferentFieldsBothLand() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await Self.agentWithACluster(dir)
        for round in 0..<10 {
            async let a = agent.request("PATCH", "/v1/services/www/clusters/eu", body: #"{"weight":\#(round + 1)}"#)
            async let b = agent.request("PATCH", "/v1/services/www/clusters/eu", body: #"{"priority":\#(round + 2)}"#)
            let (first, second) = try await (a, b)
            #expect(first.status == 200 && second.status == 200)
            let after = try await agent.request("GET", "/v1/services/www/clusters/eu").json
            #expect(after?["weight"]?.intValue == round + 1 && after?["priority"]?.intValue == round + 2, "round \(round)")
        }
        try await agent.stop()
    }
}
