import Foundation
import GLBCore
import GLBTestSupport
import Proxy
import Synchronization

/// A proxy with an HTTP and an HTTPS listener in front of one origin (`www.glb.example`), its
/// certificate directory and store, and the store's log lines.
final class TLSSetup: Sendable {
    let pki: TestPKI
    let certs: TempDirectory
    let store: CertificateStore
    let plainOrigin: Origin
    let harness: ProxyHarness
    let logs: LogLines

    private init(pki: TestPKI, certs: TempDirectory, store: CertificateStore, plainOrigin: Origin, harness: ProxyHarness, logs: LogLines) {
        self.pki = pki
        self.certs = certs
        self.store = store
        self.plainOrigin = plainOrigin
        self.harness = harness
        self.logs = logs
    }

    /// Issues each (file name, DNS names, days) into a fresh directory, loads it and starts.
    static func start(_ certificates: [(String, [String], Int)], clock: any GLBClock = SystemClock(),
                      services extra: [ServiceInput] = [], pki: TestPKI? = nil,
                      configure: @escaping (inout HTTPProxy.Configuration) -> Void = { _ in }) async throws -> TLSSetup {
        let pki = try await blocking { try pki ?? TestPKI() }
        let certs = try TempDirectory(prefix: "glb-certs")
        try await blocking {
            for (name, dnsNames, days) in certificates { try pki.issue(name, dnsNames: dnsNames, days: days, into: certs.path) }
        }
        let logs = LogLines()
        let registry = MetricsRegistry()
        let store = try CertificateStore(directory: certs.path, logger: Logger(component: "tls", clock: clock, sink: logs.append),
                                         registry: registry, clock: clock)
        let eu = try await Origin.start("eu")
        let harness = try await ProxyHarness.start([ServiceInput(name: "www", zone: "glb.example.", clusters: [origin("eu", eu.address)])] + extra,
                                                   clock: clock, registry: registry) { configuration in
            configuration.httpsAddress = SocketAddress(ip: .v4(0x7F00_0001), port: 0)
            configuration.certificates = store
            configure(&configuration)
        }
        return TLSSetup(pki: pki, certs: certs, store: store, plainOrigin: eu, harness: harness, logs: logs)
    }

    var httpsPort: UInt16 { harness.proxy.httpsAddress!.port }

    /// The certificate subject the server presents for `serverName` (nil: no SNI).
    func subject(for serverName: String?) async throws -> String? {
        let result = try await handshake(serverName)
        return result.output.split(separator: "\n").first { $0.hasPrefix("subject=") }.map { String($0.dropFirst("subject=".count)) }
    }

    /// `openssl s_client` against the HTTPS listener, on its own thread: a child process waited
    /// for on the cooperative pool could starve the origin's handler (see `blocking`).
    func handshake(_ serverName: String?, _ extra: [String] = [], request: String? = nil) async throws -> (status: Int32, output: String) {
        let port = httpsPort
        return try await blocking { try TestPKI.handshake(port: port, serverName: serverName, extra, request: request) }
    }

    /// `curl` over HTTPS with SNI `host` and the test CA: (status line code, body and headers).
    func curl(_ path: String, host: String = "www.glb.example", _ extra: [String] = []) async throws -> (status: Int32, output: String) {
        let arguments = ["-sS", "-i", "--max-time", "20", "--resolve", "\(host):\(httpsPort):127.0.0.1",
                         "--cacert", pki.caFile] + extra + ["https://\(host):\(httpsPort)\(path)"]
        return try await blocking { try TestPKI.command("/usr/bin/curl", arguments) }
    }

    /// `count` GETs of `/` on one keep-alive HTTPS connection (one handshake); each status.
    func curlStatuses(count: Int) async throws -> [String] {
        let url = "https://www.glb.example:\(httpsPort)/"
        let arguments = ["-s", "--max-time", "60", "-w", "%{http_code}\n", "--resolve", "www.glb.example:\(httpsPort):127.0.0.1",
                         "--cacert", pki.caFile] + (0..<count).flatMap { _ in ["-o", "/dev/null", url] }
        let result = try await blocking { try TestPKI.command("/usr/bin/curl", arguments) }
        return result.output.split(separator: "\n").map(String.init)
    }

    func stop() async {
        await harness.stop()
        await plainOrigin.stop()
        certs.remove()
        pki.remove()
    }
}

/// Log lines a test's logger wrote.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])

    @Sendable func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
