import Foundation
import GLBCore
import GLBTestSupport
import Testing
@testable import GLB

/// docs/openapi.json checked against the server, so the document and the code cannot drift apart
/// (docs/architecture.md "Interfaces": "described by an OpenAPI document kept in the repository and checked
/// against the server in tests").
///
/// The route table is compared both ways; everything else is exercised on a running agent over
/// loopback: every documented request field is sent and must be accepted, every documented
/// default, range, enum, required field and `additionalProperties: false` must be what the
/// server does, every 2xx answer must fit its documented schema, and the documented auth scopes
/// and error statuses must be the ones the server answers with.
@Suite struct OpenAPIDocumentTests {
    static let methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]
    /// The statuses whose body is the `Error` schema (503 from /readyz is a status, not an error).
    static let errorStatuses: Set<String> = ["400", "401", "403", "404", "405", "409", "413", "415", "422", "500"]
    static let admin = "admin-token-0123456789", reader = "read-token-0123456789"

    // MARK: the route table

    @Test func theDocumentIsOpenAPI303WithABearerScheme() throws {
        let doc = try Self.load()
        #expect(doc["openapi"]?.stringValue == "3.0.3")
        let scheme = doc["components"]?["securitySchemes"]?["bearerAuth"]
        #expect(scheme?["type"]?.stringValue == "http")
        #expect(scheme?["scheme"]?.stringValue == "bearer")
        // Tokens are optional until the operator sets one: an empty requirement sits beside bearer.
        #expect(doc["security"] == .array([.object([]), .object([("bearerAuth", .array([]))])]))
    }

    @Test func thePathsAndMethodsAreExactlyTheRouteTable() throws {
        let doc = try Self.load()
        let documented = Set(Self.operations(doc).map { "\($0.method) \($0.path)" })
        let served = Set(AdminRoute.allCases.flatMap { route in route.methods.map { "\($0) \(route.template)" } })
        #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served).sorted())")
        #expect(served.subtracting(documented).isEmpty, "served but not documented: \(served.subtracting(documented).sorted())")
        #expect(Set(doc["paths"]?.objectValue?.map(\.key) ?? []) == Set(AdminRoute.allCases.map(\.template)))
    }

    @Test func everyPathParameterIsDeclaredRequiredWithAnExample() throws {
        let doc = try Self.load()
        for (path, item) in doc["paths"]?.objectValue ?? [] {
            let inTemplate = Set(path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
            let declared = (item["parameters"]?.arrayValue ?? []).map { Self.resolve($0, in: doc) }.filter { $0["in"]?.stringValue == "path" }
            #expect(Set(declared.compactMap { $0["name"]?.stringValue }) == inTemplate, "\(path)")
            for parameter in declared {
                #expect(parameter["required"] == .bool(true), "\(path) \(parameter["name"]?.cell ?? "?")")
                #expect(parameter["example"]?.stringValue != nil, "\(path) \(parameter["name"]?.cell ?? "?") needs an example: the tests fill paths with it")
            }
        }
    }

    @Test func everyOperationListsTheErrorsEveryRouteCanAnswer() throws {
        let doc = try Self.load()
        for operation in Self.operations(doc) {
            let statuses = Set(operation.value["responses"]?.objectValue?.map(\.key) ?? [])
            // Any route: a method it lacks (405), a body over the limit (413), a bad token (401).
            for status in ["401", "405", "413"] {
                #expect(statuses.contains(status), "\(operation.method) \(operation.path) lacks \(status)")
            }
            if operation.method != "GET" {
                for status in ["400", "403", "415", "500"] { #expect(statuses.contains(status), "\(operation.method) \(operation.path) lacks \(status)") }
            }
            for (status, response) in operation.value["responses"]?.objectValue ?? [] where Self.errorStatuses.contains(status) {
                let schema = Self.resolve(response, in: doc)["content"]?["application/json"]?["schema"]
                #expect(schema?["$ref"]?.stringValue == "#/components/schemas/Error", "\(operation.method) \(operation.path) \(status)")
            }
        }
        let error = try #require(doc["components"]?["schemas"]?["Error"])
        #expect(error["required"] == .array([.string("error")]))
        #expect(Set(error["properties"]?.objectValue?.map(\.key) ?? []) == ["error", "field"])
        #expect(doc["components"]?["responses"]?["MethodNotAllowed"]?["headers"]?["Allow"] != nil)
        #expect(doc["components"]?["responses"]?["Unauthorized"]?["headers"]?["WWW-Authenticate"] != nil)
    }

    /// The links drive scripts/fuzz-api.sh's stateful phase (zone → service → cluster → canary):
    /// each must name a documented operation and only parameters that operation has.
    @Test func everyLinkNamesAnOperationAndItsParameters() throws {
        let doc = try Self.load()
        let byID = Dictionary(Self.operations(doc).compactMap { op in op.value["operationId"]?.stringValue.map { ($0, op) } },
                              uniquingKeysWith: { a, _ in a })
        var count = 0
        for operation in Self.operations(doc) {
            for (status, response) in operation.value["responses"]?.objectValue ?? [] {
                for (name, link) in response["links"]?.objectValue ?? [] {
                    let label = "\(operation.method) \(operation.path) \(status) \(name)"
                    guard let id = link["operationId"]?.stringValue, let target = byID[id] else {
                        Issue.record("\(label): no such operationId")
                        continue
                    }
                    let declared = ((doc["paths"]?[target.path]?["parameters"]?.arrayValue ?? []) + (target.value["parameters"]?.arrayValue ?? []))
                        .compactMap { Self.resolve($0, in: doc)["name"]?.stringValue }
                    for (parameter, _) in link["parameters"]?.objectValue ?? [] {
                        #expect(declared.contains(parameter), "\(label): \(id) has no parameter \(parameter)")
                    }
                    if link["requestBody"] != nil { #expect(target.value["requestBody"] != nil, "\(label): \(id) takes no body") }
                    count += 1
                }
            }
        }
        #expect(count >= 20, "the stateful fuzzing needs the links: \(count)")
    }

    // MARK: request bodies against the server

    @Test func everyDocumentedRequestFieldIsAcceptedAndTheAnswerFitsItsSchema() async throws {
        let doc = try Self.load()
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path)
        for operation in Self.puts(doc) {
            let schema = try #require(Self.requestSchema(operation.value, in: doc))
            let bodies = Self.fullBodies(schema, in: doc)
            #expect(!bodies.isEmpty)
            for body in bodies {
                let answer = try await agent.request("PUT", Self.fill(operation.path, in: doc), body: body.serialized(),
                                                     headers: [("Content-Type", "application/json")])
                #expect(answer.status == 200 || answer.status == 201,
                        "PUT \(operation.path) with every documented field: \(answer.status) \(answer.json?.serialized() ?? "")")
                let documented = try #require(operation.value["responses"]?[String(answer.status)]?["content"]?["application/json"]?["schema"])
                #expect(Self.problems(answer.json ?? .null, documented, in: doc) == [], "PUT \(operation.path) answer")
            }
        }
        try await agent.stop()
    }

    @Test func documentedDefaultsAreWhatTheServerStores() async throws {
        let doc = try Self.load()
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path)
        for operation in Self.puts(doc) {
            let schema = try #require(Self.requestSchema(operation.value, in: doc))
            let body = Self.minimalBody(schema, in: doc)
            let answer = try await agent.request("PUT", Self.fill(operation.path, in: doc), body: body.serialized())
            #expect(answer.status == 200 || answer.status == 201, "PUT \(operation.path) with only the required fields: \(answer.json?.serialized() ?? "")")
            let stored = try #require(answer.json)
            for (name, property) in Self.properties(schema, in: doc) where body[name] == nil {
                if let expected = property["default"] {
                    #expect(stored[name] == expected, "\(operation.path): \(name) defaults to \(expected.serialized()), stored \(stored[name]?.serialized() ?? "nothing")")
                }
                // A nested object left out takes every nested default (`check`).
                for (inner, innerProperty) in Self.properties(property, in: doc) {
                    guard let expected = innerProperty["default"] else { continue }
                    #expect(stored[name]?[inner] == expected, "\(operation.path): \(name).\(inner) defaults to \(expected.serialized())")
                }
            }
        }
        try await agent.stop()
    }

    @Test func documentedRangesEnumsAndRequiredFieldsAreEnforcedAndNamed() async throws {
        let doc = try Self.load()
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path)
        var checked = 0
        for operation in Self.puts(doc) {
            let schema = try #require(Self.requestSchema(operation.value, in: doc))
            let path = Self.fill(operation.path, in: doc)
            let base = try #require(Self.fullBodies(schema, in: doc).first)
            // Make the parents exist first (zones, then services, then clusters: `puts` is in that order).
            _ = try await agent.request("PUT", path, body: base.serialized())
            for bad in Self.badBodies(schema, base: base, in: doc) {
                let answer = try await agent.request("PUT", path, body: bad.body.serialized())
                #expect(answer.status == 400, "PUT \(operation.path) with \(bad.why): \(answer.status)")
                #expect(answer.json?["field"]?.stringValue == bad.field,
                        "PUT \(operation.path) with \(bad.why) names \(answer.json?["field"]?.cell ?? "no field"): \(answer.json?["error"]?.cell ?? "")")
                checked += 1
            }
        }
        #expect(checked >= 30, "the document has fewer constraints than expected: \(checked)")
        try await agent.stop()
    }

    /// The service body says `fqdn` is accepted "so that a body read with GET can be PUT again";
    /// so must be the rest of what GET returns.
    @Test func aServiceReadWithGetCanBePutAgain() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path)
        #expect(try await agent.request("PUT", "/v1/services/www", body: AdminAPIEndToEndTests.service).status == 201)
        let read = try await agent.request("GET", "/v1/services/www")
        let again = try await agent.request("PUT", "/v1/services/www", body: try #require(read.json).serialized())
        #expect(again.status == 200, "\(again.json?.serialized() ?? "")")
        #expect(again.json?["check"] == read.json?["check"])
        try await agent.stop()
    }

    // MARK: reads, scopes and errors against the server

    @Test func everyReadAnswerFitsItsDocumentedSchema() async throws {
        let doc = try Self.load()
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path)
        try await Self.populate(agent, doc)
        for operation in Self.operations(doc) where operation.method == "GET" {
            let answer = try await agent.request("GET", Self.fill(operation.path, in: doc))
            #expect(answer.status == 200, "GET \(operation.path): \(answer.status)")
            let content = try #require(operation.value["responses"]?["200"]?["content"]?.objectValue?.first)
            #expect(answer.response.header("Content-Type") == content.key, "GET \(operation.path)")
            if content.key == "application/json" {
                #expect(Self.problems(answer.json ?? .null, content.value["schema"] ?? .null, in: doc) == [], "GET \(operation.path)")
            }
        }
        try await agent.stop()
    }

    @Test func documentedScopesAreTheOnesTheServerEnforces() async throws {
        let doc = try Self.load()
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path, adminToken: Self.admin, readToken: Self.reader)
        for operation in Self.operations(doc) {
            let scope = operation.value["x-glb-scope"]?.stringValue
            let path = Self.fill(operation.path, in: doc)
            let anonymous = try await agent.request(operation.method, path)
            let reading = try await agent.request(operation.method, path, headers: [("Authorization", "Bearer \(Self.reader)")])
            let wrong = try await agent.request(operation.method, path, headers: [("Authorization", "Bearer not-a-token-of-this-node")])
            let label = "\(operation.method) \(operation.path) (\(scope ?? "no scope"))"
            #expect(wrong.status == 401, "\(label): a wrong token is 401 everywhere")
            #expect(wrong.response.header("WWW-Authenticate") == "Bearer realm=\"glb\"", "\(label)")
            switch scope {
            case "open":
                #expect(operation.value["security"] == .array([]), "\(label) documents no security")
                #expect(anonymous.status == 200, "\(label)")
            case "read":
                #expect(anonymous.status == 401, "\(label)")
                #expect(![401, 403].contains(reading.status), "\(label)")
            case "write":
                #expect(anonymous.status == 401, "\(label)")
                #expect(reading.status == 403, "\(label)")
                #expect(reading.json?["error"]?.stringValue?.isEmpty == false, "\(label)")
            default:
                Issue.record("\(label): x-glb-scope must be open, read or write")
            }
        }
        try await agent.stop()
    }

    @Test func documentedErrorStatusesAreReal() async throws {
        let doc = try Self.load()
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path)
        try await Self.populate(agent, doc)
        let errorSchema = JSONValue.object([("$ref", .string("#/components/schemas/Error"))])

        // 405 on every path, with Allow listing exactly the documented methods in order.
        for (path, item) in doc["paths"]?.objectValue ?? [] {
            let documented = (item.objectValue ?? []).map(\.key).filter(Self.methods.contains).map { $0.uppercased() }
            // A method the path does not document must be refused.
            guard let method = ["PATCH", "POST", "PUT", "DELETE"].first(where: { !documented.contains($0) }) else { continue }
            let answer = try await agent.request(method, Self.fill(path, in: doc), body: "{}")
            #expect(answer.status == 405, "\(method) \(path)")
            #expect(answer.response.header("Allow") == documented.joined(separator: ", "), "\(method) \(path)")
            #expect(Self.problems(answer.json ?? .null, errorSchema, in: doc) == [], "\(method) \(path)")
        }
        // 415 on every PUT given a body that is not JSON.
        for operation in Self.puts(doc) {
            let answer = try await agent.request("PUT", Self.fill(operation.path, in: doc), body: "x", headers: [("Content-Type", "text/plain")])
            #expect(answer.status == 415, "PUT \(operation.path)")
            #expect(Self.problems(answer.json ?? .null, errorSchema, in: doc) == [])
        }
        // 404, 409 and 400 where the document says they happen.
        let cases: [(method: String, path: String, template: String, status: Int)] = [
            ("GET", "/v1/services/nope", "/v1/services/{service}", 404),
            ("GET", "/v1/services/nope/clusters", "/v1/services/{service}/clusters", 404),
            ("DELETE", "/v1/services/www/clusters/nope", "/v1/services/{service}/clusters/{cluster}", 404),
            ("PUT", "/v1/services/nope/clusters/eu", "/v1/services/{service}/clusters/{cluster}", 404),
            ("DELETE", "/v1/zones/glb.example.", "/v1/zones/{zone}", 409),
            ("GET", "/v1/audit?limit=0", "/v1/audit", 400),
        ]
        for c in cases {
            let body = c.method == "PUT" ? #"{"region":"eu-west","address":"127.0.0.11","port":1}"# : nil
            let answer = try await agent.request(c.method, c.path, body: body)
            #expect(answer.status == c.status, "\(c.method) \(c.path)")
            #expect(Self.problems(answer.json ?? .null, errorSchema, in: doc) == [], "\(c.method) \(c.path)")
            #expect(doc["paths"]?[c.template]?[c.method.lowercased()]?["responses"]?[String(c.status)] != nil,
                    "\(c.method) \(c.template) should document \(c.status)")
        }
        try await agent.stop()
    }

    // MARK: reading the document

    /// The repository root, three levels above this file (Tests/GLBTests/<file>).
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func load() throws -> JSONValue {
        let data = try Data(contentsOf: root.appendingPathComponent("docs/openapi.json"))
        return try JSONParser.parse(Array(data))
    }

    struct Operation {
        let path: String
        let method: String
        let value: JSONValue
    }

    static func operations(_ doc: JSONValue) -> [Operation] {
        (doc["paths"]?.objectValue ?? []).flatMap { path, item in
            (item.objectValue ?? []).filter { methods.contains($0.key) }.map { Operation(path: path, method: $0.key.uppercased(), value: $0.value) }
        }
    }

    /// The PUT operations, parents before children (zones, services, clusters).
    static func puts(_ doc: JSONValue) -> [Operation] {
        // Parents before children (shorter paths first), and a canary after the clusters it names.
        operations(doc).filter { $0.method == "PUT" }.sorted {
            ($0.path.hasSuffix("/canary") ? 1 : 0, $0.path.count) < ($1.path.hasSuffix("/canary") ? 1 : 0, $1.path.count)
        }
    }

    /// Follows a local `$ref` (`#/components/schemas/Zone`); anything else is returned as is.
    static func resolve(_ value: JSONValue, in doc: JSONValue) -> JSONValue {
        guard let target = value["$ref"]?.stringValue, target.hasPrefix("#/") else { return value }
        var node = doc
        for part in target.dropFirst(2).split(separator: "/") {
            guard let next = node[String(part)] else { return .null }
            node = next
        }
        return resolve(node, in: doc)
    }

    /// The path with each `{name}` replaced by its documented example.
    static func fill(_ template: String, in doc: JSONValue) -> String {
        let parameters = (doc["paths"]?[template]?["parameters"]?.arrayValue ?? []).map { resolve($0, in: doc) }
        var path = template
        for parameter in parameters {
            guard let name = parameter["name"]?.stringValue, let example = parameter["example"]?.stringValue else { continue }
            path = path.replacingOccurrences(of: "{\(name)}", with: example)
        }
        // Required query parameters of the GET, filled from their examples too.
        let query = (doc["paths"]?[template]?["get"]?["parameters"]?.arrayValue ?? []).map { resolve($0, in: doc) }
            .filter { $0["in"]?.stringValue == "query" && $0["required"] == .bool(true) }
            .compactMap { p in p["name"]?.stringValue.flatMap { name in p["example"]?.stringValue.map { "\(name)=\($0)" } } }
        return query.isEmpty ? path : path + "?" + query.joined(separator: "&")
    }

    static func requestSchema(_ operation: JSONValue, in doc: JSONValue) -> JSONValue? {
        operation["requestBody"]?["content"]?["application/json"]?["schema"].map { resolve($0, in: doc) }
    }

    static func properties(_ schema: JSONValue, in doc: JSONValue) -> [(key: String, value: JSONValue)] {
        (resolve(schema, in: doc)["properties"]?.objectValue ?? []).map { ($0.key, resolve($0.value, in: doc)) }
    }

    /// A property's documented example, or for a nested object one built from its examples.
    static func example(_ property: JSONValue, in doc: JSONValue) -> JSONValue? {
        if let example = property["example"] { return example }
        guard property["properties"] != nil else { return nil }
        return .object(properties(property, in: doc).compactMap { key, value in example(value, in: doc).map { (key, $0) } })
    }

    /// The names each `oneOf` alternative requires (`address` or `addresses`).
    static func alternatives(_ schema: JSONValue) -> [[String]] {
        (schema["oneOf"]?.arrayValue ?? []).map { ($0["required"]?.arrayValue ?? []).compactMap(\.stringValue) }
    }

    /// Bodies with every documented property set to its example: one per `oneOf` alternative,
    /// leaving out what the other alternatives require.
    static func fullBodies(_ schema: JSONValue, in doc: JSONValue) -> [JSONValue] {
        let choices = alternatives(schema)
        let variants = choices.isEmpty ? [[]] : choices
        return variants.map { chosen in
            let excluded = Set(choices.joined()).subtracting(chosen)
            return .object(properties(schema, in: doc).filter { !excluded.contains($0.key) }.compactMap { key, value in
                example(value, in: doc).map { (key, $0) }
            })
        }
    }

    /// Only the required properties, plus the first `oneOf` alternative's.
    static func minimalBody(_ schema: JSONValue, in doc: JSONValue) -> JSONValue {
        let required = Set((schema["required"]?.arrayValue ?? []).compactMap(\.stringValue) + (alternatives(schema).first ?? []))
        return .object(properties(schema, in: doc).filter { required.contains($0.key) }.compactMap { key, value in
            example(value, in: doc).map { (key, $0) }
        })
    }

    struct BadBody {
        let why: String
        let body: JSONValue
        let field: String
    }

    /// For each documented constraint, `base` broken in just that one place, and the field the
    /// server must name: one past each minimum and maximum, a word outside each enum, each
    /// required field left out, and an unknown field where `additionalProperties` is false.
    static func badBodies(_ schema: JSONValue, base: JSONValue, in doc: JSONValue) -> [BadBody] {
        var bad: [BadBody] = []
        func replacing(_ body: JSONValue, _ key: String, with value: JSONValue?) -> JSONValue {
            var members = body.objectValue ?? []
            members.removeAll { $0.key == key }
            if let value { members.append((key, value)) }
            return .object(members)
        }
        func visit(_ schema: JSONValue, _ body: JSONValue, prefix: String, wrap: (JSONValue) -> JSONValue) {
            for (key, property) in properties(schema, in: doc) {
                let type = property["type"]?.stringValue
                let step = type == "integer" ? 1.0 : 0.5
                func number(_ n: Double) -> JSONValue { .number(type == "integer" ? String(Int(n)) : String(n)) }
                if let low = property["minimum"]?.doubleValue {
                    bad.append(BadBody(why: "\(prefix)\(key) below its minimum", body: wrap(replacing(body, key, with: number(low - step))), field: prefix + key))
                }
                if let high = property["maximum"]?.doubleValue {
                    bad.append(BadBody(why: "\(prefix)\(key) above its maximum", body: wrap(replacing(body, key, with: number(high + step))), field: prefix + key))
                }
                if property["enum"] != nil {
                    bad.append(BadBody(why: "\(prefix)\(key) outside its enum", body: wrap(replacing(body, key, with: .string("no-such-choice"))), field: prefix + key))
                }
                if property["properties"] != nil, let inner = body[key] {
                    visit(property, inner, prefix: prefix + key + ".") { wrap(replacing(body, key, with: $0)) }
                }
            }
            for key in (schema["required"]?.arrayValue ?? []).compactMap(\.stringValue) {
                bad.append(BadBody(why: "\(prefix)\(key) left out", body: wrap(replacing(body, key, with: nil)), field: prefix + key))
            }
            if schema["additionalProperties"] == .bool(false) {
                bad.append(BadBody(why: "an unknown field in \(prefix.isEmpty ? "the body" : prefix)",
                                   body: wrap(replacing(body, "no_such_field", with: .number("1"))), field: prefix + "no_such_field"))
            }
        }
        visit(schema, base, prefix: "") { $0 }
        return bad
    }

    /// Stores one of each record from the documented examples, so every GET has something to show.
    static func populate(_ agent: RunningAgent, _ doc: JSONValue) async throws {
        for operation in puts(doc) {
            guard let schema = requestSchema(operation.value, in: doc), let body = fullBodies(schema, in: doc).first else { continue }
            let answer = try await agent.request("PUT", fill(operation.path, in: doc), body: body.serialized())
            #expect(answer.status == 200 || answer.status == 201, "PUT \(operation.path)")
        }
    }

    /// What in `value` does not fit `schema`: the subset of JSON Schema the document uses (type,
    /// nullable, required, properties with `additionalProperties: false`, items, enum, minimum,
    /// maximum, minItems, maxItems). Empty when it fits.
    static func problems(_ value: JSONValue, _ schema: JSONValue, in doc: JSONValue, at path: String = "$") -> [String] {
        let schema = resolve(schema, in: doc)
        if value == .null, schema["nullable"] == .bool(true) { return [] }
        var found: [String] = []
        switch schema["type"]?.stringValue {
        case "object":
            guard let members = value.objectValue else { return ["\(path): expected an object, got \(value.typeName)"] }
            let declared = schema["properties"]?.objectValue ?? []
            for name in (schema["required"]?.arrayValue ?? []).compactMap(\.stringValue) where value[name] == nil {
                found.append("\(path).\(name): required but missing")
            }
            for (key, member) in members {
                if let property = declared.first(where: { $0.key == key })?.value {
                    found += problems(member, property, in: doc, at: "\(path).\(key)")
                } else if schema["additionalProperties"] == .bool(false) {
                    found.append("\(path).\(key): not documented")
                }
            }
        case "array":
            guard let items = value.arrayValue else { return ["\(path): expected an array, got \(value.typeName)"] }
            if let low = schema["minItems"]?.intValue, items.count < low { found.append("\(path): fewer than \(low) items") }
            if let high = schema["maxItems"]?.intValue, items.count > high { found.append("\(path): more than \(high) items") }
            if let itemSchema = schema["items"] {
                for (i, item) in items.enumerated() { found += problems(item, itemSchema, in: doc, at: "\(path)[\(i)]") }
            }
        case "string":
            guard value.stringValue != nil else { return ["\(path): expected a string, got \(value.typeName)"] }
        case "integer":
            guard value.intValue != nil || value.doubleValue.map({ $0 == $0.rounded() }) == true else {
                return ["\(path): expected an integer, got \(value.serialized())"]
            }
        case "number":
            guard value.doubleValue != nil else { return ["\(path): expected a number, got \(value.typeName)"] }
        case "boolean":
            guard value.boolValue != nil else { return ["\(path): expected a boolean, got \(value.typeName)"] }
        default:
            break
        }
        if let options = schema["enum"]?.arrayValue, !options.contains(value) { found.append("\(path): \(value.serialized()) is not in the enum") }
        if let low = schema["minimum"]?.doubleValue, let n = value.doubleValue, n < low { found.append("\(path): \(n) < minimum \(low)") }
        if let high = schema["maximum"]?.doubleValue, let n = value.doubleValue, n > high { found.append("\(path): \(n) > maximum \(high)") }
        return found
    }
}
