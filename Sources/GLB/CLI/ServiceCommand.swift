import GLBCore

/// `glb service add|set|list|show|remove`: the CLI face of /v1/services. `add` creates or
/// replaces a service whole (PUT); `set` changes only the options it names (PATCH).
struct ServiceCommand {
    let cli: CLI

    static let addOptions: [Arguments.OptionSpec] = [
        .init("zone", value: "ZONE", help: "the zone the service's name lives in (required)"),
    ] + fieldOptions

    /// What `set` may change: the same options, none required, and a way back from --fail-closed.
    static let setOptions: [Arguments.OptionSpec] = [
        .init("zone", value: "ZONE", help: "move the service to another zone"),
        .flag("fail-open", help: "answer with every cluster when all are down (the default)"),
    ] + fieldOptions

    private static let fieldOptions: [Arguments.OptionSpec] = [
        .init("policy", value: "POLICY", help: "weighted, failover, geo, latency or all (default weighted)"),
        .init("ttl", value: "SECONDS", help: "answer TTL (default 30)"),
        .init("mode", value: "MODE", help: "dns (answer with clusters) or proxy (answer with GLB nodes)"),
        .init("answers", value: "N", help: "addresses per weighted answer (default 1)"),
        .flag("fail-closed", help: "answer nothing rather than unhealthy clusters when all are down"),
        .init("check-type", value: "TYPE", help: "health check: http, https or tcp (default http)"),
        .init("check-path", value: "PATH", help: "HTTP(S) check path (default /)"),
        .init("check-port", value: "PORT", help: "probe this port instead of the cluster's"),
        .init("check-host", value: "HOST", help: "Host header / SNI for the check"),
        .init("interval-ms", value: "MS", help: "probe interval (default 1000)"),
        .init("timeout-ms", value: "MS", help: "probe timeout"),
        .init("rise", value: "N", help: "successes before a cluster is up (default 2)"),
        .init("fall", value: "N", help: "failures before a cluster is down (default 2)"),
    ]

    static let verbs: [(synopsis: String, help: String)] = [
        ("add NAME --zone ZONE [options]", "create or replace a service (what is not given takes its default)"),
        ("set NAME [--policy P] [--ttl S] [--interval-ms MS] ...", "change only the options given"),
        ("list [--zone ZONE]", "every service"),
        ("show NAME", "one service"),
        ("remove NAME", "delete a service and its clusters"),
    ]

    func run(_ argv: [String]) throws -> ExitCode {
        try cli.dispatch(argv, command: "service", synopses: Self.verbs, verbs: [
            (["add"], add), (["set"], set), (["list", "ls"], list), (["show", "get"], show), (["remove", "rm", "delete"], remove),
        ])
    }

    private func add(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, Self.addOptions)
        if args.helpRequested { return cli.help("glb service " + Self.verbs[0].synopsis, Self.addOptions) }
        guard args.positionals.count == 1 else { throw UsageError("expected exactly one service NAME") }
        guard args.value("zone") != nil else { throw UsageError("--zone is required") }
        let name = args.positionals[0]
        let result = try cli.client(args).request("PUT", "/v1/services/\(AdminClient.segment(name))", body: .object(try Self.fields(args)))
        if !cli.printJSON(args, result) { cli.console.out("service \(name) saved (\(result["policy"]?.cell ?? "-"), ttl \(result["ttl"]?.cell ?? "-"))") }
        return .success
    }

    private func set(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, Self.setOptions)
        if args.helpRequested { return cli.help("glb service " + Self.verbs[1].synopsis, Self.setOptions) }
        guard args.positionals.count == 1 else { throw UsageError("expected exactly one service NAME") }
        if args.flag("fail-open"), args.flag("fail-closed") { throw UsageError("--fail-open and --fail-closed contradict each other") }
        var patch = try Self.fields(args)
        if args.flag("fail-open") { patch.append(("fail_closed", .bool(false))) }
        guard !patch.isEmpty else { throw UsageError("nothing to change: give at least one option, e.g. --ttl 60") }
        let name = args.positionals[0]
        let result = try cli.client(args).request("PATCH", "/v1/services/\(AdminClient.segment(name))", body: .object(patch))
        if !cli.printJSON(args, result) { cli.console.out("service \(name) updated (\(result["policy"]?.cell ?? "-"), ttl \(result["ttl"]?.cell ?? "-"))") }
        return .success
    }

    /// The body members for the options given, in the API's spelling; nothing for options left out.
    private static func fields(_ args: Arguments) throws(UsageError) -> [(key: String, value: JSONValue)] {
        var body: [(key: String, value: JSONValue)] = []
        if let zone = args.value("zone") { body.append(("zone", .string(zone))) }
        if let policy = args.value("policy") { body.append(("policy", .string(policy))) }
        if let ttl = try args.integer("ttl", in: 0...86400) { body.append(("ttl", .number(String(ttl)))) }
        if let mode = args.value("mode") { body.append(("mode", .string(mode))) }
        if let answers = try args.integer("answers", in: 1...16) { body.append(("answers", .number(String(answers)))) }
        if args.flag("fail-closed") { body.append(("fail_closed", .bool(true))) }
        var check: [(key: String, value: JSONValue)] = []
        if let type = args.value("check-type") { check.append(("type", .string(type))) }
        if let path = args.value("check-path") { check.append(("path", .string(path))) }
        if let port = try args.integer("check-port", in: 1...65535) { check.append(("port", .number(String(port)))) }
        if let host = args.value("check-host") { check.append(("host", .string(host))) }
        for (flag, key) in [("interval-ms", "interval_ms"), ("timeout-ms", "timeout_ms"), ("rise", "rise"), ("fall", "fall")] {
            if let n = try args.integer(flag, in: 1...3_600_000) { check.append((key, .number(String(n)))) }
        }
        if !check.isEmpty { body.append(("check", .object(check))) }
        return body
    }

    private func list(_ argv: [String]) throws -> ExitCode {
        let specs: [Arguments.OptionSpec] = [.init("zone", value: "ZONE", help: "only services in this zone")]
        let args = try cli.parse(argv, specs)
        if args.helpRequested { return cli.help("glb service " + Self.verbs[2].synopsis, specs) }
        guard args.positionals.isEmpty else { throw UsageError("list takes no arguments") }
        let query = args.value("zone").map { "?zone=\(AdminClient.segment($0))" } ?? ""
        let result = try cli.client(args).request("GET", "/v1/services" + query)
        if cli.printJSON(args, result) { return .success }
        var table = Table("NAME", "ZONE", "POLICY", "TTL", "MODE", "CHECK")
        for service in result["services"]?.arrayValue ?? [] {
            let check = service["check"].map { "\($0["type"]?.cell ?? "-") \($0["interval_ms"]?.cell ?? "-")ms" } ?? "-"
            table.add([service["name"]?.cell ?? "-", service["zone"]?.cell ?? "-", service["policy"]?.cell ?? "-",
                       service["ttl"]?.cell ?? "-", service["mode"]?.cell ?? "-", check])
        }
        cli.console.out(table.render())
        return .success
    }

    private func show(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, [])
        if args.helpRequested { return cli.help("glb service " + Self.verbs[3].synopsis, []) }
        guard args.positionals.count == 1 else { throw UsageError("expected exactly one service NAME") }
        let result = try cli.client(args).request("GET", "/v1/services/\(AdminClient.segment(args.positionals[0]))")
        if cli.printJSON(args, result) { return .success }
        cli.console.out(Self.describe(result))
        return .success
    }

    private func remove(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, [])
        if args.helpRequested { return cli.help("glb service " + Self.verbs[4].synopsis, []) }
        guard args.positionals.count == 1 else { throw UsageError("expected exactly one service NAME") }
        let removed = try cli.client(args).request("DELETE", "/v1/services/\(AdminClient.segment(args.positionals[0]))")
        if !cli.printJSON(args, removed) { cli.console.out("service \(args.positionals[0]) removed") }
        return .success
    }

    /// `key: value` lines, nested objects flattened with dots, in a stable order.
    static func describe(_ value: JSONValue, prefix: String = "") -> String {
        guard let members = value.objectValue else { return value.cell }
        var lines: [String] = []
        for (key, member) in members.sorted(by: { $0.key < $1.key }) {
            if case .object = member {
                lines.append(describe(member, prefix: prefix + key + "."))
            } else {
                lines.append("\(prefix)\(key): \(member.cell)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
