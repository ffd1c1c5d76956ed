#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import FoundationEssentials
#endif

/// JSON text for the columns that hold arrays or nested objects, and for audit values. Keys are
/// sorted so equal records give equal text (TOOLCHAIN.md pitfall 15).
enum JSONText {
    static func encode(_ value: some Encodable) throws(StoreError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw StoreError(kind: .database, message: "cannot encode \(type(of: value)) as JSON: \(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String, column: String) throws(StoreError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError(kind: .database, message: "column \(column) holds JSON that does not decode as \(type): \(error)")
        }
    }
}
