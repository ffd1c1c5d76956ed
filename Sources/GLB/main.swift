import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

// A write to a reset socket must be an error, not a dead process (TOOLCHAIN.md pitfall 9).
signal(SIGPIPE, SIG_IGN)
// First, so a SIGTERM, SIGINT or SIGHUP however early is forwarded, never lost (see ProcessSignals).
ProcessSignals.install()

let cli = CLI(console: StandardConsole(), environment: ProcessInfo.processInfo.environment)
let code = await cli.run(Array(CommandLine.arguments.dropFirst()))
exit(code.rawValue)
