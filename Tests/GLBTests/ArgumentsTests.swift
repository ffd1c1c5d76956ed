import Testing
@testable import GLB

/// The hand-written command-line parser, by table: every form of the grammar and every mistake,
/// with the message the operator reads.
@Suite struct ArgumentsTests {
    static let specs: [Arguments.OptionSpec] = [
        .init("admin", value: "ADDR:PORT", env: "GLB_ADMIN", help: "the admin API"),
        .init("zone", value: "ZONE", env: "GLB_ZONE", repeatable: true, help: "a zone"),
        .init("port", value: "PORT", help: "a port"),
        .flag("json", help: "print JSON"),
        .flag("verbose", env: "GLB_VERBOSE", help: "say more"),
    ]

    struct Parse: CustomTestStringConvertible, Sendable {
        let name: String
        let argv: [String]
        var env: [String: String] = [:]
        var admin: String?
        var zones: [String] = []
        var json = false
        var verbose = false
        var positionals: [String] = []
        var help = false
        var testDescription: String { name }
    }

    static let parseCases: [Parse] = [
        Parse(name: "nothing", argv: []),
        Parse(name: "--x v", argv: ["--admin", "10.0.0.1:9090"], admin: "10.0.0.1:9090"),
        Parse(name: "--x=v", argv: ["--admin=10.0.0.1:9090"], admin: "10.0.0.1:9090"),
        Parse(name: "--x=v keeps later equals signs", argv: ["--admin=a=b"], admin: "a=b"),
        Parse(name: "--x= is an empty value", argv: ["--admin="], admin: ""),
        Parse(name: "--x=v where v starts with a combining mark", argv: ["--admin=\u{301}x"], admin: "\u{301}x"),
        Parse(name: "a value may start with a dash", argv: ["--admin", "-x"], admin: "-x"),
        Parse(name: "a flag", argv: ["--json"], json: true),
        Parse(name: "positionals around options", argv: ["www", "--json", "eu"], json: true, positionals: ["www", "eu"]),
        Parse(name: "a lone dash is a positional", argv: ["-"], positionals: ["-"]),
        Parse(name: "-- ends options", argv: ["--json", "--", "--admin", "-h"], json: true, positionals: ["--admin", "-h"]),
        Parse(name: "--help", argv: ["www", "--help"], positionals: ["www"], help: true),
        Parse(name: "-h", argv: ["-h"], help: true),
        Parse(name: "env twin used when the flag is absent", argv: [], env: ["GLB_ADMIN": "10.0.0.2:1"], admin: "10.0.0.2:1"),
        Parse(name: "the flag beats its env twin", argv: ["--admin", "10.0.0.1:1"], env: ["GLB_ADMIN": "10.0.0.2:1"], admin: "10.0.0.1:1"),
        Parse(name: "an empty env twin counts as unset", argv: [], env: ["GLB_ADMIN": ""]),
        Parse(name: "env without a twin is ignored", argv: [], env: ["GLB_PORT": "1", "ADMIN": "x"]),
        Parse(name: "repeatable", argv: ["--zone", "a.", "--zone=b."], zones: ["a.", "b."]),
        Parse(name: "repeatable with comma lists", argv: ["--zone", "a.,b.", "--zone", " c. , ,d."], zones: ["a.", "b.", "c.", "d."]),
        Parse(name: "repeatable env twin is a comma list", argv: [], env: ["GLB_ZONE": "a., b."], zones: ["a.", "b."]),
        Parse(name: "repeatable flag beats its env twin", argv: ["--zone", "c."], env: ["GLB_ZONE": "a.,b."], zones: ["c."]),
        Parse(name: "boolean env twin", argv: [], env: ["GLB_VERBOSE": "1"], verbose: true),
        Parse(name: "boolean env twin set to false", argv: [], env: ["GLB_VERBOSE": "false"], verbose: false),
    ]

    @Test(arguments: parseCases)
    func parses(_ c: Parse) throws {
        let args = try Arguments(c.argv, specs: Self.specs, environment: c.env)
        #expect(args.value("admin") == c.admin)
        #expect(args.list("zone") == c.zones)
        #expect(args.flag("json") == c.json)
        #expect(args.flag("verbose") == c.verbose)
        #expect(args.positionals == c.positionals)
        #expect(args.helpRequested == c.help)
    }

    struct Mistake: CustomTestStringConvertible, Sendable {
        let argv: [String]
        let message: String
        var testDescription: String { argv.joined(separator: " ") }
    }

    static let mistakes: [Mistake] = [
        Mistake(argv: ["--nope"], message: "unknown option --nope"),
        Mistake(argv: ["--nope=3"], message: "unknown option --nope"),
        Mistake(argv: ["--Admin", "x"], message: "unknown option --Admin"),
        Mistake(argv: ["-x"], message: "unknown option -x"),
        Mistake(argv: ["-admin", "x"], message: "unknown option -admin"),
        Mistake(argv: ["--admin"], message: "--admin needs a value (ADDR:PORT)"),
        Mistake(argv: ["www", "--port"], message: "--port needs a value (PORT)"),
        Mistake(argv: ["--admin", "a:1", "--admin", "b:1"], message: "--admin given twice"),
        Mistake(argv: ["--admin=a:1", "--admin", "a:1"], message: "--admin given twice"),
        Mistake(argv: ["--json", "--json"], message: "--json given twice"),
        Mistake(argv: ["--json=yes"], message: "--json takes no value"),
    ]

    @Test(arguments: mistakes)
    func aMistakeIsAUsageErrorThatNamesTheOption(_ m: Mistake) {
        #expect(throws: UsageError(m.message)) { try Arguments(m.argv, specs: Self.specs) }
    }

    struct Number: CustomTestStringConvertible, Sendable {
        let text: String
        let value: Int?
        var testDescription: String { "--port \(text)" }
    }

    static let numbers: [Number] = [
        Number(text: "1", value: 1), Number(text: "65535", value: 65535), Number(text: "0", value: nil),
        Number(text: "65536", value: nil), Number(text: "-1", value: nil), Number(text: "8o", value: nil),
        Number(text: "1.5", value: nil), Number(text: "", value: nil), Number(text: "99999999999999999999999", value: nil),
    ]

    @Test(arguments: numbers)
    func integerOptionsAreCheckedAgainstTheirRange(_ n: Number) throws {
        let args = try Arguments(["--port=\(n.text)"], specs: Self.specs)
        if let value = n.value {
            #expect(try args.integer("port", in: 1...65535) == value)
        } else {
            // A number out of range is told its range; only what is not a number is told so.
            let numeric = !n.text.isEmpty && n.text.drop { $0 == "-" }.allSatisfy(\.isNumber)
            let expected = numeric ? "--port must be from 1 to 65535, got \(n.text)" : "--port must be a whole number from 1 to 65535, got \(n.text)"
            #expect(throws: UsageError(expected)) { try args.integer("port", in: 1...65535) }
        }
    }

    @Test func decimalOptionsAreCheckedAgainstTheirRange() throws {
        #expect(try Arguments(["--port", "-6.25"], specs: Self.specs).decimal("port", in: -90...90) == -6.25)
        for bad in ["91", "nan", "inf", "x"] {
            #expect(throws: UsageError("--port must be a number from -90.0 to 90.0, got \(bad)")) {
                try Arguments(["--port", bad], specs: Self.specs).decimal("port", in: -90...90)
            }
        }
        #expect(try Arguments([], specs: Self.specs).integer("port", in: 1...2) == nil, "absent is nil, not an error")
    }

    @Test func helpListsEveryOptionAlignedWithItsEnvironmentTwin() {
        let lines = Arguments.help(for: Self.specs).split(separator: "\n").map(String.init)
        #expect(lines == [
            "  --admin ADDR:PORT  the admin API [env GLB_ADMIN]",
            "  --zone ZONE        a zone [env GLB_ZONE]",
            "  --port PORT        a port",
            "  --json             print JSON",
            "  --verbose          say more [env GLB_VERBOSE]",
        ])
    }
}
