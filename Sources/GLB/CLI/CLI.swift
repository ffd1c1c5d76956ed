import GLBCore

/// The `glb` command: parses the first word and hands the rest to a command.
///
///     glb agent     run a node
///     glb service   add | set | list | show | remove
///     glb cluster   add | set | list | show | remove
///     glb status    services, clusters and health as this node sees them
///
/// Exit codes are in `ExitCode`: 0 done, 2 usage, 3 rejected, 4 not found, 5 unreachable.
struct CLI {
    let console: any Console
    let environment: [String: String]
    /// Builds the transport for `--admin`/`--token`; tests inject a fake.
    var makeTransport: (_ admin: String, _ token: String?, _ trustRoots: String?) -> any AdminTransport = { admin, token, roots in
        HTTPAdminTransport(address: admin, token: token, trustRoots: roots)
    }

    static let version = "0.1.0"

    static let usage = """
        usage: glb <command> [options]

        commands:
          agent     run a GLB node (DNS, proxy, admin API) on its SQLite store
          service   add | set | list | show | remove services
          cluster   add | set | list | show | remove a service's clusters
          canary    set | status | promote | abort a service's canary split
          status    services, clusters, weights and health, as the node sees them
          members   the gossip members (nodes) this node sees, with status and RTT
          explain   why a client gets the answer it gets (glb explain www --client 192.0.2.1)
          version   print the version

        Run 'glb <command> --help' for a command's options.
        """

    /// Options every client command accepts.
    static let clientOptions: [Arguments.OptionSpec] = [
        .init("admin", value: "ADDR:PORT|URL", env: "GLB_ADMIN", help: "the node's admin API: ADDR:PORT, http://HOST:PORT or https://HOST:PORT (default 127.0.0.1:9090)"),
        .init("admin-ca", value: "FILE", env: "GLB_ADMIN_CA", help: "PEM roots that verify an https:// admin URL (default: the system's)"),
        .init("token", value: "TOKEN", env: "GLB_ADMIN_TOKEN", help: "bearer token for the admin API"),
        .flag("json", help: "print JSON for scripts instead of tables"),
    ]

    func run(_ argv: [String]) async -> ExitCode {
        guard let command = argv.first else {
            console.err(Self.usage)
            return .usage
        }
        let rest = Array(argv.dropFirst())
        do {
            switch command {
            case "agent":
                return try await AgentCommand(console: console, environment: environment).run(rest)
            case "service", "services":
                return try ServiceCommand(cli: self).run(rest)
            case "cluster", "clusters":
                return try ClusterCommand(cli: self).run(rest)
            case "status":
                return try StatusCommand(cli: self).run(rest)
            case "members":
                return try MembersCommand(cli: self).run(rest)
            case "canary":
                return try CanaryCommand(cli: self).run(rest)
            case "explain":
                return try ExplainCommand(cli: self).run(rest)
            case "version", "--version":
                console.out("glb \(Self.version)")
                return .success
            case "help", "--help", "-h":
                console.out(Self.usage)
                return .success
            default:
                console.err("glb: unknown command \"\(command)\"\n\n" + Self.usage)
                return .usage
            }
        } catch let error as UsageError {
            console.err("glb \(command): \(error.message)\nRun 'glb \(error.helpCommand ?? command) --help' for usage.")
            return .usage
        } catch let error as AdminClient.Failure {
            console.err("glb \(command): \(error.message)")
            return error.code
        } catch {
            console.err("glb \(command): \(error)")
            return .failure
        }
    }

    /// Parses a client command's arguments with the shared options added.
    func parse(_ argv: [String], _ specs: [Arguments.OptionSpec]) throws(UsageError) -> Arguments {
        try Arguments(argv, specs: specs + Self.clientOptions, environment: environment)
    }

    /// The admin client for `--admin`; a malformed address is a usage error (exit 2), found
    /// before anything is sent.
    func client(_ args: Arguments) throws(UsageError) -> AdminClient {
        let admin = args.value("admin") ?? "127.0.0.1:9090"
        do {
            _ = try AdminEndpoint(parsing: admin)
        } catch {
            throw UsageError("--admin (or GLB_ADMIN): \(error.message)")
        }
        return AdminClient(transport: makeTransport(admin, args.value("token"), args.value("admin-ca")))
    }

    /// Prints `value` as JSON when `--json` was given; returns whether it did.
    func printJSON(_ args: Arguments, _ value: JSONValue) -> Bool {
        guard args.flag("json") else { return false }
        console.out(value.serialized(sortedKeys: true))
        return true
    }

    /// Runs the verb `argv[0]` names (its first name is the one shown in errors) with the rest.
    /// `glb COMMAND --help` lists every verb with its synopsis; a usage error inside a verb points
    /// at that verb's own help, which has its options.
    func dispatch(_ argv: [String], command: String, synopses: [(synopsis: String, help: String)],
                  verbs: [(names: [String], run: ([String]) throws -> ExitCode)]) throws -> ExitCode {
        let expected = verbs.map { $0.names[0] }.joined(separator: ", ")
        guard let verb = argv.first else { throw UsageError("expected one of \(expected)") }
        if verb == "--help" || verb == "-h" {
            let width = synopses.map(\.synopsis.count).max() ?? 0
            let lines = synopses.map { "  glb \(command) \($0.synopsis.padding(to: width))  \($0.help)" }
            console.out("usage:\n" + lines.joined(separator: "\n") + "\n\nRun 'glb \(command) VERB --help' for a verb's options.")
            return .success
        }
        guard let match = verbs.first(where: { $0.names.contains(verb) }) else {
            throw UsageError("unknown verb \"\(verb)\": expected one of \(expected)")
        }
        do {
            return try match.run(Array(argv.dropFirst()))
        } catch var error as UsageError {
            if error.helpCommand == nil { error.helpCommand = "\(command) \(match.names[0])" }
            throw error
        }
    }

    func help(_ synopsis: String, _ specs: [Arguments.OptionSpec]) -> ExitCode {
        console.out("usage: \(synopsis)\n\noptions:\n" + Arguments.help(for: specs + Self.clientOptions))
        return .success
    }
}

extension JSONValue {
    /// A cell for a table: strings bare, numbers as written, arrays joined by commas, null as "-".
    var cell: String {
        switch self {
        case .null: "-"
        case .bool(let b): b ? "yes" : "no"
        case .number(let n): n
        case .string(let s): s
        case .array(let items): items.map(\.cell).joined(separator: ",")
        case .object: serialized(sortedKeys: true)
        }
    }
}
