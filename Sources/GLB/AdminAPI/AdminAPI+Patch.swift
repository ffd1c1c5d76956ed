import GLBCore
import Store

/// PATCH handlers: JSON merge patch (RFC 7396). The stored record, as GET shows it, is patched
/// (a member replaces the record's, `null` removes it so that it takes its default, nested
/// objects such as `check` merge member by member) and the result is read by the same code as a
/// PUT body, so a patch is validated exactly as the whole record would be. The read, the merge
/// and the write happen in one turn of the store actor: two concurrent patches of different
/// fields both land. A patch that changes nothing writes nothing and answers 200.
extension AdminAPI {
    func patchZone(_ name: String, _ body: [UInt8], _ context: WriteContext) async throws -> HTTPResponse {
        let patch = try Self.mergePatch(body)
        let outcome = try await patched { () async throws(StoreError) in
            try await store.patchZone(named: name, context: context) { current throws(StoreError) in
                try Self.applying(patch, to: current) { input throws(APIError) in try Self.zone(name, from: &input) }
            }
        }
        guard let outcome else { throw APIError.notFound("zone \"\(name)\" not found") }
        return Self.json(200, try Self.value(outcome.record))
    }

    func patchService(_ name: String, _ body: [UInt8], _ context: WriteContext) async throws -> HTTPResponse {
        let patch = try Self.mergePatch(body)
        let outcome = try await patched { () async throws(StoreError) in
            try await store.patchService(named: name, context: context) { current throws(StoreError) in
                try Self.applying(Self.followingDefaultTimeout(patch, current.check), to: current) { input throws(APIError) in
                    try Self.service(name, from: &input)
                }
            }
        }
        guard let outcome else { throw APIError.notFound("service \"\(name)\" not found") }
        return Self.json(200, try Self.serviceValue(outcome.record))
    }

    func patchCluster(service: String, name: String, _ body: [UInt8], _ context: WriteContext) async throws -> HTTPResponse {
        var patch = try Self.mergePatch(body)
        // A cluster always has addresses, so neither spelling has a default for `null` to reset to.
        for key in ["address", "addresses"] where patch[key] == .null {
            throw APIError.badRequest("\(key) cannot be null: a cluster needs its addresses; give address or addresses", field: key)
        }
        // `address` is the one-address spelling of `addresses`: naming it replaces the list.
        if patch["address"] != nil, patch["addresses"] == nil, case .object(var members) = patch {
            members.append(("addresses", .null))
            patch = .object(members)
        }
        let outcome = try await patched { () async throws(StoreError) in
            try await store.patchCluster(service: service, name: name, context: context) { [patch] current throws(StoreError) in
                try Self.applying(patch, to: current) { input throws(APIError) in try Self.cluster(service: service, name: name, from: &input) }
            }
        }
        guard let outcome else { throw APIError.notFound("cluster \"\(name)\" of service \"\(service)\" not found") }
        return Self.json(200, try Self.value(outcome.record))
    }

    /// A check timeout still at its default (the smaller of the interval and 2 s) follows a
    /// patched interval, as it would have in a PUT that left it out: `{"check":{"interval_ms":500}}`
    /// on a check at 1000/1000 gives 500/500, not an invalid 500/1000.
    static func followingDefaultTimeout(_ patch: JSONValue, _ check: HealthCheck) -> JSONValue {
        guard case .object(var members) = patch, let index = members.firstIndex(where: { $0.key == "check" }),
              case .object(var checkMembers) = members[index].value,
              checkMembers.contains(where: { $0.key == "interval_ms" }), !checkMembers.contains(where: { $0.key == "timeout_ms" }),
              check.timeoutMS == HealthCheck(intervalMS: check.intervalMS).timeoutMS else { return patch }
        checkMembers.append(("timeout_ms", .null))
        members[index].value = .object(checkMembers)
        return .object(members)
    }

    /// A merge patch body: an object (an empty body is `{}`, no change). RFC 7396 lets any other
    /// value replace the target whole; for a record that is a PUT's job, so it is refused.
    static func mergePatch(_ body: [UInt8]) throws(APIError) -> JSONValue {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .object([]) }
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw .badRequest("the request body is not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard value.objectValue != nil else {
            throw .badRequest("a merge patch must be a JSON object (RFC 7396), got \(value.typeName); use PUT to replace the whole record")
        }
        return value
    }

    /// `record` as GET shows it, with `patch` merged in, read back by `read`. Runs inside the
    /// store actor, so every failure is a `StoreError` (`.invalid` keeps the field).
    static func applying<R: Encodable>(_ patch: JSONValue, to record: R,
                                       _ read: (inout JSONInput) throws(APIError) -> R) throws(StoreError) -> R {
        let current: JSONValue
        do { current = try value(record) } catch {
            throw StoreError(kind: .database, message: "cannot render the stored record")
        }
        do {
            var input = try JSONInput(merged(current, patch))
            return try read(&input)
        } catch {
            throw StoreError(kind: error.status == 422 ? .inconsistent : .invalid, message: error.message, field: error.field)
        }
    }

    /// `current` with `patch` merged in, plus `name: null` for each member the patch sets to null
    /// that `current` lacks. RFC 7396 drops those silently; kept, the reader sees them (null reads
    /// as absent, so nothing else changes) and refuses a name it does not know: `{"wieght": null}`
    /// is a 400 like `{"wieght": 5}`, as the document's `additionalProperties: false` says.
    static func merged(_ current: JSONValue, _ patch: JSONValue) -> JSONValue {
        let result = current.applyingMergePatch(patch)
        guard case .object(let changes) = patch, case .object(var members) = result else { return result }
        for (key, change) in changes {
            if change == .null, current[key] == nil {
                members.append((key, .null))
            } else if case .object = change, let old = current[key], let index = members.firstIndex(where: { $0.key == key }) {
                members[index].value = merged(old, change)
            }
        }
        return .object(members)
    }

    /// Runs a patch and maps store errors to API errors.
    private func patched<R>(_ write: () async throws(StoreError) -> R) async throws(APIError) -> R {
        do { return try await write() } catch { throw APIError(error) }
    }
}
