import GLBCore

/// `glb agent`: parse the flags, run a node until SIGTERM/SIGINT.
struct AgentCommand {
    let console: any Console
    let environment: [String: String]

    func run(_ argv: [String]) async throws -> ExitCode {
        let args = try Arguments(argv, specs: AgentConfig.options, environment: environment)
        if args.helpRequested {
            console.out("usage: glb agent [options]\n\nRuns one GLB node on its embedded SQLite store.\n\noptions:\n" + Arguments.help(for: AgentConfig.options))
            return .success
        }
        guard args.positionals.isEmpty else { throw UsageError("unexpected argument \"\(args.positionals[0])\"") }
        let config = try AgentConfig(args, environment: environment)
        let agent = Agent(config: config, logger: Logger(component: "agent", minimum: config.logLevel))
        let terminations = ProcessSignals.claimTerminations()   // from here on SIGTERM drains
        do {
            try await agent.run(until: {
                var signals = terminations.makeAsyncIterator()
                _ = await signals.next()
            })
        } catch let error as AgentError {
            // Every AgentError names the flag or file to change: a configuration error (exit 2),
            // as the README's exit codes say.
            console.err("glb agent: \(error)")
            return .usage
        }
        return .success
    }
}
