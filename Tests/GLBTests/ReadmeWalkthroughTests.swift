import Foundation
import GLBCore
import Testing
@testable import GLB
#if canImport(Glibc)
import Glibc
#endif

/// The README's walkthrough, run as written by scripts/readme-test.sh (every block marked
/// `sh run` or `sh agent`, in order, with the real `glb` binary, curl, dig and openssl), so the
/// README cannot drift from the product. An integration test: it uses the README's own fixed
/// ports (5353, 8080, 8443, 9090 and the two gossip nodes'), and its waits are bounded.
@Suite(.serialized) struct ReadmeWalkthroughTests {
    /// Runs `/bin/bash script` to its exit with its output in `log`. Spawned with an empty signal
    /// mask and default dispositions: the test runner's threads block SIGTERM, and a child
    /// inherits that, so the walkthrough's agents and origins would never see the SIGTERM that
    /// stops them (they would hang the run, or outlive it).
    static func runScript(_ script: String, environment: [String: String], log: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ["/bin/bash", script]
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var cArgv = argv.map { strdup($0) } + [nil]
        var cEnvp = envp.map { strdup($0) } + [nil]
        defer { (cArgv + cEnvp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/bash", &actions, &attributes, &cArgv, &cEnvp)
        guard rc == 0 else { throw SystemError(call: "posix_spawn", errno: rc) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    @Test func everyRunnableBlockOfTheReadmeRunsInOrder() async throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var environment = ProcessInfo.processInfo.environment
        environment["GLB_BIN"] = AgentProcessTests.binary
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("glb-readme-test-\(getpid()).log").path
        defer { unlink(log) }
        let script = repo.appendingPathComponent("scripts/readme-test.sh").path
        let env = environment
        let status = try await offPool { try Self.runScript(script, environment: env, log: log) }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(text)")
        #expect(text.contains("every runnable block of README.md ran"))
    }
}
