#if canImport(Glibc)
import Glibc
#endif

/// The first problem found in a record, with a message a person can act on: which field, what
/// was expected, and what was given (`weight must be between 0 and 1000000, got -5`).
package struct ValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The field at fault in its JSON spelling; nested fields are dotted (`check.interval_ms`).
    package var field: String
    /// What is wrong and what would be right.
    package var message: String
    /// True when each field is well formed on its own but the record's fields contradict each
    /// other (`timeout_ms` above `interval_ms`, `latitude` without `longitude`). No schema of a
    /// single field can rule these out, so the admin API answers 422 for them, not 400.
    package var isInconsistency: Bool

    /// Makes an error for `field`.
    package init(field: String, message: String, isInconsistency: Bool = false) {
        self.field = field
        self.message = message
        self.isInconsistency = isInconsistency
    }

    /// Fields that are each valid but contradict each other; `field` is the one to change.
    package static func inconsistent(field: String, message: String) -> ValidationError {
        ValidationError(field: field, message: message, isInconsistency: true)
    }

    /// `field: message`.
    package var description: String { "\(field): \(message)" }
}

/// Shared checks. Each returns normally or throws the first problem, so a record's `validated()`
/// reads as a list of rules in field order.
enum Check {
    /// The continent codes MaxMind databases use (GeoNames): Africa, Antarctica, Asia, Europe,
    /// North America, Oceania, South America.
    static let continents: Set<String> = ["AF", "AN", "AS", "EU", "NA", "OC", "SA"]

    /// Two-letter codes, upper-cased, without duplicates, at most 300 (ISO 3166-1 has 249
    /// countries); each in `allowed` when given.
    static func geoCodes(_ codes: [String], _ field: String, allowed: Set<String>?) throws(ValidationError) -> [String] {
        guard codes.count <= 300 else { throw ValidationError(field: field, message: "\(field) lists \(codes.count) codes; at most 300") }
        var result: [String] = []
        for code in codes {
            // ASCII letters before upper-casing: `ß` would otherwise become `SS`.
            let upper = code.uppercased()
            guard code.unicodeScalars.allSatisfy(\.isASCII), upper.utf8.count == 2, upper.utf8.allSatisfy({ (0x41...0x5A).contains($0) }) else {
                throw ValidationError(field: field, message: field == "continents"
                    ? "continents must be codes from AF AN AS EU NA OC SA, got \"\(code)\""
                    : "countries must be ISO 3166-1 alpha-2 codes such as GB, got \"\(code)\"")
            }
            if let allowed, !allowed.contains(upper) {
                throw ValidationError(field: field, message: "continents must be codes from AF AN AS EU NA OC SA, got \"\(code)\"")
            }
            // `gb` and `GB` are one code: a schema's uniqueItems lets them both through.
            guard !result.contains(upper) else { throw .inconsistent(field: field, message: "\(field) lists \(upper) twice") }
            result.append(upper)
        }
        return result
    }

    static func range<T: Comparable & Sendable>(_ value: T, _ range: ClosedRange<T>, _ field: String) throws(ValidationError) {
        guard range.contains(value) else {
            throw ValidationError(field: field, message: "\(field) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
    }

    static func finiteRange(_ value: Double, _ range: ClosedRange<Double>, _ field: String) throws(ValidationError) {
        guard value.isFinite, range.contains(value) else {
            throw ValidationError(field: field, message: "\(field) must be a number between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
    }

    /// One DNS label as GLB allows it: 1-63 of `a-z 0-9 - _`, lowercase.
    static func label(_ label: Substring, _ field: String, in whole: String) throws(ValidationError) {
        guard !label.isEmpty else {
            throw ValidationError(field: field, message: "\(field) \"\(whole)\" has an empty label (two dots in a row, or a dot at the start)")
        }
        guard label.utf8.count <= 63 else {
            throw ValidationError(field: field, message: "\(field) \"\(whole)\" has a label longer than 63 characters")
        }
        guard label.utf8.allSatisfy(isLabelByte) else {
            throw ValidationError(field: field, message: "\(field) \"\(whole)\" may contain only lowercase letters, digits, '-' and '_' in each label")
        }
    }

    /// A relative name of one or more labels, no trailing dot (`www`, `api.v2`).
    static func relativeName(_ name: String, _ field: String) throws(ValidationError) {
        guard !name.isEmpty else { throw ValidationError(field: field, message: "\(field) must not be empty") }
        guard !name.hasSuffix(".") else {
            throw ValidationError(field: field, message: "\(field) \"\(name)\" is relative to its zone and must not end with a dot")
        }
        for part in name.split(separator: ".", omittingEmptySubsequences: false) { try label(part, field, in: name) }
    }

    /// A single label (`eu`, `us-east-1`).
    static func singleLabel(_ name: String, _ field: String) throws(ValidationError) {
        guard !name.isEmpty else { throw ValidationError(field: field, message: "\(field) must not be empty") }
        guard !name.contains(".") else {
            throw ValidationError(field: field, message: "\(field) \"\(name)\" must be a single label, without dots")
        }
        try label(name[...], field, in: name)
    }

    /// A fully qualified, lowercase domain name with its trailing dot (`glb.example.`).
    static func fqdn(_ name: String, _ field: String) throws(ValidationError) {
        guard name.hasSuffix("."), name.count > 1 else {
            throw ValidationError(field: field, message: "\(field) \"\(name)\" must be a fully qualified name ending with a dot, like \"glb.example.\"")
        }
        guard name.utf8.count <= 254 else {
            throw ValidationError(field: field, message: "\(field) \"\(name)\" is longer than 253 characters")
        }
        for part in name.dropLast().split(separator: ".", omittingEmptySubsequences: false) { try label(part, field, in: name) }
    }

    /// A region or similar tag: 1-64 of `a-z 0-9 - _ .`.
    static func tag(_ value: String, _ field: String) throws(ValidationError) {
        guard !value.isEmpty else { throw ValidationError(field: field, message: "\(field) must not be empty") }
        guard value.utf8.count <= 64, value.utf8.allSatisfy({ isLabelByte($0) || $0 == UInt8(ascii: ".") }) else {
            throw ValidationError(field: field, message: "\(field) \"\(value)\" must be 1-64 lowercase letters, digits, '-', '_' or '.'")
        }
    }

    /// An IPv4 or IPv6 literal, returned in its canonical text form (`::1` for `0:0::01`).
    static func address(_ text: String, _ field: String) throws(ValidationError) -> String {
        guard let normalized = normalizedAddress(text) else {
            throw ValidationError(field: field, message: "\(field) \"\(text)\" is not an IPv4 or IPv6 address (names are not resolved)")
        }
        return normalized
    }

    /// Parses with inet_pton(3) and prints back with inet_ntop(3); nil when neither family parses.
    static func normalizedAddress(_ text: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1, inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count)) != nil {
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1, inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil {
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return nil
    }

    private static func isLabelByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }
}
