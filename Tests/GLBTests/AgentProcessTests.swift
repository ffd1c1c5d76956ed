import Foundation
import GLBCore
import GLBTestSupport
import Testing
@testable import Store
@testable import GLB
#if canImport(Glibc)
import Glibc
#endif

/// The real `glb` binary as a child process: what an operator runs, including `kill -9`.
/// These are integration tests: they wait on a child's output, bounded by timeouts, never sleep.
@Suite(.serialized) struct AgentProcessTests {
    /// The `glb` executable beside this test bundle in the build directory.
    static var binary: String {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = runner.deletingLastPathComponent()
        // swift-testing runs the bundle from .build/<triple>/debug/glbPackageTests.xctest
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("glb").path
    }

    final class Child: @unchecked Sendable {
        let process = Process()
        let stderr = Pipe()
        var log = ""

        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: AgentProcessTests.binary)
            process.arguments = arguments
            process.standardError = stderr
            process.standardOutput = FileHandle.nullDevice
            try process.run()
        }

        /// Reads the agent's JSON log until the ready line; returns the admin address it bound.
        func waitUntilReady() throws -> SocketAddress {
            let handle = stderr.fileHandleForReading
            while true {
                let chunk = handle.availableData
                guard !chunk.isEmpty else { throw Failure("the agent exited before it was ready:\n\(log)") }
                log += String(decoding: chunk, as: UTF8.self)
                for line in log.split(separator: "\n") where line.contains("glb agent ready") {
                    if let json = try? JSONParser.parse(String(line)), let admin = json["admin"]?.stringValue, let address = SocketAddress(parsing: admin) {
                        return address
                    }
                }
            }
        }

        func readRest() -> String {
            log += String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return log
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func start(_ data: String) async throws -> (Child, SocketAddress) {
        let child = try Child(["agent", "--data", data, "--zone", "glb.example.", "--admin", "127.0.0.1:0", "--node", "n1", "--loops", "1"])
        let address = try await offPool { try child.waitUntilReady() }
        return (child, address)
    }

    static func send(_ method: String, _ path: String, _ body: String = "", to address: SocketAddress) async throws -> HTTPResponse {
        let request = HTTPRequest(method: method, target: path, body: Array(body.utf8))
        return try await offPool { try BlockingHTTPClient(timeout: .seconds(10)).send(request, to: address) }
    }

    @Test func anAcknowledgedWriteSurvivesKillDashNine() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "build the binary first: swift build")
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (first, address) = try await Self.start(dir.path)
        #expect(try await Self.send("PUT", "/v1/services/www", #"{"zone":"glb.example."}"#, to: address).status == 201)
        let put = try await Self.send("PUT", "/v1/services/www/clusters/eu", #"{"region":"eu-west","address":"127.0.0.11","port":18081}"#, to: address)
        #expect(put.status == 201)
        // No graceful anything: the process dies right after the 201.
        kill(first.process.processIdentifier, SIGKILL)
        try await offPool { first.process.waitUntilExit() }
        #expect(first.process.terminationReason == .uncaughtSignal)

        let (second, again) = try await Self.start(dir.path)
        let get = try await Self.send("GET", "/v1/services/www/clusters/eu", to: again)
        #expect(get.status == 200)
        #expect(String(decoding: get.body, as: UTF8.self).contains("127.0.0.11"))
        kill(second.process.processIdentifier, SIGTERM)
        try await offPool { second.process.waitUntilExit() }
    }

    @Test func sigtermStopsTheAgentCleanlyWithExitStatusZero() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (child, address) = try await Self.start(dir.path)
        #expect(try await Self.send("GET", "/healthz", to: address).status == 200)
        kill(child.process.processIdentifier, SIGTERM)
        try await offPool { child.process.waitUntilExit() }
        #expect(child.process.terminationStatus == 0)
        #expect(child.readRest().contains("\"msg\":\"stopped\""))
    }

    @Test func aConfigErrorNamesTheFlagAndExitsTwo() async throws {
        let child = try Child(["agent", "--dns", "not-an-address"])
        try await offPool { child.process.waitUntilExit() }
        #expect(child.process.terminationStatus == 2)
        #expect(child.readRest().contains("--dns"))
    }

    /// Runs `glb` with `arguments` to its exit; returns the status and what it printed. A child
    /// still running after 20 s is killed (status 9 then), so a refusal that never comes fails
    /// the test instead of hanging it.
    static func runToExit(_ arguments: [String]) async throws -> (status: Int32, log: String) {
        let child = try Child(arguments)
        let process = child.process
        DispatchQueue.global().asyncAfter(deadline: .now() + 20) {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        let log = try await offPool { () -> String in
            let log = child.readRest()
            child.process.waitUntilExit()
            return log
        }
        return (child.process.terminationStatus, log)
    }

    static func stop(_ child: Child) async throws {
        kill(child.process.processIdentifier, SIGTERM)
        try await offPool { child.process.waitUntilExit() }
    }

    @Test func aSecondAgentOnTheSameDataDirectoryRefusesToStart() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (first, address) = try await Self.start(dir.path)
        let second = try await Self.runToExit(["agent", "--data", dir.path, "--admin", "127.0.0.1:0", "--loops", "1"])
        #expect(second.status == 2)
        #expect(second.log.contains("another glb agent (pid \(first.process.processIdentifier)) is using this data directory"), "\(second.log)")
        #expect(try await Self.send("GET", "/healthz", to: address).status == 200, "the first agent is untouched")
        try await Self.stop(first)
        // Once the first has stopped, the directory is free again.
        let (third, _) = try await Self.start(dir.path)
        try await Self.stop(third)
    }

    @Test func aSecondAgentOnPortsAnotherAgentHoldsRefusesToStartAndNamesThePort() async throws {
        let dir = try TempDirectory(), other = try TempDirectory()
        defer { dir.remove(); other.remove() }
        let first = try Child(["agent", "--data", dir.path, "--zone", "glb.example.", "--admin", "127.0.0.1:0", "--dns", "127.0.0.1:0",
                               "--http", "127.0.0.1:0", "--node", "n1", "--loops", "1"])
        let admin = try await offPool { try first.waitUntilReady() }
        let ready = try #require(first.log.split(separator: "\n").first { $0.contains("glb agent ready") })
        let json = try JSONParser.parse(String(ready))
        let dns = try #require(json["dns"]?.stringValue), http = try #require(json["http"]?.stringValue)

        for (flag, address, transport) in [("--dns", dns, "UDP"), ("--http", http, "TCP"), ("--admin", "\(admin)", "TCP")] {
            var arguments = ["agent", "--data", other.path, "--admin", "127.0.0.1:0", "--loops", "1"]
            if flag == "--admin" { arguments[4] = address } else { arguments += [flag, address] }
            let second = try await Self.runToExit(arguments)
            #expect(second.status == 2, "\(flag)")
            #expect(second.log.contains("\(flag) \(address): the port is already in use (\(transport))"), "\(second.log)")
        }
        #expect(try await Self.send("GET", "/healthz", to: admin).status == 200, "the first agent is untouched")
        try await Self.stop(first)
    }

    @Test func anUnusableDataDirectoryIsAConfigError() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let file = dir.path + "/a-file"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        let result = try await Self.runToExit(["agent", "--data", file + "/glb-data", "--admin", "127.0.0.1:0"])
        #expect(result.status == 2)
        #expect(result.log.contains("--data: cannot create"))
    }

    /// Crash safety under load: writers PUT clusters concurrently, the agent is killed with
    /// SIGKILL mid-stream, several rounds. Every write that got a 2xx must be there after the
    /// restart, and SQLite must find the file intact (`PRAGMA integrity_check`).
    @Test func killDashNineDuringConcurrentWritesLosesNoAcknowledgedWrite() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        var acknowledged: Set<String> = []
        for round in 0..<3 {
            let (child, address) = try await Self.start(dir.path)
            if round == 0 { #expect(try await Self.send("PUT", "/v1/services/www", #"{"zone":"glb.example."}"#, to: address).status == 201) }
            let writers = 4, killAfter = 40
            let acked = CapturedLog()      // the names of the clusters whose PUT got a 201
            let (enough, reached) = AsyncStream<Void>.makeStream()
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withTaskGroup(of: Void.self) { writersGroup in
                        for w in 0..<writers {
                            writersGroup.addTask {
                                for n in 0..<200 {
                                    let name = "r\(round)w\(w)n\(n)"
                                    let body = #"{"region":"eu-west","address":"127.0.0.11","port":18081}"#
                                    guard let answer = try? await Self.send("PUT", "/v1/services/www/clusters/\(name)", body, to: address),
                                          answer.status == 201 else { return }
                                    acked.append(name)
                                    if acked.all.count >= killAfter { reached.yield() }
                                }
                            }
                        }
                    }
                    reached.finish()        // every writer stopped: the killer must not wait forever
                }
                group.addTask {
                    for await _ in enough { break }
                    kill(child.process.processIdentifier, SIGKILL)
                }
                await group.waitForAll()
            }
            try await offPool { child.process.waitUntilExit() }
            #expect(child.process.terminationReason == .uncaughtSignal, "round \(round): killed, not finished")
            acknowledged.formUnion(acked.all)

            let (again, restarted) = try await Self.start(dir.path)
            let list = try await Self.send("GET", "/v1/services/www/clusters", to: restarted)
            let stored = Set((try JSONParser.parse(list.body)["clusters"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
            #expect(acknowledged.subtracting(stored).isEmpty, "round \(round): acknowledged but lost: \(acknowledged.subtracting(stored).sorted())")
            kill(again.process.processIdentifier, SIGTERM)
            try await offPool { again.process.waitUntilExit() }
            let connection = try Connection(path: dir.path + "/glb.sqlite")
            #expect(try connection.query("PRAGMA integrity_check") { $0.text(0) } == ["ok"], "round \(round)")
            connection.close()
        }
        #expect(acknowledged.count >= 120)
    }
}
