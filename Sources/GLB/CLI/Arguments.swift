/// A hand-written command-line parser: small, predictable, and tested by table.
///
/// Grammar: `--name value`, `--name=value`, boolean `--flag`, `-h`/`--help`, and positionals.
/// `--` ends options. Every option a command accepts is declared up front in an `OptionSpec`, so an
/// unknown or misspelt flag is an error that names it, never silently ignored. An option may have
/// an environment-variable twin (`--admin` and `GLB_ADMIN`): the flag wins over the environment,
/// the environment over the default.
struct Arguments {
    struct OptionSpec {
        let name: String               // without dashes: "admin"
        let takesValue: Bool
        let environment: String?       // "GLB_ADMIN"
        let help: String
        let valueName: String
        let repeatable: Bool

        init(_ name: String, value: String? = "VALUE", env: String? = nil, repeatable: Bool = false, help: String) {
            self.name = name
            self.takesValue = value != nil
            self.valueName = value ?? ""
            self.environment = env
            self.help = help
            self.repeatable = repeatable
        }

        static func flag(_ name: String, env: String? = nil, help: String) -> OptionSpec {
            OptionSpec(name, value: nil, env: env, help: help)
        }
    }

    private(set) var values: [String: [String]] = [:]
    private(set) var positionals: [String] = []
    private(set) var helpRequested = false

    /// Parses `argv` (without the program and command words) against `specs`.
    init(_ argv: [String], specs: [OptionSpec], environment: [String: String] = [:]) throws(UsageError) {
        let byName = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
        var index = 0
        var onlyPositionals = false
        while index < argv.count {
            let word = argv[index]
            index += 1
            if onlyPositionals || !word.hasPrefix("-") || word == "-" {
                positionals.append(word)
                continue
            }
            if word == "--" { onlyPositionals = true; continue }
            if word == "-h" || word == "--help" { helpRequested = true; continue }
            guard word.hasPrefix("--") else { throw UsageError("unknown option \(word)") }
            var name = String(word.dropFirst(2))
            var inlineValue: String?
            // By scalars, not characters: "=" followed by a combining mark is one Character,
            // and `--admin=\u{301}x` must split like `--admin \u{301}x` (found by fuzzing).
            let scalars = name.unicodeScalars
            if let eq = scalars.firstIndex(of: "=") {
                inlineValue = String(scalars[scalars.index(after: eq)...])
                name = String(scalars[..<eq])
            }
            guard let spec = byName[name] else { throw UsageError("unknown option --\(name)") }
            let value: String
            if spec.takesValue {
                if let inlineValue {
                    value = inlineValue
                } else {
                    guard index < argv.count else { throw UsageError("--\(name) needs a value (\(spec.valueName))") }
                    value = argv[index]
                    index += 1
                }
            } else {
                guard inlineValue == nil else { throw UsageError("--\(name) takes no value") }
                value = "true"
            }
            if values[name] != nil, !spec.repeatable { throw UsageError("--\(name) given twice") }
            values[name, default: []].append(value)
        }
        for spec in specs where values[spec.name] == nil {
            if let env = spec.environment, let value = environment[env], !value.isEmpty {
                values[spec.name] = spec.repeatable ? value.split(separator: ",").map { String($0.trimmingSpaces) } : [value]
            }
        }
    }

    /// The option's value (last one given), or nil.
    func value(_ name: String) -> String? { values[name]?.last }

    /// Every value of a repeatable option; comma-separated values are split.
    func list(_ name: String) -> [String] {
        (values[name] ?? []).flatMap { $0.split(separator: ",").map { String($0.trimmingSpaces) } }.filter { !$0.isEmpty }
    }

    func flag(_ name: String) -> Bool { values[name] != nil && values[name] != ["false"] }

    /// An integer option within `range`, or a usage error that names the flag.
    func integer(_ name: String, in range: ClosedRange<Int>) throws(UsageError) -> Int? {
        guard let text = value(name) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            // A number too large for Int is still a number: say what range it misses.
            let numeric = !text.isEmpty && text.drop { $0 == "-" || $0 == "+" }.allSatisfy { ("0"..."9").contains($0) }
            throw UsageError("--\(name) must be \(numeric ? "" : "a whole number ")from \(range.lowerBound) to \(range.upperBound), got \(text)")
        }
        return number
    }

    /// A decimal option within `range`.
    func decimal(_ name: String, in range: ClosedRange<Double>) throws(UsageError) -> Double? {
        guard let text = value(name) else { return nil }
        guard let number = Double(text), number.isFinite, range.contains(number) else {
            throw UsageError("--\(name) must be a number from \(range.lowerBound) to \(range.upperBound), got \(text)")
        }
        return number
    }

    /// Renders the option list for `--help`, aligned.
    static func help(for specs: [OptionSpec]) -> String {
        let rows = specs.map { spec -> (String, String) in
            let left = "--\(spec.name)" + (spec.takesValue ? " \(spec.valueName)" : "")
            let env = spec.environment.map { " [env \($0)]" } ?? ""
            return (left, spec.help + env)
        }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { "  " + $0.0.padding(to: width) + "  " + $0.1 }.joined(separator: "\n")
    }
}

/// A mistake in how a command was called: exit status 2 with a usage line.
struct UsageError: Error, Equatable, CustomStringConvertible {
    let message: String
    /// The command whose `--help` shows the options at fault (`cluster add`); set by dispatch.
    var helpCommand: String?
    init(_ message: String) { self.message = message }
    var description: String { message }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
