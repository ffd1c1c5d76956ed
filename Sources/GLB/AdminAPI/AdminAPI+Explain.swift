import GLBCore
import Proxy

/// `GET /v1/services/{service}/explain?client=IP[&subnet=CIDR]`: why a client gets the answer it
/// gets, computed by the same Router the data plane runs, on the snapshot it serves now.
extension AdminAPI {
    func explain(service: String, _ query: [String: String]) throws(APIError) -> HTTPResponse {
        guard let clientText = query["client"] else { throw .badRequest("client is required: ?client=192.0.2.1", field: "client") }
        guard let client = IPAddress(clientText) else {
            throw .badRequest("client must be an IPv4 or IPv6 address, got \"\(clientText)\"", field: "client")
        }
        var subnet: ClientSubnet?
        if let text = query["subnet"] {
            // Empty pieces kept, so "", "/" and "a/" are refused here instead of indexing past the end.
            let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            // The prefix in plain decimal, as documented: UInt8 alone would also take "+8" and "008".
            guard parts.count == 2, let address = IPAddress(String(parts[0])), let prefix = UInt8(parts[1]),
                  String(prefix) == parts[1], prefix <= (address.isIPv4 ? 32 : 128) else {
                throw .badRequest("subnet must be ADDRESS/PREFIX such as 198.51.100.0/24, got \"\(text)\"", field: "subnet")
            }
            subnet = ClientSubnet(address: address.masked(toPrefix: Int(prefix)), sourcePrefix: prefix)
        }
        let snapshot = publisher.snapshot
        guard let explanation = Explanation.explain(service: service, client: client, subnet: subnet, snapshot: snapshot) else {
            throw .notFound("service \"\(service)\" is not in the routing snapshot (generation \(snapshot.generation))")
        }
        let answers: [JSONValue] = explanation.families.map { family in
            .object([("type", .string(family.family == .v4 ? "A" : "AAAA")),
                     ("outcome", .string("\(family.decision.outcome)")),
                     ("addresses", .array(family.answer.map { .string($0.description) })),
                     ("ecs_scope", .number(String(family.scope)))])
        }
        var members: [(key: String, value: JSONValue)] = [
            ("service", .string(explanation.service)), ("client", .string(clientText)),
            ("generation", .number(String(snapshot.generation))),
            ("answers", .array(answers)), ("explanation", .string(explanation.description)),
        ]
        if let location = explanation.location {
            // For geo and latency services: where the client was found, for scripts.
            let l = location.location
            var fields: [(key: String, value: JSONValue)] = [
                ("origin", .string(explanation.clientKey.fromClientSubnet ? "ecs" : "address")),
                ("address", .string(explanation.clientKey.origin.description)),
                ("source", .string(explanation.locationSource ?? "none")),
                ("scope", .number(String(location.scope))),
            ]
            if l.country.isKnown { fields.append(("country", .string(l.country.description))) }
            if l.continent.isKnown { fields.append(("continent", .string(l.continent.description))) }
            if let region = explanation.region { fields.append(("region", .string(region))) }
            if l.hasCoordinates {
                fields.append(("latitude", .number(String(l.latitude))))
                fields.append(("longitude", .number(String(l.longitude))))
            }
            members.append(("location", .object(fields)))
        }
        return Self.json(200, .object(members))
    }
}
