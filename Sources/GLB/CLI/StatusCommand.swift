import GLBCore

/// `glb status`: the node, its config version, and every service's clusters with weight, canary
/// share and health, as this node sees them.
struct StatusCommand {
    let cli: CLI

    func run(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, [])
        if args.helpRequested { return cli.help("glb status", []) }
        guard args.positionals.isEmpty else { throw UsageError("status takes no arguments") }
        let status = try cli.client(args).request("GET", "/v1/status")
        if cli.printJSON(args, status) { return .success }
        let node = status["node"]
        cli.console.out("node \(node?["name"]?.cell ?? "-") (region \(node?["region"]?.cell ?? "-")), config version \(status["config_version"]?.cell ?? "-"),\(status["members"].map { " \($0.cell) live members," } ?? "") up \(status["uptime_s"]?.cell ?? "-")s")
        let services = status["services"]?.arrayValue ?? []
        printCertificates(status["tls_certificates"]?.arrayValue ?? [])
        if services.isEmpty {
            cli.console.out("no services yet: add one with 'glb service add NAME --zone ZONE'")
            return .success
        }
        printNodes(status)
        var table = Table("SERVICE", "CLUSTER", "REGION", "ADDRESSES", "WEIGHT", "CANARY", "STATE", "HEALTH", "QUORUM", "LAST PROBE", "RTT")
        for service in services {
            let name = service["fqdn"]?.cell ?? service["name"]?.cell ?? "-"
            let clusters = service["clusters"]?.arrayValue ?? []
            if clusters.isEmpty { table.add([name, "-", "-", "-", "-", "-", "-", "no clusters", "-", "-", "-"]) }
            for cluster in clusters {
                let canary = cluster["canary_percent"].map { $0 == .null ? "-" : "\($0.cell)%" } ?? "-"
                table.add([name, cluster["name"]?.cell ?? "-", cluster["region"]?.cell ?? "-", cluster["addresses"]?.cell ?? "-",
                           cluster["weight"]?.cell ?? "-", canary, cluster["state"]?.cell ?? "-", cluster["health"]?.cell ?? "-",
                           Self.quorum(cluster["quorum"]), cluster["last_probe"]?.cell ?? "-", cluster["rtt_ms"].map { $0 == .null ? "-" : "\($0.cell)ms" } ?? "-"])
            }
        }
        cli.console.out(table.render())
        return .success
    }

    /// The GLB-wide verdict: `answered 2/1` is answered with two observers up and one down.
    static func quorum(_ quorum: JSONValue?) -> String {
        guard let quorum else { return "-" }
        let verdict = quorum["answered"]?.boolValue == false ? "DOWN" : "answered"
        return "\(verdict) \(quorum["up_votes"]?.cell ?? "0")/\(quorum["down_votes"]?.cell ?? "0")"
    }

    /// With gossip on, every node and the config version it serves: equal versions mean the
    /// regions have converged.
    private func printNodes(_ status: JSONValue) {
        let nodes = status["nodes"]?.arrayValue ?? []
        guard !nodes.isEmpty else { return }
        var table = Table("NODE", "REGION", "STATUS", "CONFIG VERSION")
        for node in nodes {
            table.add([node["name"]?.cell ?? "-", node["region"]?.cell ?? "-", node["status"]?.cell ?? "-", node["config_version"]?.cell ?? "-"])
        }
        cli.console.out(table.render())
    }

    /// The certificates --https serves, soonest expiry first, so the one to renew is on top.
    private func printCertificates(_ certificates: [JSONValue]) {
        guard !certificates.isEmpty else { return }
        var table = Table("CERTIFICATE", "NAMES", "EXPIRES", "DAYS LEFT", "STATE")
        func days(_ certificate: JSONValue) -> Int { certificate["days_to_expiry"].flatMap { Int($0.cell) } ?? Int.max }
        let sorted = certificates.sorted { days($0) < days($1) }
        for certificate in sorted {
            let name = (certificate["name"]?.cell ?? "-") + (certificate["default"] == .bool(true) ? " (default)" : "")
            let state = certificate["state"]?.cell ?? "-"
            table.add([name, certificate["dns_names"]?.cell ?? "-", certificate["not_after"]?.cell ?? "-",
                       certificate["days_to_expiry"]?.cell ?? "-", state == "ok" ? "ok" : state.uppercased()])
        }
        cli.console.out(table.render())
        cli.console.out("")
    }
}
