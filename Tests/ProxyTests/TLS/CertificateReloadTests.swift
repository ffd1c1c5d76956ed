import Foundation
import GLBCore
import GLBTestSupport
import Proxy
import Synchronization
import Testing

/// Loading, reloading and expiry of the certificate directory.
@Suite struct CertificateReloadTests {
    /// A curl process fetching `count` URLs, printing each status on its own line as it finishes.
    /// `@unchecked Sendable`: one test drives it, one call at a time.
    final class Load: @unchecked Sendable {
        let process = Process()
        let output = Pipe()
        private var text = ""

        init(_ setup: TLSSetup, count: Int, closeEach: Bool) throws {
            // stdbuf: curl's stdout to a pipe is block-buffered, and each status must show as it happens.
            process.executableURL = URL(fileURLWithPath: "/usr/bin/stdbuf")
            var arguments = ["-oL", "/usr/bin/curl", "-s", "--max-time", "60", "-w", "%{http_code}\n",
                             "--resolve", "www.glb.example:\(setup.httpsPort):127.0.0.1", "--cacert", setup.pki.caFile]
            if closeEach { arguments += ["-H", "Connection: close"] }      // a new connection, so a new handshake, per request
            // `-o` applies to one URL: each needs its own, or the bodies land among the statuses.
            let url = "https://www.glb.example:\(setup.httpsPort)/"
            process.arguments = arguments + (0..<count).flatMap { _ in ["-o", "/dev/null", url] }
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        /// Returns once the first response is in: the load is running.
        func started() async throws {
            try await blocking {
                while !self.text.contains("\n") {
                    let chunk = self.output.fileHandleForReading.availableData
                    if chunk.isEmpty { return }
                    self.text += String(decoding: chunk, as: UTF8.self)
                }
            }
        }

        /// Every status line, once curl has finished.
        func statuses() async throws -> [String] {
            try await blocking {
                self.text += String(decoding: self.output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                self.process.waitUntilExit()
                return self.text.split(separator: "\n").map(String.init)
            }
        }
    }

    @Test func aReloadUnderLoadFailsNoRequestAndServesTheNewCertificate() async throws {
        let setup = try await TLSSetup.start([("www", ["www.glb.example"], 30)])
        defer { Task { await setup.stop() } }
        // Versions made before the load, so each reload is a file write and a `reload()`.
        let staging = try TempDirectory(prefix: "glb-staging")
        defer { staging.remove() }
        let pki = setup.pki
        try await blocking {
            for version in 0..<3 {
                try pki.issue("v\(version)", dnsNames: ["www.glb.example", "v\(version).glb.example"], into: staging.path)
            }
        }
        func install(_ version: Int) throws {
            for suffix in ["key", "crt"] {         // a fresh write, so a fresh mtime, every time
                let bytes = try Data(contentsOf: URL(fileURLWithPath: staging.file("v\(version).\(suffix)")))
                try bytes.write(to: URL(fileURLWithPath: setup.certs.file("www.\(suffix)")))
            }
        }
        let count = 300
        let keepAlive = try Load(setup, count: count, closeEach: false)
        let handshakes = try Load(setup, count: count, closeEach: true)
        try await keepAlive.started()
        try await handshakes.started()
        // Reload for as long as the load runs, with a broken pair once in the middle: new
        // certificates, new tables, and the connections on older ones carry on.
        var reloads = 0
        repeat {
            reloads += 1
            if reloads == 2 {
                try Data("not a key".utf8).write(to: URL(fileURLWithPath: setup.certs.file("www.key")))
                #expect(!setup.store.reload().isEmpty, "a broken pair is reported")
            }
            try install(reloads % 3)
            #expect(setup.store.reload().isEmpty)
        } while (keepAlive.process.isRunning || handshakes.process.isRunning) && reloads < 10_000
        let statuses = try await keepAlive.statuses() + handshakes.statuses()
        #expect(statuses.count == 2 * count)
        #expect(statuses.allSatisfy { $0 == "200" }, "failed: \(statuses.enumerated().filter { $0.element != "200" }.prefix(5)) of \(statuses.count)")
        #expect(reloads >= 2)
        #expect(try await setup.subject(for: "v\(reloads % 3).glb.example") == "CN = www.glb.example", "the last certificate is in service")
        #expect(setup.store.table.generation == UInt64(reloads + 1))
    }

    @Test func aBadPairIsRejectedWithItsReasonAndTheOldOneStaysInService() async throws {
        let setup = try await TLSSetup.start([("www", ["www.glb.example"], 30), ("api", ["api.glb.example"], 30)])
        defer { Task { await setup.stop() } }
        let before = setup.store.table
        // The key of another certificate, then a certificate file that is not PEM at all.
        try FileManager.default.removeItem(atPath: setup.certs.file("www.key"))
        try FileManager.default.copyItem(atPath: setup.certs.file("api.key"), toPath: setup.certs.file("www.key"))
        try Data("junk".utf8).write(to: URL(fileURLWithPath: setup.certs.file("new.pem")))
        let problems = setup.store.reload()
        #expect(problems.count == 2)
        #expect(problems.contains { $0.hasPrefix("www: ") && $0.contains("not the key of \(setup.certs.file("www.crt"))") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("new: ") && $0.contains("not a PEM certificate chain") }, "\(problems)")
        #expect(setup.store.table === before, "nothing changed, so nothing was published")
        #expect(try await setup.subject(for: "www.glb.example") == "CN = www.glb.example")
        #expect(setup.harness.metric("glb_tls_certificate_reload_errors_total") == 2)
        #expect(setup.logs.all.filter { $0.contains("certificate rejected") }.count == 2)
    }

    @Test func aDirectoryWithoutAUsablePairIsRefusedWithEveryReason() throws {
        let empty = try TempDirectory(prefix: "glb-certs")
        defer { empty.remove() }
        let registry = MetricsRegistry(), logger = Logger(component: "tls", sink: { _ in })
        #expect {
            try CertificateStore(directory: empty.path, logger: logger, registry: registry)
        } throws: { "\($0)".contains("no certificate files") }
        try Data("junk".utf8).write(to: URL(fileURLWithPath: empty.file("www.crt")))
        try Data("junk".utf8).write(to: URL(fileURLWithPath: empty.file("www.key")))
        #expect {
            try CertificateStore(directory: empty.path, logger: logger, registry: registry)
        } throws: { "\($0)".contains("www: \(empty.file("www.crt")): not a PEM certificate chain") }
    }

    @Test func expiryIsReportedInDaysWithAWarningFrom14DaysAndAnErrorOnceExpired() async throws {
        let pki = try await blocking { try TestPKI() }
        defer { pki.remove() }
        let certs = try TempDirectory(prefix: "glb-certs")
        defer { certs.remove() }
        try await blocking {
            try pki.issue("fresh", dnsNames: ["fresh.glb.example"], days: 30, into: certs.path)
            try pki.issue("soon", dnsNames: ["soon.glb.example"], days: 10, into: certs.path)
            try pki.issue("old", dnsNames: ["old.glb.example"], days: -1, into: certs.path)
        }
        // The wall clock is the real one, moved by hand from there: expiry needs no waiting.
        let clock = ManualClock(wallMilliseconds: SystemClock().wallMilliseconds)
        let logs = LogLines()
        let registry = MetricsRegistry()
        let store = try CertificateStore(directory: certs.path, logger: Logger(component: "tls", clock: clock, sink: logs.append),
                                         registry: registry, clock: clock)
        func days(_ name: String) -> Double? {
            registry.render().split(separator: "\n").first { $0.hasPrefix(#"glb_tls_certificate_expiry_days{name="\#(name)"} "#) }
                .flatMap { Double($0.split(separator: " ").last!) }
        }
        // Whole days, rounded down: 30 less the seconds since the certificate was made is 29 (or
        // 30 when openssl and the store read the same second).
        #expect((29...30).contains(days("fresh") ?? 0))
        #expect((9...10).contains(days("soon") ?? 0))
        #expect((-2 ... -1).contains(days("old") ?? 0), "expired a day ago")
        let lines = logs.all
        #expect(lines.contains { $0.contains(#""level":"error""#) && $0.contains("certificate expired") && $0.contains(#""name":"old""#) })
        #expect(lines.contains { $0.contains(#""level":"warning""#) && $0.contains("certificate expires soon") && $0.contains(#""name":"soon""#) })
        #expect(!lines.contains { $0.contains(#""name":"fresh""#) })
        let infos = Dictionary(uniqueKeysWithValues: store.certificates.map { ($0.name, $0) })
        #expect(infos["old"]!.daysToExpiry(wallMilliseconds: clock.wallMilliseconds) < 0)

        clock.setWall(clock.wallMilliseconds + 31 * 86_400_000)
        #expect(days("fresh")! < 0, "every render recomputes against the clock")
        store.warnAboutExpiry()
        #expect(logs.all.contains { $0.contains("certificate expired") && $0.contains(#""name":"fresh""#) })

        // A certificate that leaves the directory leaves /metrics too.
        try FileManager.default.removeItem(atPath: certs.file("old.crt"))
        store.reload()
        #expect(days("old") == nil)
        #expect(store.certificates.map(\.name) == ["fresh", "soon"])
    }

    @Test func theWatcherReloadsWhenAFileChangesAndWhenAskedTo() async throws {
        let clock = ManualClock(wallMilliseconds: SystemClock().wallMilliseconds)
        let pki = try await blocking { try TestPKI() }
        defer { pki.remove() }
        let certs = try TempDirectory(prefix: "glb-certs")
        defer { certs.remove() }
        try await blocking { try pki.issue("www", dnsNames: ["www.glb.example"], into: certs.path) }
        let (loaded, announce) = AsyncStream<String>.makeStream()
        let logger = Logger(component: "tls", clock: clock, sink: { line in if line.contains("certificates loaded") { announce.yield(line) } })
        let store = try CertificateStore(directory: certs.path, logger: logger, registry: MetricsRegistry(), clock: clock)
        let watcher = Task { await store.watch(interval: .seconds(1)) }
        defer { watcher.cancel() }
        var announcements = loaded.makeAsyncIterator()

        // A new pair appears: the next tick sees its mtime and loads it.
        while clock.sleeperCount == 0 { await Task.yield() }
        try await blocking { try pki.issue("api", dnsNames: ["api.glb.example"], into: certs.path) }
        clock.advance(by: .seconds(1))
        #expect(await announcements.next()?.contains(#""names":"api,www""#) == true)
        #expect(store.table.generation == 2)

        // SIGHUP's path: a requested reload with a changed file on the next tick, even if a
        // poll would not have seen it yet (same size, mtime within the same tick is possible).
        while clock.sleeperCount == 0 { await Task.yield() }
        try await blocking { try pki.issue("www", dnsNames: ["www.glb.example", "new.glb.example"], into: certs.path) }
        store.requestReload()
        clock.advance(by: .seconds(1))
        #expect(await announcements.next()?.contains("generation") == true)
        #expect(store.certificates.first { $0.name == "www" }?.dnsNames == ["www.glb.example", "new.glb.example"])
    }
}
