import GLBCore

/// `glb cluster add|set|list|show|remove`: the CLI face of /v1/services/{service}/clusters.
/// `add` creates or replaces a cluster whole (PUT: what it does not name takes its default);
/// `set` changes only the options it names (PATCH), so shifting a weight keeps everything else.
struct ClusterCommand {
    let cli: CLI

    static let addOptions: [Arguments.OptionSpec] = [
        .init("region", value: "REGION", help: "the region the cluster runs in (required)"),
        .init("address", value: "IP", repeatable: true, help: "an address to answer with (repeatable, or comma-separated; required)"),
        .init("port", value: "PORT", help: "the port clients and probes use (required)"),
    ] + fieldOptions

    /// What `set` may change: the same options, none of them required.
    static let setOptions: [Arguments.OptionSpec] = [
        .init("region", value: "REGION", help: "the region the cluster runs in"),
        .init("address", value: "IP", repeatable: true, help: "addresses to answer with, replacing the current ones (repeatable, or comma-separated)"),
        .init("port", value: "PORT", help: "the port clients and probes use"),
        .flag("no-tls", help: "speak plain HTTP to this cluster again"),
        .flag("tls-verify", help: "verify this cluster's certificate again"),
    ] + fieldOptions

    private static let fieldOptions: [Arguments.OptionSpec] = [
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

    static let verbs: [(synopsis: String, help: String)] = [
        ("add SERVICE NAME --region R --address IP --port P [options]", "create or replace a cluster (what is not given takes its default)"),
        ("set SERVICE NAME [--weight N] [--state active|draining|disabled] [--priority N] ...", "change only the options given"),
        ("list SERVICE", "the service's clusters"),
        ("show SERVICE NAME", "one cluster"),
        ("remove SERVICE NAME", "delete a cluster"),
    ]

    func run(_ argv: [String]) throws -> ExitCode {
        try cli.dispatch(argv, command: "cluster", synopses: Self.verbs, verbs: [
            (["add"], add), (["set"], set), (["list", "ls"], list), (["show", "get"], show), (["remove", "rm", "delete"], remove),
        ])
    }

    private func add(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, Self.addOptions)
        if args.helpRequested { return cli.help("glb cluster " + Self.verbs[0].synopsis, Self.addOptions) }
        guard args.positionals.count == 2 else { throw UsageError("expected SERVICE and cluster NAME") }
        guard args.value("region") != nil else { throw UsageError("--region is required") }
        guard !args.list("address").isEmpty else { throw UsageError("--address is required") }
        guard args.value("port") != nil else { throw UsageError("--port is required") }
        let (service, name) = (args.positionals[0], args.positionals[1])
        let result = try cli.client(args).request("PUT", Self.path(service, name), body: .object(try Self.fields(args)))
        if !cli.printJSON(args, result) { cli.console.out("cluster \(name) of \(service) saved (\(Self.summary(result)))") }
        return .success
    }

    private func set(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, Self.setOptions)
        if args.helpRequested { return cli.help("glb cluster " + Self.verbs[1].synopsis, Self.setOptions) }
        guard args.positionals.count == 2 else { throw UsageError("expected SERVICE and cluster NAME") }
        var patch = try Self.fields(args)
        if args.flag("no-tls") { patch.append(("tls", .bool(false))) }
        if args.flag("tls-verify") { patch.append(("tls_verify", .bool(true))) }
        guard !patch.isEmpty else { throw UsageError("nothing to change: give at least one option, e.g. --weight 50") }
        let (service, name) = (args.positionals[0], args.positionals[1])
        let result = try cli.client(args).request("PATCH", Self.path(service, name), body: .object(patch))
        if !cli.printJSON(args, result) { cli.console.out("cluster \(name) of \(service) updated (\(Self.summary(result)))") }
        return .success
    }

    /// The body members for the options given, in the API's spelling; nothing for options left out.
    private static func fields(_ args: Arguments) throws(UsageError) -> [(key: String, value: JSONValue)] {
        var body: [(key: String, value: JSONValue)] = []
        if let region = args.value("region") { body.append(("region", .string(region))) }
        let addresses = args.list("address")
        if !addresses.isEmpty { body.append(("addresses", .array(addresses.map { .string($0) }))) }
        if let port = try args.integer("port", in: 1...65535) { body.append(("port", .number(String(port)))) }
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
        return body
    }

    /// `127.0.0.11:18081, weight 50, draining`: what an operator checks after a change.
    private static func summary(_ cluster: JSONValue) -> String {
        var text = "\(cluster["addresses"]?.cell ?? "-"):\(cluster["port"]?.cell ?? "-"), weight \(cluster["weight"]?.cell ?? "-")"
        if let state = cluster["state"]?.stringValue, state != "active" { text += ", \(state)" }
        return text
    }

    private func list(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, [])
        if args.helpRequested { return cli.help("glb cluster " + Self.verbs[2].synopsis, []) }
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
        if args.helpRequested { return cli.help("glb cluster " + Self.verbs[3].synopsis, []) }
        guard args.positionals.count == 2 else { throw UsageError("expected SERVICE and cluster NAME") }
        let result = try cli.client(args).request("GET", Self.path(args.positionals[0], args.positionals[1]))
        if cli.printJSON(args, result) { return .success }
        cli.console.out(ServiceCommand.describe(result))
        return .success
    }

    private func remove(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, [])
        if args.helpRequested { return cli.help("glb cluster " + Self.verbs[4].synopsis, []) }
        guard args.positionals.count == 2 else { throw UsageError("expected SERVICE and cluster NAME") }
        let removed = try cli.client(args).request("DELETE", Self.path(args.positionals[0], args.positionals[1]))
        if !cli.printJSON(args, removed) { cli.console.out("cluster \(args.positionals[1]) of \(args.positionals[0]) removed") }
        return .success
    }

    static func path(_ service: String, _ cluster: String) -> String {
        "/v1/services/\(AdminClient.segment(service))/clusters/\(AdminClient.segment(cluster))"
    }
}
