import Foundation
import GLBCore
import HealthProber
import Testing
@testable import GLB

/// `glb agent`'s configuration: defaults, every flag and its `GLB_*` twin, and every refusal,
/// which must name the flag (the agent exits 2 before it touches the data directory).
@Suite struct AgentConfigTests {
    static func config(_ argv: [String], env: [String: String] = [:]) throws(UsageError) -> AgentConfig {
        try AgentConfig(try Arguments(argv, specs: AgentConfig.options, environment: env), environment: env)
    }

    @Test func defaults() throws {
        let config = try Self.config([])
        #expect(config.dataDirectory == "./glb-data")
        #expect(config.zones == [])
        #expect(config.dns == nil, "DNS is off unless asked for")
        #expect(config.http == nil, "the proxy is off unless asked for")
        #expect(config.admin == SocketAddress(ip: .v4(0x7F00_0001), port: 9090), "the admin API binds to loopback")
        #expect(config.adminToken == nil)
        #expect(config.readToken == nil)
        #expect(config.node == AgentConfig.hostname)
        #expect(config.region == "local")
        #expect(config.loops == EventLoopGroup.defaultCount)
        #expect(config.logLevel == .info)
        #expect(config.shutdownGrace == .seconds(10))
    }

    /// One option given a value, and what the config must then say.
    struct Setting: CustomTestStringConvertible, Sendable {
        let option: String
        let value: String
        let check: @Sendable (AgentConfig) -> Bool
        var testDescription: String { "--\(option) \(value)" }
    }

    static let token = "0123456789abcdef-token"
    /// 32 bytes of 0x07, base64.
    static let key = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="
    /// A key file with that key, written once for the table below and removed when the test
    /// process exits (a static fixture has no test to remove it).
    static let keyFile: String = {
        let path = NSTemporaryDirectory() + "glb-test-gossip-\(getpid()).key"
        _ = FileManager.default.createFile(atPath: path, contents: Data("# test key\n\(key)\n".utf8))
        atexit { unlink(NSTemporaryDirectory() + "glb-test-gossip-\(getpid()).key") }
        return path
    }()
    static let settings: [Setting] = [
        Setting(option: "data", value: "/var/lib/glb") { $0.dataDirectory == "/var/lib/glb" },
        Setting(option: "zone", value: "GLB.Example,other.example.,glb.example.") { $0.zones == ["glb.example.", "other.example."] },
        Setting(option: "dns", value: "127.0.0.1:5353") { $0.dns == SocketAddress(ip: .v4(0x7F00_0001), port: 5353) },
        Setting(option: "http", value: "[::1]:8080") { $0.http == SocketAddress(ip: .v6(high: 0, low: 1), port: 8080) },
        Setting(option: "admin", value: "127.0.0.2:9191") { $0.admin == SocketAddress(ip: .v4(0x7F00_0002), port: 9191) },
        Setting(option: "admin-token", value: token) { $0.adminToken == token },
        Setting(option: "read-token", value: token) { $0.readToken == token },
        Setting(option: "node", value: "eu-1") { $0.node == "eu-1" },
        Setting(option: "region", value: "eu-west") { $0.region == "eu-west" },
        Setting(option: "loops", value: "3") { $0.loops == 3 },
        Setting(option: "log-level", value: "debug") { $0.logLevel == .debug },
        Setting(option: "shutdown-grace", value: "2.5") { $0.shutdownGrace == .milliseconds(2500) },
        Setting(option: "http-default-service", value: "WWW.glb.example") { $0.httpDefaultService == "www.glb.example." },
        Setting(option: "access-log", value: "0.25") { $0.accessLogSampleRate == 0.25 },
        Setting(option: "http-max-body", value: "1048576") { $0.httpMaxBody == 1_048_576 },
        Setting(option: "http-pool-idle", value: "32") { $0.httpPoolIdle == 32 },
        Setting(option: "gossip", value: "127.0.0.1:7946") { $0.gossip == SocketAddress(ip: .v4(0x7F00_0001), port: 7946) },
        Setting(option: "join", value: "127.0.0.2:7946,127.0.0.3:7946") {
            $0.join == [SocketAddress(ip: .v4(0x7F00_0002), port: 7946), SocketAddress(ip: .v4(0x7F00_0003), port: 7946)] && $0.gossip != nil
        },
        Setting(option: "gossip-key-file", value: keyFile) { $0.gossipKeyring?.primary.bytes == [UInt8](repeating: 7, count: 32) },
        Setting(option: "health-quorum", value: "local") { $0.healthQuorum == .local },
        Setting(option: "advertise", value: "192.0.2.10") { $0.advertise == IPAddress("192.0.2.10") && $0.advertisedAddress == IPAddress("192.0.2.10") },
        Setting(option: "geoip", value: "/var/lib/glb/GeoLite2-Country.mmdb") { $0.geoDatabase == "/var/lib/glb/GeoLite2-Country.mmdb" },
        Setting(option: "geo-cidr-map", value: "/etc/glb/cidr-map.txt") { $0.geoCIDRMap == "/etc/glb/cidr-map.txt" },
        Setting(option: "trusted-proxies", value: "10.0.0.0/8,192.0.2.10,2001:db8::/32") {
            $0.trustedProxies.map { "\($0.network)/\($0.prefix)" } == ["10.0.0.0/8", "192.0.2.10/32", "2001:db8::/32"]
        },
        Setting(option: "location", value: "53.35,-6.26") { $0.location?.latitude == 53.35 && $0.location?.longitude == -6.26 },
        Setting(option: "https", value: "127.0.0.1:8443") { $0.https == SocketAddress(ip: .v4(0x7F00_0001), port: 8443) && $0.certificates != nil },
        Setting(option: "certs", value: "/tmp") { $0.certificates == "/tmp" && $0.https != nil },
        Setting(option: "upstream-ca", value: keyFile) { $0.upstreamCA == keyFile },
    ]

    @Test func everyOptionHasARowHereAndAGLBEnvironmentTwin() {
        #expect(Set(AgentConfig.options.map(\.name)) == Set(Self.settings.map(\.option)))
        for option in AgentConfig.options {
            let expected = "GLB_" + String(option.name.uppercased().map { $0 == "-" ? "_" : $0 })
            #expect(option.environment == expected, "--\(option.name)")
        }
    }

    /// What some options need beside them (--join needs --gossip).
    static func companions(_ option: String) -> [String] {
        switch option {
        case "join": ["--gossip", "127.0.0.1:7946"]
        case "https": ["--certs", "/tmp"]
        case "certs": ["--https", "127.0.0.1:8443"]
        default: []
        }
    }

    @Test(arguments: settings)
    func theFlagSetsIt(_ s: Setting) throws {
        #expect(s.check(try Self.config(Self.companions(s.option) + ["--\(s.option)", s.value])))
        #expect(s.check(try Self.config(Self.companions(s.option) + ["--\(s.option)=\(s.value)"])))
    }

    @Test(arguments: settings)
    func theEnvironmentTwinSetsIt(_ s: Setting) throws {
        let env = try #require(AgentConfig.options.first { $0.name == s.option }?.environment)
        #expect(s.check(try Self.config(Self.companions(s.option), env: [env: s.value])))
    }

    @Test func gossipIsOffByDefaultAndTheKeyMayComeFromTheEnvironment() throws {
        let plain = try Self.config([])
        #expect(plain.gossip == nil)
        #expect(plain.join == [])
        #expect(plain.gossipKeyring == nil)
        let keyed = try Self.config(["--gossip", "0.0.0.0:7946", "--advertise", "10.0.0.1", "--join", "10.0.0.2:7946"],
                                    env: [AgentConfig.gossipKeyVariable: Self.key])
        #expect(keyed.gossipKeyring?.primary.bytes == [UInt8](repeating: 7, count: 32))
        #expect(keyed.gossip == SocketAddress(ip: .v4(0), port: 7946), "with a key any address may gossip")
    }

    @Test func aFlagBeatsItsEnvironmentTwin() throws {
        let config = try Self.config(["--region", "eu-west", "--loops", "2"], env: ["GLB_REGION": "us-east", "GLB_LOOPS": "7", "GLB_NODE": "n1"])
        #expect(config.region == "eu-west")
        #expect(config.loops == 2)
        #expect(config.node == "n1", "the environment still fills what no flag set")
    }

    struct Refusal: CustomTestStringConvertible, Sendable {
        let argv: [String]
        var env: [String: String] = [:]
        /// Every one of these must appear in the message.
        let mentions: [String]
        var testDescription: String { (env.map { "\($0.key)=\($0.value)" }.sorted() + argv).joined(separator: " ") }
    }

    static let refusals: [Refusal] = [
        Refusal(argv: ["--trusted-proxies", "10.0.0.0/33"], mentions: ["--trusted-proxies", "10.0.0.0/33"]),
        Refusal(argv: ["--trusted-proxies", "proxy.example"], mentions: ["--trusted-proxies"]),
        Refusal(argv: ["--location", "91,0"], mentions: ["--location", "LAT,LONG"]),
        Refusal(argv: ["--location", "53.35"], mentions: ["--location"]),
        Refusal(argv: ["--dns", "nope"], mentions: ["--dns", "nope", "ADDR:PORT"]),
        Refusal(argv: ["--dns", "127.0.0.1"], mentions: ["--dns"]),
        Refusal(argv: ["--http", "127.0.0.1:99999"], mentions: ["--http"]),
        Refusal(argv: ["--http", "::1:80"], mentions: ["--http"]),
        Refusal(argv: ["--admin", "host.example:9090"], mentions: ["--admin"]),
        Refusal(argv: [], env: ["GLB_DNS": "bad"], mentions: ["--dns", "bad"]),
        Refusal(argv: ["--zone", "bad zone"], mentions: ["--zone", "bad zone"]),
        Refusal(argv: ["--zone", "a..b"], mentions: ["--zone"]),
        Refusal(argv: ["--zone", "ok.example,bad!.example"], mentions: ["--zone", "bad!.example"]),
        Refusal(argv: ["--zone", String(repeating: "a", count: 64) + ".example"], mentions: ["--zone"]),
        Refusal(argv: ["--admin", "0.0.0.0:9090"], mentions: ["--admin", "--admin-token", "loopback"]),
        Refusal(argv: ["--admin", ":9090"], mentions: ["--admin-token"]),
        Refusal(argv: ["--admin", "[::]:9090"], mentions: ["--admin-token"]),
        Refusal(argv: ["--admin", "10.0.0.5:9090", "--read-token", token], mentions: ["--admin-token"]),
        Refusal(argv: [], env: ["GLB_ADMIN": "192.0.2.1:9090"], mentions: ["--admin-token"]),
        Refusal(argv: ["--admin-token", "fifteen-chars!!"], mentions: ["--admin-token", "16"]),
        Refusal(argv: ["--read-token", "short"], mentions: ["--read-token", "16"]),
        Refusal(argv: ["--admin-token", "sixteen chars with spaces"], mentions: ["--admin-token", "spaces"]),
        Refusal(argv: ["--loops", "0"], mentions: ["--loops", "1 to 256"]),
        Refusal(argv: ["--loops", "257"], mentions: ["--loops", "1 to 256"]),
        Refusal(argv: ["--loops", "many"], mentions: ["--loops"]),
        Refusal(argv: ["--node", "eu 1"], mentions: ["--node"]),
        Refusal(argv: ["--region", "eu/west"], mentions: ["--region"]),
        Refusal(argv: ["--log-level", "loud"], mentions: ["--log-level", "loud"]),
        Refusal(argv: ["--shutdown-grace", "-1"], mentions: ["--shutdown-grace"]),
        Refusal(argv: ["--data", ""], mentions: ["--data"]),
        Refusal(argv: ["--frobnicate"], mentions: ["--frobnicate"]),
        Refusal(argv: ["--gossip", "0.0.0.0:7946"], mentions: ["--gossip", "loopback", "--gossip-key-file", "GLB_GOSSIP_KEY"]),
        Refusal(argv: ["--gossip", "127.0.0.1:7946", "--join", "10.0.0.2:7946"], mentions: ["--join", "10.0.0.2:7946", "loopback"]),
        Refusal(argv: ["--join", "127.0.0.1:7946"], mentions: ["--join", "--gossip"]),
        Refusal(argv: ["--gossip", "127.0.0.1:7946", "--join", "nope"], mentions: ["--join", "nope"]),
        Refusal(argv: ["--gossip", "nope"], mentions: ["--gossip", "nope"]),
        Refusal(argv: ["--gossip", "127.0.0.1:1", "--gossip-key-file", "/nonexistent/glb.key"], mentions: ["--gossip-key-file", "/nonexistent/glb.key"]),
        Refusal(argv: ["--gossip", "127.0.0.1:1"], env: ["GLB_GOSSIP_KEY": "c2hvcnQ="], mentions: ["GLB_GOSSIP_KEY", "32 bytes"]),
        Refusal(argv: ["--gossip", "127.0.0.1:1"], env: ["GLB_GOSSIP_KEY": "not base64!"], mentions: ["GLB_GOSSIP_KEY", "base64"]),
        Refusal(argv: ["--gossip-key-file", keyFile], env: ["GLB_GOSSIP_KEY": key], mentions: ["--gossip-key-file", "GLB_GOSSIP_KEY"]),
        Refusal(argv: ["--http-max-body", "0"], mentions: ["--http-max-body"]),
        Refusal(argv: ["--http-max-body", "1M"], mentions: ["--http-max-body", "1M"]),
        Refusal(argv: ["--http-pool-idle", "-1"], mentions: ["--http-pool-idle"]),
        Refusal(argv: ["--health-quorum", "most"], mentions: ["--health-quorum", "majority", "local", "most"]),
        Refusal(argv: ["--advertise", "0.0.0.0"], mentions: ["--advertise", "0.0.0.0"]),
        Refusal(argv: ["--gossip", "0.0.0.0:7946"], env: ["GLB_GOSSIP_KEY": key], mentions: ["--gossip", "--advertise"]),
        Refusal(argv: ["--advertise", "node.example"], mentions: ["--advertise", "node.example"]),
        Refusal(argv: ["--https", "127.0.0.1:8443"], mentions: ["--https", "--certs"]),
        Refusal(argv: ["--certs", "/tmp"], mentions: ["--certs", "--https"]),
        Refusal(argv: ["--https", "127.0.0.1:8443", "--certs", "/nonexistent-glb-certs"], mentions: ["--certs", "/nonexistent-glb-certs", "not a directory"]),
        Refusal(argv: ["--upstream-ca", "/nonexistent-glb-ca.pem"], mentions: ["--upstream-ca", "/nonexistent-glb-ca.pem"]),
    ]

    @Test func proxyModeAnswersWithTheAdvertisedAddressElseASpecificListenAddress() throws {
        #expect(try Self.config(["--http", "0.0.0.0:8080"]).advertisedAddress == nil, "a wildcard says nothing")
        #expect(try Self.config(["--http", "0.0.0.0:8080", "--gossip", "127.0.0.5:7946"]).advertisedAddress == IPAddress("127.0.0.5"))
        #expect(try Self.config(["--http", "127.0.0.9:8080", "--gossip", "127.0.0.5:7946"]).advertisedAddress == IPAddress("127.0.0.9"))
        #expect(try Self.config(["--http", "127.0.0.9:8080", "--advertise", "203.0.113.7"]).advertisedAddress == IPAddress("203.0.113.7"))
    }

    @Test(arguments: refusals)
    func aBadSettingIsRefusedNamingTheFlag(_ r: Refusal) {
        do {
            _ = try Self.config(r.argv, env: r.env)
            Issue.record("accepted")
        } catch {
            for word in r.mentions { #expect(error.message.contains(word), "\(error.message)") }
        }
    }

    @Test(arguments: ["127.0.0.1:9090", "127.1.2.3:1", "[::1]:9090", "localhost:9090"])
    func aLoopbackAdminNeedsNoToken(_ admin: String) throws {
        #expect(try Self.config(["--admin", admin]).adminToken == nil)
    }

    @Test func aNonLoopbackAdminIsAllowedWithAnAdminToken() throws {
        let config = try Self.config(["--admin", "0.0.0.0:9090"], env: ["GLB_ADMIN_TOKEN": Self.token])
        #expect(config.admin == SocketAddress(ip: .v4(0), port: 9090))
        #expect(config.adminToken == Self.token)
    }

    @Test(arguments: [1, 256])
    func loopsAcceptsItsWholeRange(_ loops: Int) throws {
        #expect(try Self.config(["--loops", "\(loops)"]).loops == loops)
    }

    @Test func theAgentCommandExitsTwoNamingTheFlagAndHelpExitsZero() async {
        let console = BufferConsole()
        let cli = CLI(console: console, environment: ["GLB_LOOPS": "0"])
        #expect(await cli.run(["agent"]) == .usage)
        #expect(console.stderr.contains("--loops"))
        #expect(console.stderr.contains("glb agent --help"))

        let help = BufferConsole()
        #expect(await CLI(console: help, environment: [:]).run(["agent", "--help"]) == .success)
        for option in AgentConfig.options {
            #expect(help.stdout.contains("--\(option.name)"))
            #expect(help.stdout.contains(option.environment ?? "?"))
        }
        let extra = BufferConsole()
        #expect(await CLI(console: extra, environment: [:]).run(["agent", "stray"]) == .usage)
        #expect(extra.stderr.contains("stray"))
    }

    // MARK: deploy/ stays in step with the options

    static func deployFile(_ name: String) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("deploy/\(name)"), encoding: .utf8)
    }

    @Test func theExampleEnvironmentFileDocumentsEveryVariableAndParses() throws {
        let lines = try Self.deployFile("glb.env.example").split(separator: "\n").map(String.init)
        for option in AgentConfig.options {
            let env = try #require(option.environment)
            #expect(lines.contains { $0.hasPrefix(env + "=") || $0.hasPrefix("#" + env + "=") }, "\(env) is missing from deploy/glb.env.example")
        }
        let keyVariable = AgentConfig.gossipKeyVariable
        #expect(lines.contains { $0.hasPrefix(keyVariable + "=") || $0.hasPrefix("#" + keyVariable + "=") }, "\(keyVariable) is missing")
        // The settings it leaves on must make a configuration the agent accepts.
        var env: [String: String] = [:]
        for line in lines where line.hasPrefix("GLB_") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            env[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        let config = try Self.config([], env: env)
        #expect(config.dataDirectory == "/var/lib/glb")
        #expect(config.dns == SocketAddress(ip: .v4(0), port: 53))
        #expect(config.admin.ip.isLoopback, "the example keeps the admin API on loopback")
    }

    @Test func theSystemdUnitStopsAfterTheGraceAndKeepsStateWhereTheFlagSays() throws {
        let unit = try Self.deployFile("glb.service").split(separator: "\n").map(String.init)
        func setting(_ key: String) -> String? { unit.first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) } }
        #expect(setting("ExecStart") == "/usr/local/bin/glb agent --data /var/lib/glb")
        #expect(setting("StateDirectory") == "glb", "StateDirectory=glb is /var/lib/glb")
        #expect(setting("User") == "glb")
        #expect(setting("CapabilityBoundingSet") == "CAP_NET_BIND_SERVICE")
        let timeout = try #require(setting("TimeoutStopSec").flatMap { Int($0) })
        #expect(Duration.seconds(timeout) > AgentConfig().shutdownGrace, "systemd must not kill the agent while it drains")
        #expect(setting("RestartPreventExitStatus") == String(ExitCode.usage.rawValue), "a config error is not restarted")
    }
}
