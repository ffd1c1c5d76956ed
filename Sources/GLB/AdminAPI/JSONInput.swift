import GLBCore

/// Reads one JSON object field by field, so that every mistake names its field: a wrong type, a
/// value out of range, or a field this endpoint does not know (a typo such as `"wieght"` must
/// not be silently ignored and leave the weight at its default).
struct JSONInput {
    private let members: [(key: String, value: JSONValue)]
    private let path: String
    private var used: Set<String> = []

    /// - Parameter path: the prefix for field names in errors (`"check."` for a nested object).
    init(_ value: JSONValue, path: String = "") throws(APIError) {
        guard let members = value.objectValue else {
            throw .badRequest("\(path.isEmpty ? "the request body" : String(path.dropLast())) must be a JSON object, got \(value.typeName)",
                              field: path.isEmpty ? nil : String(path.dropLast()))
        }
        self.members = members
        self.path = path
    }

    /// Parses a request body. An empty body reads as `{}`.
    static func body(_ bytes: [UInt8]) throws(APIError) -> JSONInput {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return try JSONInput(.object([])) }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw .badRequest("the request body is not valid JSON: \(error.message) at byte \(error.offset)")
        }
        return try JSONInput(value)
    }

    private mutating func raw(_ key: String) -> JSONValue? {
        used.insert(key)
        guard let value = members.first(where: { $0.key == key })?.value, value != .null else { return nil }
        return value
    }

    func name(_ key: String) -> String { path + key }

    mutating func string(_ key: String) throws(APIError) -> String? {
        guard let value = raw(key) else { return nil }
        guard let s = value.stringValue else { throw .badRequest("\(name(key)) must be a string, got \(value.typeName)", field: name(key)) }
        return s
    }

    mutating func int(_ key: String) throws(APIError) -> Int? {
        guard let value = raw(key) else { return nil }
        guard let n = value.intValue else {
            // A whole number too large for Int is out of range, not "not a whole number".
            if case .number(let text) = value, !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
                throw .badRequest("\(name(key)) is out of range, got \(text)", field: name(key))
            }
            throw .badRequest("\(name(key)) must be a whole number, got \(value.serialized())", field: name(key))
        }
        return n
    }

    mutating func double(_ key: String) throws(APIError) -> Double? {
        guard let value = raw(key) else { return nil }
        guard let n = value.doubleValue, n.isFinite else {
            throw .badRequest("\(name(key)) must be a number, got \(value.serialized())", field: name(key))
        }
        return n
    }

    mutating func bool(_ key: String) throws(APIError) -> Bool? {
        guard let value = raw(key) else { return nil }
        guard let b = value.boolValue else { throw .badRequest("\(name(key)) must be true or false, got \(value.typeName)", field: name(key)) }
        return b
    }

    mutating func strings(_ key: String) throws(APIError) -> [String]? {
        guard let value = raw(key) else { return nil }
        guard let items = value.arrayValue else { throw .badRequest("\(name(key)) must be an array of strings, got \(value.typeName)", field: name(key)) }
        var result: [String] = []
        for item in items {
            guard let s = item.stringValue else { throw .badRequest("\(name(key)) must contain only strings", field: name(key)) }
            result.append(s)
        }
        return result
    }

    /// An object whose members are arrays of strings (`{"ns1.glb.example.": ["192.0.2.53"]}`).
    mutating func stringLists(_ key: String) throws(APIError) -> [String: [String]]? {
        guard let value = raw(key) else { return nil }
        guard let members = value.objectValue else { throw .badRequest("\(name(key)) must be an object, got \(value.typeName)", field: name(key)) }
        var result: [String: [String]] = [:]
        // A null member reads as absent, like a null field: a merge patch's way to drop one.
        for (member, list) in members where list != .null {
            guard let items = list.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                throw .badRequest("\(name(key)).\(member) must be an array of strings", field: name(key))
            }
            result[member] = items.compactMap(\.stringValue)
        }
        return result
    }

    /// One of a fixed set of words (`"weighted"`, `"failover"`, ...).
    mutating func choice<T: RawRepresentable>(_ key: String, _: T.Type) throws(APIError) -> T? where T.RawValue == String, T: CaseIterable {
        guard let text = try string(key) else { return nil }
        guard let value = T(rawValue: text) else {
            let options = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw .badRequest("\(name(key)) must be one of \(options), got \"\(text)\"", field: name(key))
        }
        return value
    }

    mutating func object(_ key: String) throws(APIError) -> JSONInput? {
        guard let value = raw(key) else { return nil }
        return try JSONInput(value, path: name(key) + ".")
    }

    /// Accepts and ignores members the server sets itself (`version`, `origin`), so the body of
    /// a GET can be PUT back unchanged. Their types are still checked, as documented.
    mutating func ignoreServerFields() throws(APIError) {
        if let version = try int("version"), version < 0 {
            throw .badRequest("\(name("version")) must not be negative, got \(version)", field: name("version"))
        }
        _ = try string("origin")
    }

    /// Rejects any member that no accessor asked for.
    func finish() throws(APIError) {
        if let unknown = members.first(where: { !used.contains($0.key) }) {
            throw .badRequest("unknown field \"\(name(unknown.key))\"", field: name(unknown.key))
        }
    }
}
