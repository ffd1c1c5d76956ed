import GLBCore

/// `glb members`: the gossip members the node sees, as a table (`--json` for scripts).
struct MembersCommand {
    let cli: CLI

    func run(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, [])
        if args.helpRequested { return cli.help("glb members", []) }
        guard args.positionals.isEmpty else { throw UsageError("members takes no arguments") }
        let answer = try cli.client(args).request("GET", "/v1/members")
        if cli.printJSON(args, answer) { return .success }
        guard answer["gossip"]?.boolValue == true else {
            cli.console.out("gossip is off on this node: start it with --gossip ADDR:PORT (and --join to reach the others)")
            return .success
        }
        var table = Table("NAME", "REGION", "ADDRESS", "STATUS", "INCARNATION", "RTT", "CONFIG VERSION")
        for member in answer["members"]?.arrayValue ?? [] {
            let rtt = member["rtt_ms"].map { $0 == .null ? "-" : "\($0.cell)ms" } ?? "-"
            table.add([member["name"]?.cell ?? "-", member["region"]?.cell ?? "-", member["address"]?.cell ?? "-",
                       member["status"]?.cell ?? "-", member["incarnation"]?.cell ?? "-", rtt, member["config_version"]?.cell ?? "-"])
        }
        cli.console.out(table.render())
        return .success
    }
}
