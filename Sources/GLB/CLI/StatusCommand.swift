import GLBCore

/// `glb status`: the node, its config version, and every service's clusters with weight, canary
/// share and health, as this node sees them.
struct StatusCommand {
    let cli: CLI

    func run(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, [])
        if args.helpRequested {
            _ = cli.help("glb status", [])
            cli.console.out(Self.columns)
            return .success
        }
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

    /// What the table's columns mean, for `--help` (the README says the same).
    static let columns = """

        columns:
          STATE       what the operator set: active, draining (no new traffic) or disabled (not probed)
          HEALTH      this node's own probes: up, down, or unknown before the first probe
          QUORUM      the verdict every node's DNS answers follow, with the votes of the fresh observers
                      (live nodes whose last report is under 8 s old): "answered 2/1" means answered,
                      2 observers see it up and 1 down; "DOWN 0/2" means a strict majority sees it down,
                      so it has left the answers (a 1/1 split keeps it). With --health-quorum local on
                      the node, its own probes decide and QUORUM shows only its own vote.
          LAST PROBE  the result of this node's latest probe (ok, refused, timeout, status 503, ...)
          RTT         this node's smoothed round-trip time to the cluster
        config version: the newest change this node serves, as the writer's UTC time (+N when
        several changes share a millisecond); equal on every node once replication has converged.
        """

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
