import GLBCore

/// `glb cluster add|list|show|remove`: the CLI face of /v1/services/{service}/clusters.
struct ClusterCommand {
    let cli: CLI

    static let addOptions: [Arguments.OptionSpec] = [
        .init("region", value: "REGION", help: "the region the cluster runs in (required)"),
        .init("address", value: "IP", repeatable: true, help: "an address to answer with (repeatable, or comma-separated; required)"),
        .init("port", value: "PORT", help: "the port clients and probes use (required)"),
        .init("weight", value: "N", help: "share under the weighted policy (default 100)"),
        .init("priority", value: "N", help: "failover order, lower first (default 0)"),
        .init("state", value: "STATE", help: "active, draining or disabled (default active)"),
        .init("lat", value: "DEGREES", help: "latitude, for proximity routing"),
        .init("lon", value: "DEGREES", help: "longitude, for proximity routing"),
        .init("countries", value: "CC,...", repeatable: true, help: "ISO 3166-1 country codes geo routing sends here first, e.g. GB,IE"),
        .init("continents", value: "CC,...", repeatable: true, help: "continent codes (AF AN AS EU NA OC SA) geo routing sends here next"),
        .flag("tls", help: "the proxy speaks HTTPS to this cluster, verifying its certificate"),
        .init("tls-server-name", value: "NAME", help: "SNI and the name to verify (default: the service's FQDN; needs --tls)"),
        .flag("tls-no-verify", help: "accept any certificate from this cluster (needs --tls)"),
    ]

    func run(_ argv: [String]) throws -> ExitCode {
        try cli.dispatch(argv, usage: "glb cluster add|list|show|remove SERVICE ...", verbs: [
            (["add", "set"], add), (["list", "ls"], list), (["show", "get"], show), (["remove", "rm", "delete"], remove),
        ])
    }

    private func add(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, Self.addOptions)
        if args.helpRequested { return cli.help("glb cluster add SERVICE NAME --region R --address IP --port P [options]", Self.addOptions) }
        guard args.positionals.count == 2 else { throw UsageError("expected SERVICE and cluster NAME") }
        guard let region = args.value("region") else { throw UsageError("--region is required") }
        let addresses = args.list("address")
        guard !addresses.isEmpty else { throw UsageError("--address is required") }
        guard let port = try args.integer("port", in: 1...65535) else { throw UsageError("--port is required") }
        var body: [(key: String, value: JSONValue)] = [
            ("region", .string(region)), ("addresses", .array(addresses.map { .string($0) })), ("port", .number(String(port))),
        ]
        if let weight = try args.integer("weight", in: 0...1_000_000) { body.append(("weight", .number(String(weight)))) }
        if let priority = try args.integer("priority", in: 0...1000) { body.append(("priority", .number(String(priority)))) }
        if let state = args.value("state") { body.append(("state", .string(state))) }
        if let lat = try args.decimal("lat", in: -90...90) { body.append(("latitude", .number("\(lat)"))) }
        if let lon = try args.decimal("lon", in: -180...180) { body.append(("longitude", .number("\(lon)"))) }
        for field in ["countries", "continents"] where !args.list(field).isEmpty {
            body.append((field, .array(args.list(field).map { .string($0) })))
        }
        if args.flag("tls") { body.append(("tls", .bool(true))) }
        if let name = args.value("tls-server-name") { body.append(("tls_server_name", .string(name))) }
        if args.flag("tls-no-verify") { body.append(("tls_verify", .bool(false))) }
        let (service, name) = (args.positionals[0], args.positionals[1])
        let result = try cli.client(args).request("PUT", Self.path(service, name), body: .object(body))
        if !cli.printJSON(args, result) {
            cli.console.out("cluster \(name) of \(service) saved (\(result["addresses"]?.cell ?? "-"):\(result["port"]?.cell ?? "-"), weight \(result["weight"]?.cell ?? "-"))")
        }
        return .success
    }

    private func list(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, [])
        if args.helpRequested { return cli.help("glb cluster list SERVICE", []) }
        guard args.positionals.count == 1 else { throw UsageError("expected exactly one SERVICE") }
        let result = try cli.client(args).request("GET", "/v1/services/\(AdminClient.segment(args.positionals[0]))/clusters")
        if cli.printJSON(args, result) { return .success }
        var table = Table("NAME", "REGION", "ADDRESSES", "PORT", "WEIGHT", "PRIORITY", "STATE")
        for cluster in result["clusters"]?.arrayValue ?? [] {
            table.add(["name", "region", "addresses", "port", "weight", "priority", "state"].map { cluster[$0]?.cell ?? "-" })
        }
        cli.console.out(table.render())
        return .success
    }

    private func show(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, [])
        if args.helpRequested { return cli.help("glb cluster show SERVICE NAME", []) }
        guard args.positionals.count == 2 else { throw UsageError("expected SERVICE and cluster NAME") }
        let result = try cli.client(args).request("GET", Self.path(args.positionals[0], args.positionals[1]))
        if cli.printJSON(args, result) { return .success }
        cli.console.out(ServiceCommand.describe(result))
        return .success
    }

    private func remove(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, [])
        if args.helpRequested { return cli.help("glb cluster remove SERVICE NAME", []) }
        guard args.positionals.count == 2 else { throw UsageError("expected SERVICE and cluster NAME") }
        _ = try cli.client(args).request("DELETE", Self.path(args.positionals[0], args.positionals[1]))
        if !args.flag("json") { cli.console.out("cluster \(args.positionals[1]) of \(args.positionals[0]) removed") }
        return .success
    }

    static func path(_ service: String, _ cluster: String) -> String {
        "/v1/services/\(AdminClient.segment(service))/clusters/\(AdminClient.segment(cluster))"
    }
}
