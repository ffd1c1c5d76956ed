import Foundation
import GLBCore
import Testing
@testable import GLB

/// The README's walkthrough, run as written by scripts/readme-test.sh (every block marked
/// `sh run` or `sh agent`, in order, with the real `glb` binary, curl, dig and openssl), so the
/// README cannot drift from the product. An integration test: it uses the README's own fixed
/// ports (5353, 8080, 8443, 9090 and the two gossip nodes'), and its waits are bounded.
@Suite(.serialized) struct ReadmeWalkthroughTests {
    @Test func everyRunnableBlockOfTheReadmeRunsInOrder() async throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [repo.appendingPathComponent("scripts/readme-test.sh").path]
        var environment = ProcessInfo.processInfo.environment
        environment["GLB_BIN"] = AgentProcessTests.binary
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = try await offPool { () -> String in
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("every runnable block of README.md ran"))
    }
}
