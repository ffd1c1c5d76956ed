import Foundation
import GLBCore
import Proxy

/// The MaxMind test databases in Tests/Fixtures/geo (see the README there for their origin and
/// licence), found through this file's path so no SwiftPM resource bundle is needed.
enum GeoFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/geo").path

    static func path(_ name: String) -> String { directory + "/" + name }

    static func open(_ name: String) throws -> GeoDatabase { try GeoDatabase(path: path(name)) }

    static func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path(name)))) }
}

extension MMDBValue {
    /// The value as JSON, for comparing with the published `.json` sources of the test databases.
    var json: JSONValue {
        switch self {
        case .string(let s): .string(s)
        case .double(let d): .number("\(d)")
        case .float(let f): .number("\(f)")
        case .bytes(let b): .array(b.map { .number("\($0)") })
        case .uint16(let v): .number("\(v)")
        case .uint32(let v): .number("\(v)")
        case .int32(let v): .number("\(v)")
        case .uint64(let v): .number("\(v)")
        case .uint128(let high, let low): .string("\(high):\(low)")
        case .map(let entries): .object(entries.map { (key: $0.key, value: $0.value.json) })
        case .array(let items): .array(items.map(\.json))
        case .bool(let b): .bool(b)
        case .dataCacheContainer, .endMarker: .null
        }
    }
}
