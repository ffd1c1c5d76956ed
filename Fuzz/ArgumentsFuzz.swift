// libFuzzer target for the CLI's argument parser (Sources/GLB/CLI/Arguments.swift). The file lives
// in the `glb` executable target, so scripts/fuzz-cli.sh compiles it on its own with this one into
// a module; not by SwiftPM.
//
// The input is split on NUL bytes into words. A word that starts with byte 0x01 is an environment
// entry `NAME=value` instead of an argument, so the environment twins are fuzzed too; the other
// words are argv (without the program and command words, as `Arguments` takes it).
//
// Oracles beyond "no crash, no ASan report":
//  - the environment changes no verdict: argv parses with it exactly when it parses without it;
//  - round trip: the options and positionals parsed from argv (without the environment), written
//    back as `--name value` words, and again as `--name=value` words, with the positionals after
//    `--`, parse to the same result;
//  - precedence: an option given in argv keeps its argv values whatever the environment says; one
//    not given takes its twin's value (split on commas and trimmed when repeatable), unless empty;
//  - a non-repeatable option has one value; `list` has no empty or space-padded items; `integer`
//    and `decimal` return values inside their range; `help(for:)` renders.

/// `precondition` drops its message in -O builds; this keeps it in the crash report.
private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}

/// The shape of a real command's options (the agent's and a client command's): value options with
/// and without environment twins, repeatable ones, and flags with and without a twin.
private let specs: [Arguments.OptionSpec] = [
    .init("admin", value: "ADDR:PORT", env: "GLB_ADMIN", help: "the node's admin API (default 127.0.0.1:9090)"),
    .init("token", value: "TOKEN", env: "GLB_ADMIN_TOKEN", help: "bearer token for the admin API"),
    .init("weight", value: "N", help: "share under the weighted policy (default 100)"),
    .init("lat", value: "DEGREES", help: "latitude, for proximity routing"),
    .init("join", value: "HOST:PORT,...", env: "GLB_JOIN", repeatable: true, help: "gossip addresses of nodes to join through"),
    .init("address", value: "IP", repeatable: true, help: "an address to answer with (repeatable, or comma-separated)"),
    .flag("json", env: "GLB_JSON", help: "print JSON for scripts instead of tables"),
    .flag("tls", help: "the proxy speaks HTTPS to this cluster"),
]

private func parse(_ argv: [String], _ environment: [String: String]) -> Arguments? {
    do {
        return try Arguments(argv, specs: specs, environment: environment)
    } catch {
        require(!error.message.isEmpty, "a usage error without a message")
        return nil
    }
}

/// `arguments` written back as argv: options in spec order, then `--` and the positionals.
private func words(_ arguments: Arguments, inline: Bool) -> [String] {
    var argv: [String] = arguments.helpRequested ? ["--help"] : []
    for spec in specs {
        for value in arguments.values[spec.name] ?? [] {
            if !spec.takesValue {
                argv.append("--\(spec.name)")
            } else if inline {
                argv.append("--\(spec.name)=\(value)")
            } else {
                argv += ["--\(spec.name)", value]
            }
        }
    }
    return argv + ["--"] + arguments.positionals
}

private func same(_ a: Arguments, _ b: Arguments) -> Bool {
    a.values == b.values && a.positionals == b.positionals && a.helpRequested == b.helpRequested
}

@_cdecl("LLVMFuzzerTestOneInput")
public func argumentsFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    var argv: [String] = []
    var environment: [String: String] = [:]
    for word in input.split(separator: 0, omittingEmptySubsequences: false) {
        if word.first == 1 {
            let entry = word.dropFirst()
            let eq = entry.firstIndex(of: UInt8(ascii: "=")) ?? entry.endIndex
            let value = eq < entry.endIndex ? entry[(eq + 1)...] : entry[eq...]
            environment[String(decoding: entry[..<eq], as: UTF8.self)] = String(decoding: value, as: UTF8.self)
        } else {
            argv.append(String(decoding: word, as: UTF8.self))
        }
    }

    let bare = parse(argv, [:])
    let withEnvironment = parse(argv, environment)
    require((bare == nil) == (withEnvironment == nil), "the environment changed whether argv parses")
    guard let bare, let withEnvironment else { return 0 }

    for inline in [false, true] {
        let written = words(bare, inline: inline)
        guard let again = parse(written, [:]) else { fatalError("written back as \(written), argv \(argv) no longer parses") }
        require(same(again, bare), "written back as \(written), argv \(argv) parses differently")
    }

    require(withEnvironment.positionals == bare.positionals && withEnvironment.helpRequested == bare.helpRequested,
            "the environment changed the positionals")
    for spec in specs {
        let given = bare.values[spec.name]
        let got = withEnvironment.values[spec.name]
        if let given {
            require(got == given, "--\(spec.name) from argv was overridden by the environment")
        } else if let twin = spec.environment, let value = environment[twin], !value.isEmpty {
            let expected = spec.repeatable ? value.split(separator: ",").map { String($0.trimmingSpaces) } : [value]
            require(got == expected, "--\(spec.name) did not take \(twin)=\(value)")
        } else {
            require(got == nil, "--\(spec.name) has a value from nowhere")
        }
        if !spec.repeatable { require((got?.count ?? 1) == 1, "--\(spec.name) has several values") }
        require(withEnvironment.list(spec.name).allSatisfy { !$0.isEmpty && $0.first != " " && $0.last != " " },
                "--\(spec.name) lists an empty or space-padded item")
        _ = withEnvironment.flag(spec.name)
        if let n = try? withEnvironment.integer(spec.name, in: 0...1000) { require((0...1000).contains(n), "integer out of range") }
        if let x = try? withEnvironment.decimal(spec.name, in: -90...90) { require((-90...90).contains(x), "decimal out of range") }
    }
    _ = Arguments.help(for: specs)
    return 0
}
