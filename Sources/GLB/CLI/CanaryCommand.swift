import GLBCore

/// `glb canary set|status|promote|abort SERVICE`: shift a share of a service's clients to one
/// cluster, watch it, then keep it or roll it back. Every change is audited by the node.
struct CanaryCommand {
    let cli: CLI

    static let setOptions: [Arguments.OptionSpec] = [
        .init("cluster", value: "NAME", help: "the cluster that gets the canary share (required)"),
        .init("percent", value: "P", help: "share of clients, 0 to 100 (required)"),
    ]

    static let verbs: [(synopsis: String, help: String)] = [
        ("set SERVICE --cluster NAME --percent P", "send P% of clients to one cluster"),
        ("status SERVICE", "the current split, if any"),
        ("promote SERVICE", "the canary takes all new traffic; the others drain"),
        ("abort SERVICE", "remove the split"),
    ]

    func run(_ argv: [String]) throws -> ExitCode {
        try cli.dispatch(argv, command: "canary", synopses: Self.verbs, verbs: [
            (["set"], set), (["status", "show"], status), (["promote"], promote), (["abort", "clear"], abort),
        ])
    }

    private func set(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, Self.setOptions)
        if args.helpRequested { return cli.help("glb canary set SERVICE --cluster NAME --percent P", Self.setOptions) }
        let service = try Self.service(args)
        guard let cluster = args.value("cluster") else { throw UsageError("--cluster is required") }
        guard let percent = try args.decimal("percent", in: 0...100) else { throw UsageError("--percent is required") }
        let body: JSONValue = .object([("cluster", .string(cluster)), ("percent", .number(Self.format(percent)))])
        let result = try cli.client(args).request("PUT", Self.path(service), body: body)
        if !cli.printJSON(args, result) {
            cli.console.out("canary of \(service): \(cluster) gets \(Self.format(percent))% of clients")
        }
        return .success
    }

    private func status(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, [])
        if args.helpRequested { return cli.help("glb canary status SERVICE", []) }
        let service = try Self.service(args)
        let client = try cli.client(args)
        // No canary is an answer, not an error, once we know the service itself exists.
        _ = try client.request("GET", "/v1/services/\(AdminClient.segment(service))")
        let answer = Result { () throws(AdminClient.Failure) -> JSONValue in try client.request("GET", Self.path(service)) }
        if case .failure(let failure) = answer, failure.code == .notFound {
            // The split's own shape with no share, so a script reads `percent` either way.
            let none: JSONValue = .object([("cluster", .null), ("percent", .number("0")), ("service", .string(service))])
            if !cli.printJSON(args, none) { cli.console.out("service \(service) has no canary") }
            return .success
        }
        let split = try answer.get()
        if cli.printJSON(args, split) { return .success }
        cli.console.out("canary of \(service): \(split["cluster"]?.cell ?? "-") gets \(split["percent"]?.cell ?? "-")% of clients (version \(split["version"]?.cell ?? "-"))")
        return .success
    }

    private func promote(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, [])
        if args.helpRequested { return cli.help("glb canary promote SERVICE", []) }
        let service = try Self.service(args)
        let result = try cli.client(args).request("POST", Self.path(service) + "/promote")
        if !cli.printJSON(args, result) {
            let drained = result["drained"]?.arrayValue?.map(\.cell) ?? []
            cli.console.out("canary \(result["promoted"]?["cluster"]?.cell ?? "-") of \(service) promoted; draining: \(drained.isEmpty ? "none" : drained.joined(separator: ", "))")
        }
        return .success
    }

    private func abort(_ argv: [String]) throws -> ExitCode {
        let args = try cli.parse(argv, [])
        if args.helpRequested { return cli.help("glb canary abort SERVICE", []) }
        let service = try Self.service(args)
        let result = try cli.client(args).request("DELETE", Self.path(service))
        if !cli.printJSON(args, result) { cli.console.out("canary of \(service) aborted: \(result["cluster"]?.cell ?? "-") gets no share") }
        return .success
    }

    static func service(_ args: Arguments) throws(UsageError) -> String {
        guard args.positionals.count == 1 else { throw UsageError("expected exactly one SERVICE") }
        return args.positionals[0]
    }

    static func path(_ service: String) -> String { "/v1/services/\(AdminClient.segment(service))/canary" }

    /// 10 rather than 10.0; 12.5 stays 12.5.
    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
