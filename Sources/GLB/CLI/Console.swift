#if canImport(Glibc)
import Glibc
#endif

/// Where CLI output goes: standard output and error in the binary, buffers in tests.
protocol Console: AnyObject {
    func out(_ text: String)
    func err(_ text: String)
}

/// Writes with `write(2)`: unbuffered, so output is not held in a stdio buffer when the CLI is
/// piped (TOOLCHAIN.md pitfall 12).
final class StandardConsole: Console {
    func out(_ text: String) { Self.write(1, text + "\n") }
    func err(_ text: String) { Self.write(2, text + "\n") }

    private static func write(_ fd: CInt, _ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}

/// Collects output, for tests.
final class BufferConsole: Console {
    var stdout = ""
    var stderr = ""
    func out(_ text: String) { stdout += text + "\n" }
    func err(_ text: String) { stderr += text + "\n" }
}

/// What the CLI's exit status means, so scripts can branch on it.
enum ExitCode: Int32 {
    /// Done.
    case success = 0
    /// The node failed (5xx) or something unexpected happened.
    case failure = 1
    /// The command line was wrong: a usage line was printed.
    case usage = 2
    /// The node refused the request (4xx other than 404): bad input, conflict, auth.
    case rejected = 3
    /// The thing named does not exist (404).
    case notFound = 4
    /// The node could not be reached.
    case unreachable = 5
}
