import GLBCore

/// `glb explain SERVICE --client IP [--subnet CIDR]`: the routing decision for one client, step
/// by step, from the snapshot the node serves now.
struct ExplainCommand {
    let cli: CLI

    static let options: [Arguments.OptionSpec] = [
        .init("client", value: "IP", help: "the client (or resolver) address to explain for (required)"),
        .init("subnet", value: "CIDR", help: "an EDNS Client Subnet the resolver would send, e.g. 198.51.100.0/24"),
    ]

    func run(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, Self.options)
        if args.helpRequested { return cli.help("glb explain SERVICE --client IP [--subnet CIDR]", Self.options) }
        guard args.positionals.count == 1 else { throw UsageError("expected exactly one SERVICE (a name like www, or an FQDN)") }
        guard let client = args.value("client") else { throw UsageError("--client is required") }
        var path = "/v1/services/\(AdminClient.segment(args.positionals[0]))/explain?client=\(AdminClient.segment(client))"
        if let subnet = args.value("subnet") { path += "&subnet=\(AdminClient.segment(subnet))" }
        let result = try cli.client(args).request("GET", path)
        if cli.printJSON(args, result) { return .success }
        cli.console.out(result["explanation"]?.stringValue ?? result.serialized())
        return .success
    }
}
