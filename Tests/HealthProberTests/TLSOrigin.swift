import Foundation
import GLBTestSupport
#if canImport(Glibc)
import Glibc
#endif

struct TLSOriginFailure: Error, CustomStringConvertible {
    let description: String
}

/// `openssl s_server -www` on 127.0.0.1 with a self-signed P-256 certificate made for this test
/// (CN and SAN localhost, SAN IP 127.0.0.1). A separate process: the test waits for its
/// `ACCEPT host:port` line, which it prints once listening, rather than for any amount of time.
final class TLSOrigin {
    let port: UInt16
    /// The certificate, PEM: a test can trust it as its own root.
    let certificateFile: String
    private let process: Process
    private let directory: TempDirectory

    init() throws {
        directory = try TempDirectory(prefix: "glb-tls")
        certificateFile = directory.file("cert.pem")
        let key = directory.file("key.pem")
        try Self.run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                      "-keyout", key, "-out", certificateFile])
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["s_server", "-www", "-accept", "127.0.0.1:0", "-cert", certificateFile, "-key", key]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = Pipe()
        try process.run()
        // Waits (poll, at most 10 s) until s_server has bound and says where; EOF (it died) or the
        // bound ends the wait with an error.
        var seen = ""
        while !seen.contains("ACCEPT ") || !seen.hasSuffix("\n") {
            var pfd = pollfd(fd: output.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 10_000) == 1 else { break }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = seen.split(separator: "\n").first(where: { $0.hasPrefix("ACCEPT ") }),
              let colon = line.lastIndex(of: ":"), let port = UInt16(line[line.index(after: colon)...]) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            directory.remove()
            throw TLSOriginFailure(description: "openssl s_server did not report a port: \(seen)")
        }
        self.port = port
    }

    /// SIGKILL, not `terminate()`: the child inherits the spawning thread's signal mask, and the
    /// test runner's threads block SIGTERM, so s_server would never see it.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        directory.remove()
    }

    private static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TLSOriginFailure(description: "openssl \(arguments.first ?? "") exited \(process.terminationStatus)")
        }
    }
}
