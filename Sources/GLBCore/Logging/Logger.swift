import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Structured JSON-lines logging to standard error, one `write(2)` per line so lines from several
/// threads never interleave and nothing waits in a stdio buffer (TOOLCHAIN.md pitfalls 5 and 12).
package struct Logger: Sendable {
    package enum Level: Int, Comparable, Sendable {
        case debug, info, warning, error
        package static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        var name: String { ["debug", "info", "warning", "error"][rawValue] }
    }

    package let component: String
    private let minimum: Level
    private let sink: @Sendable (String) -> Void
    private let clock: any GLBClock

    /// - Parameters:
    ///   - sink: where finished lines go; standard error by default, a collector in tests.
    package init(component: String, minimum: Level = .info, clock: any GLBClock = SystemClock(),
                 sink: @escaping @Sendable (String) -> Void = Logger.standardError) {
        self.component = component
        self.minimum = minimum
        self.clock = clock
        self.sink = sink
    }

    /// A logger for another component with the same settings.
    package func named(_ component: String) -> Logger {
        Logger(component: component, minimum: minimum, clock: clock, sink: sink)
    }

    package func log(_ level: Level, _ message: String, _ fields: [String: String] = [:]) {
        guard level >= minimum else { return }
        var line = "{\"ts_ms\":\(clock.wallMilliseconds),\"level\":\"\(level.name)\",\"component\":\(JSONText.quote(component)),\"msg\":\(JSONText.quote(message))"
        for key in fields.keys.sorted() { line += ",\(JSONText.quote(key)):\(JSONText.quote(fields[key]!))" }
        line += "}\n"
        sink(line)
    }

    package func debug(_ message: String, _ fields: [String: String] = [:]) { log(.debug, message, fields) }
    package func info(_ message: String, _ fields: [String: String] = [:]) { log(.info, message, fields) }
    package func warning(_ message: String, _ fields: [String: String] = [:]) { log(.warning, message, fields) }
    package func error(_ message: String, _ fields: [String: String] = [:]) { log(.error, message, fields) }

    package static let standardError: @Sendable (String) -> Void = { line in
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}

/// Minimal JSON text helpers for hand-built lines (logs, access logs) where Foundation's encoder
/// would cost more than the line itself.
package enum JSONText {
    /// `value` as a JSON string literal, escaped per RFC 8259 §7.
    package static func quote(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let s where s.value < 0x20:
                let hex = String(s.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
