import Foundation

/// A throwaway certificate authority for TLS tests, made with the `openssl` CLI at test time in
/// a temp directory: a P-256 root, and leaf certificates it signs for whatever names a test
/// needs (wildcards, short or past validity). Tests trust `caFile` instead of the system store.
package final class TestPKI: Sendable {
    package let directory: TempDirectory
    /// The root certificate, PEM.
    package let caFile: String
    private let caKey: String

    package init() throws {
        directory = try TempDirectory(prefix: "glb-pki")
        caFile = directory.file("ca.crt")
        caKey = directory.file("ca.key")
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                          "-subj", "/CN=GLB Test CA", "-keyout", caKey, "-out", caFile])
    }

    /// Writes `directory/name.crt` and `directory/name.key`: a leaf for `dnsNames` (its CN is the
    /// first), valid from now for `days`; `days: -1` makes one that expired a day ago.
    package func issue(_ name: String, dnsNames: [String], days: Int = 30, into directory: String) throws {
        let key = "\(directory)/\(name).key", certificate = "\(directory)/\(name).crt"
        let request = self.directory.file("\(name)-\(UInt32.random(in: 0...UInt32.max)).csr")
        let extensions = request + ".ext"
        try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=\(dnsNames[0])",
                          "-keyout", key, "-out", request])
        try Data("subjectAltName=\(dnsNames.map { "DNS:\($0)" }.joined(separator: ","))\n".utf8).write(to: URL(fileURLWithPath: extensions))
        try Self.openssl(["x509", "-req", "-in", request, "-CA", caFile, "-CAkey", caKey, "-CAcreateserial", "-days", "\(days)",
                          "-extfile", extensions, "-out", certificate])
    }

    package func remove() { directory.remove() }

    /// Runs `openssl` (bounded by `timeout(1)`, so a server bug fails the test instead of hanging
    /// it). Throws unless it exits 0.
    @discardableResult
    package static func openssl(_ arguments: [String], seconds: Int = 20) throws -> String {
        let result = try run(arguments, seconds: seconds)
        guard result.status == 0 else {
            throw TestPKIFailure(description: "openssl \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)")
        }
        return result.output
    }

    /// Runs `openssl` with stdin at EOF; returns its exit status and stdout and stderr together.
    package static func run(_ arguments: [String], seconds: Int = 20, input: String? = nil) throws -> (status: Int32, output: String) {
        try command("/usr/bin/timeout", ["\(seconds)", "/usr/bin/openssl"] + arguments, input: input)
    }

    /// Runs `path` with `input` (or nothing) on stdin; returns its exit status and stdout and
    /// stderr together.
    package static func command(_ path: String, _ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()      // to EOF first: a full pipe would block the child
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// `openssl s_client` against 127.0.0.1:`port`: the handshake and the server's certificate,
    /// as text (`subject=CN = www.glb.example`, `Protocol  : TLSv1.3`, `Reused, ...`).
    /// With `request`, sends it and waits for the server to close (`-ign_eof`): TLS 1.3 tickets
    /// arrive after the handshake, so a client that leaves at once never sees one.
    package static func handshake(port: UInt16, serverName: String?, _ extra: [String] = [], request: String? = nil) throws -> (status: Int32, output: String) {
        var arguments = ["s_client", "-connect", "127.0.0.1:\(port)"]
        if let serverName { arguments += ["-servername", serverName] } else { arguments.append("-noservername") }
        if request != nil { arguments.append("-ign_eof") }
        return try run(arguments + extra, input: request)
    }
}

package struct TestPKIFailure: Error, CustomStringConvertible {
    package let description: String
}
