import Foundation
import GLBCore
import GLBTestSupport
import Testing
@testable import GLB

/// The `glb` client commands: what they send, what they print, and what their exit status
/// means. Most run against a fake transport that records requests and answers from a table;
/// the last one runs the real CLI and HTTP transport against an in-process agent.
@Suite struct CLICommandTests {
    /// Records every request and answers `METHOD path` from a table (404 for anything else).
    final class FakeTransport: AdminTransport {
        struct Sent: Equatable, CustomStringConvertible {
            let method: String
            let path: String
            /// The body as sorted-key JSON, so tests compare text.
            let body: String?
            var description: String { "\(method) \(path) \(body ?? "")" }
        }

        var sent: [Sent] = []
        let answers: [String: (status: Int, body: String)]
        let unreachable: Bool

        init(answers: [String: (status: Int, body: String)], unreachable: Bool) {
            self.answers = answers
            self.unreachable = unreachable
        }

        func send(method: String, path: String, body: JSONValue?) throws(AdminClientError) -> (status: Int, body: [UInt8]) {
            sent.append(Sent(method: method, path: path, body: body?.serialized(sortedKeys: true)))
            if unreachable { throw AdminClientError(message: "cannot reach the GLB admin API at 127.0.0.1:9090 (is 'glb agent' running?)") }
            let answer = answers["\(method) \(path)"] ?? (404, #"{"error":"no such endpoint"}"#)
            return (answer.status, Array(answer.body.utf8))
        }
    }

    /// Where the CLI was told to connect, and with which token.
    final class Endpoint {
        var admin: String?
        var token: String?
    }

    struct Run {
        let code: ExitCode
        let out: String
        let err: String
        let sent: [FakeTransport.Sent]
        let admin: String?
        let token: String?
    }

    static func glb(_ argv: [String], env: [String: String] = [:], answers: [String: (status: Int, body: String)] = [:],
                    unreachable: Bool = false) async -> Run {
        let console = BufferConsole()
        let transport = FakeTransport(answers: answers, unreachable: unreachable)
        let endpoint = Endpoint()
        var cli = CLI(console: console, environment: env)
        cli.makeTransport = { admin, token, _ in
            endpoint.admin = admin
            endpoint.token = token
            return transport
        }
        let code = await cli.run(argv)
        return Run(code: code, out: console.stdout, err: console.stderr, sent: transport.sent, admin: endpoint.admin, token: endpoint.token)
    }

    static let storedService = #"{"name":"www","zone":"glb.example.","policy":"failover","ttl":60,"mode":"dns","fail_closed":false,"answers":1,"check":{"type":"http","path":"/healthz","interval_ms":500,"timeout_ms":500,"rise":2,"fall":3,"expect_status":"200-399","tls_verify":true},"version":1,"origin":"n1","fqdn":"www.glb.example."}"#
    static let twoClusters = #"{"clusters":[{"service":"www","name":"eu","region":"eu-west","addresses":["127.0.0.11"],"port":18081,"weight":100,"priority":0,"state":"active"},{"service":"www","name":"us-east-1","region":"us-east","addresses":["127.0.0.12","::1"],"port":8,"weight":5,"priority":10,"state":"draining"}]}"#

    // MARK: what is sent

    @Test func clusterSetSendsOnePATCHWithOnlyTheOptionsGiven() async {
        let stored = #"{"service":"www","name":"eu","region":"eu-west","addresses":["127.0.0.11"],"port":18081,"weight":50,"priority":0,"state":"draining","continents":["EU"]}"#
        let run = await Self.glb(["cluster", "set", "www", "eu", "--weight", "50"], answers: ["PATCH /v1/services/www/clusters/eu": (200, stored)])
        #expect(run.code == .success, "\(run.err)")
        #expect(run.sent == [.init(method: "PATCH", path: "/v1/services/www/clusters/eu", body: #"{"weight":50}"#)])
        #expect(run.out == "cluster eu of www updated (127.0.0.11:18081, weight 50, draining)\n")

        let back = await Self.glb(["cluster", "set", "www", "eu", "--state", "active", "--priority", "2", "--no-tls"],
                                  answers: ["PATCH /v1/services/www/clusters/eu": (200, stored)])
        #expect(back.sent.map(\.body) == [#"{"priority":2,"state":"active","tls":false}"#])
    }

    @Test func serviceSetSendsOnePATCHAndNestsCheckOptions() async {
        let run = await Self.glb(["service", "set", "www", "--ttl", "60", "--interval-ms", "500", "--fail-open"],
                                 answers: ["PATCH /v1/services/www": (200, Self.storedService)])
        #expect(run.code == .success, "\(run.err)")
        #expect(run.sent.map(\.body) == [#"{"check":{"interval_ms":500},"fail_closed":false,"ttl":60}"#])
        #expect(run.out == "service www updated (failover, ttl 60)\n")
    }

    @Test func setWithNothingToChangeIsAUsageErrorPointingAtItsOwnHelp() async {
        let run = await Self.glb(["cluster", "set", "www", "eu"])
        #expect(run.code == .usage)
        #expect(run.sent.isEmpty)
        #expect(run.err == "glb cluster: nothing to change: give at least one option, e.g. --weight 50\nRun 'glb cluster set --help' for usage.\n")
        let help = await Self.glb(["cluster", "set", "--help"])
        #expect(help.out.contains("--weight N") && help.out.contains("--state STATE"))
    }

    @Test func aCommandsHelpListsItsVerbsAndPointsAtTheirOptions() async {
        let run = await Self.glb(["cluster", "--help"])
        #expect(run.code == .success)
        for verb in ["add SERVICE NAME", "set SERVICE NAME", "list SERVICE", "show SERVICE NAME", "remove SERVICE NAME"] {
            #expect(run.out.contains("glb cluster \(verb)"), "\(verb)")
        }
        #expect(run.out.contains("Run 'glb cluster VERB --help'"))
    }

    @Test(arguments: [
        ("http://127.0.0.1:9090", "127.0.0.1:9090"), ("http://127.0.0.1:9090/", "127.0.0.1:9090"), ("127.0.0.1:9191", "127.0.0.1:9191"),
        ("HTTP://[::1]:9090", "[::1]:9090"), ("https://glb.example.com", "https://glb.example.com:443"), ("http://localhost", "localhost:80"),
    ])
    func theAdminAddressTakesURLsAndAddrPort(_ given: String, _ parsed: String) throws {
        #expect(try AdminEndpoint(parsing: given).description == parsed)
    }

    @Test(arguments: ["ftp://127.0.0.1:21", "127.0.0.1", "http://127.0.0.1:9090/v1", "http://:9090", "127.0.0.1:99999", "http://127.0.0.1:0"])
    func aMalformedAdminAddressIsAUsageErrorNamingTheEnvironmentToo(_ given: String) async {
        let run = await Self.glb(["status"], env: ["GLB_ADMIN": given])
        #expect(run.code == .usage, "\(given): \(run.err)")
        #expect(run.err.contains("--admin (or GLB_ADMIN)"))
        #expect(run.sent.isEmpty)
    }

    @Test func jsonOutputIsAlwaysAnObject() async throws {
        let removed = #"{"service":"www","name":"eu","region":"eu-west","addresses":["127.0.0.11"],"port":18081}"#
        let remove = await Self.glb(["cluster", "remove", "www", "eu", "--json"], answers: ["DELETE /v1/services/www/clusters/eu": (200, removed)])
        #expect(try JSONParser.parse(remove.out)["name"]?.stringValue == "eu")
        let noCanary = await Self.glb(["canary", "status", "www", "--json"], answers: ["GET /v1/services/www": (200, Self.storedService)])
        #expect(noCanary.code == .success)
        #expect(try JSONParser.parse(noCanary.out) == (try JSONParser.parse(#"{"cluster":null,"percent":0,"service":"www"}"#)))
    }

    @Test func serviceAddSendsOnePUTWithTheFlagsAsJSON() async {
        let run = await Self.glb(["service", "add", "www", "--zone", "glb.example.", "--policy", "failover", "--ttl", "60",
                                  "--mode", "proxy", "--answers", "2", "--fail-closed", "--check-type", "https",
                                  "--check-path", "/healthz", "--check-port", "8443", "--check-host", "www.example",
                                  "--interval-ms", "500", "--timeout-ms", "250", "--rise", "3", "--fall", "4"],
                                 answers: ["PUT /v1/services/www": (201, Self.storedService)])
        #expect(run.code == .success, "\(run.err)")
        #expect(run.sent == [.init(method: "PUT", path: "/v1/services/www", body: #"{"answers":2,"check":{"fall":4,"host":"www.example","interval_ms":500,"path":"/healthz","port":8443,"rise":3,"timeout_ms":250,"type":"https"},"fail_closed":true,"mode":"proxy","policy":"failover","ttl":60,"zone":"glb.example."}"#)])
        #expect(run.out == "service www saved (failover, ttl 60)\n")
        #expect(run.err == "")
    }

    @Test func serviceAddSendsOnlyWhatWasGiven() async {
        let run = await Self.glb(["service", "add", "www", "--zone=glb.example."], answers: ["PUT /v1/services/www": (201, Self.storedService)])
        #expect(run.sent.map(\.body) == [#"{"zone":"glb.example."}"#], "defaults are the server's to apply")
    }

    @Test func clusterAddSendsGeoLists() async {
        let stored = #"{"service":"www","name":"uk","region":"eu-west-2","addresses":["127.0.0.13"],"port":18083,"weight":100,"priority":0,"state":"active","countries":["GB","IE"],"continents":["EU"]}"#
        let run = await Self.glb(["cluster", "add", "www", "uk", "--region", "eu-west-2", "--address", "127.0.0.13", "--port", "18083",
                                  "--countries", "GB,IE", "--continents", "EU"],
                                 answers: ["PUT /v1/services/www/clusters/uk": (201, stored)])
        #expect(run.code == .success, "\(run.err)")
        #expect(run.sent == [.init(method: "PUT", path: "/v1/services/www/clusters/uk", body: #"{"addresses":["127.0.0.13"],"continents":["EU"],"countries":["GB","IE"],"port":18083,"region":"eu-west-2"}"#)])
    }

    @Test func clusterAddTakesRepeatedAndCommaSeparatedAddresses() async {
        let stored = #"{"service":"www","name":"eu","region":"eu-west","addresses":["127.0.0.11","127.0.0.12","::1"],"port":18081,"weight":50,"priority":1,"state":"draining"}"#
        let run = await Self.glb(["cluster", "add", "www", "eu", "--region", "eu-west", "--address", "127.0.0.11",
                                  "--address", "127.0.0.12,::1", "--port", "18081", "--weight", "50", "--priority", "1",
                                  "--state", "draining", "--lat", "53.35", "--lon", "-6.25"],
                                 answers: ["PUT /v1/services/www/clusters/eu": (201, stored)])
        #expect(run.code == .success, "\(run.err)")
        #expect(run.sent == [.init(method: "PUT", path: "/v1/services/www/clusters/eu", body: #"{"addresses":["127.0.0.11","127.0.0.12","::1"],"latitude":53.35,"longitude":-6.25,"port":18081,"priority":1,"region":"eu-west","state":"draining","weight":50}"#)])
        #expect(run.out == "cluster eu of www saved (127.0.0.11,127.0.0.12,::1:18081, weight 50, draining)\n")
    }

    @Test func clusterAddSendsTheTLSFlagsOnlyWhenGiven() async {
        let stored = #"{"service":"www","name":"eu","region":"eu-west","addresses":["10.0.0.1"],"port":443,"weight":100,"tls":true}"#
        let run = await Self.glb(["cluster", "add", "www", "eu", "--region", "eu-west", "--address", "10.0.0.1", "--port", "443",
                                  "--tls", "--tls-server-name", "origin.example.com", "--tls-no-verify"],
                                 answers: ["PUT /v1/services/www/clusters/eu": (201, stored)])
        #expect(run.code == .success, "\(run.err)")
        #expect(run.sent.map(\.body) == [#"{"addresses":["10.0.0.1"],"port":443,"region":"eu-west","tls":true,"tls_server_name":"origin.example.com","tls_verify":false}"#])
    }

    @Test func statusListsCertificatesSoonestExpiryFirst() async {
        let status = #"{"node":{"name":"eu-1","region":"eu-west"},"config_version":"17.0","uptime_s":5,"services":[],"tls_certificates":[{"name":"www","dns_names":["www.glb.example"],"default":true,"not_after":"2027-02-24T20:10:32Z","days_to_expiry":89,"state":"ok","file":"/c/www.crt"},{"name":"old","dns_names":["old.glb.example","*.old.glb.example"],"default":false,"not_after":"2026-11-25T20:10:32Z","days_to_expiry":-2,"state":"expired","file":"/c/old.crt"}]}"#
        let run = await Self.glb(["status"], answers: ["GET /v1/status": (200, status)])
        #expect(run.out == """
            node eu-1 (region eu-west), config version 17.0, up 5s
            CERTIFICATE    NAMES                              EXPIRES               DAYS LEFT  STATE
            old            old.glb.example,*.old.glb.example  2026-11-25T20:10:32Z  -2         EXPIRED
            www (default)  www.glb.example                    2027-02-24T20:10:32Z  89         ok

            no services yet: add one with 'glb service add NAME --zone ZONE'

            """)
    }

    @Test func readAndRemoveCommandsUseTheRightMethodAndPath() async {
        let cases: [(argv: [String], method: String, path: String)] = [
            (["service", "list"], "GET", "/v1/services"),
            (["service", "list", "--zone", "glb.example."], "GET", "/v1/services?zone=glb.example."),
            (["service", "show", "www"], "GET", "/v1/services/www"),
            (["service", "remove", "www"], "DELETE", "/v1/services/www"),
            (["cluster", "list", "www"], "GET", "/v1/services/www/clusters"),
            (["cluster", "show", "www", "eu"], "GET", "/v1/services/www/clusters/eu"),
            (["cluster", "remove", "www", "eu"], "DELETE", "/v1/services/www/clusters/eu"),
            (["cluster", "show", "a b", "eu/1"], "GET", "/v1/services/a%20b/clusters/eu%2F1"),
            (["status"], "GET", "/v1/status"),
        ]
        for c in cases {
            let run = await Self.glb(c.argv, answers: ["\(c.method) \(c.path)": (200, "{}")])
            #expect(run.code == .success, "\(c.argv): \(run.err)")
            #expect(run.sent == [.init(method: c.method, path: c.path, body: nil)], "\(c.argv)")
        }
    }

    @Test func theAdminAddressAndTokenComeFromFlagsOrTheEnvironment() async {
        let answers: [String: (status: Int, body: String)] = ["GET /v1/status": (200, "{}")]
        let plain = await Self.glb(["status"], answers: answers)
        #expect(plain.admin == "127.0.0.1:9090")
        #expect(plain.token == nil)
        let env = await Self.glb(["status"], env: ["GLB_ADMIN": "10.0.0.1:9191", "GLB_ADMIN_TOKEN": "t-env"], answers: answers)
        #expect(env.admin == "10.0.0.1:9191")
        #expect(env.token == "t-env")
        let flags = await Self.glb(["status", "--admin", "10.0.0.2:1", "--token=t-flag"], env: ["GLB_ADMIN": "10.0.0.1:9191", "GLB_ADMIN_TOKEN": "t-env"], answers: answers)
        #expect(flags.admin == "10.0.0.2:1")
        #expect(flags.token == "t-flag")
    }

    // MARK: what is printed

    @Test func clusterListPrintsAnAlignedTable() async {
        let run = await Self.glb(["cluster", "list", "www"], answers: ["GET /v1/services/www/clusters": (200, Self.twoClusters)])
        #expect(run.code == .success)
        #expect(run.out == """
            NAME       REGION   ADDRESSES       PORT   WEIGHT  PRIORITY  STATE
            eu         eu-west  127.0.0.11      18081  100     0         active
            us-east-1  us-east  127.0.0.12,::1  8      5       10        draining

            """)
    }

    @Test func jsonPrintsTheAnswerForScripts() async throws {
        let run = await Self.glb(["cluster", "list", "www", "--json"], answers: ["GET /v1/services/www/clusters": (200, Self.twoClusters)])
        #expect(run.code == .success)
        #expect(try JSONParser.parse(run.out).serialized(sortedKeys: true) == JSONParser.parse(Self.twoClusters).serialized(sortedKeys: true))
        #expect(run.out.split(separator: "\n").count == 1, "one line, no table")

        let removed = await Self.glb(["service", "remove", "www", "--json"], answers: ["DELETE /v1/services/www": (200, Self.storedService)])
        #expect(try JSONParser.parse(removed.out)["name"]?.stringValue == "www", "--json on remove prints the record removed")
    }

    @Test func serviceShowAndListPrintForPeople() async {
        let show = await Self.glb(["service", "show", "www"], answers: ["GET /v1/services/www": (200, Self.storedService)])
        #expect(show.out.contains("policy: failover\n"))
        #expect(show.out.contains("check.interval_ms: 500\n"))
        #expect(show.out.contains("fqdn: www.glb.example.\n"))
        let list = await Self.glb(["service", "list"], answers: ["GET /v1/services": (200, #"{"services":["# + Self.storedService + "]}")])
        #expect(list.out == """
            NAME  ZONE          POLICY    TTL  MODE  CHECK
            www   glb.example.  failover  60   dns   http 500ms

            """)
    }

    @Test func statusPrintsTheNodeAndATableOrAHint() async {
        let status = #"{"node":{"name":"eu-1","region":"eu-west"},"config_version":"17.0","uptime_s":5,"zones":["glb.example."],"nodes":[{"name":"eu-1","region":"eu-west","status":"alive","config_version":"17.0"},{"name":"us-1","region":"us-east","status":"alive","config_version":"16.0"}],"services":[{"name":"www","fqdn":"www.glb.example.","clusters":[{"name":"eu","region":"eu-west","addresses":["127.0.0.11"],"weight":100,"canary_percent":10,"state":"active","health":"up","quorum":{"answered":true,"up_votes":2,"down_votes":0},"last_probe":"ok","rtt_ms":0.42},{"name":"us","region":"us-east","addresses":["127.0.0.12"],"weight":100,"canary_percent":null,"state":"active","health":"down","quorum":{"answered":false,"up_votes":0,"down_votes":2},"last_probe":"refused","rtt_ms":null}]},{"name":"api","fqdn":"api.glb.example.","clusters":[]}]}"#
        let run = await Self.glb(["status"], answers: ["GET /v1/status": (200, status)])
        #expect(run.out == """
            node eu-1 (region eu-west), config version 17.0, up 5s
            NODE  REGION   STATUS  CONFIG VERSION
            eu-1  eu-west  alive   17.0
            us-1  us-east  alive   16.0
            SERVICE           CLUSTER  REGION   ADDRESSES   WEIGHT  CANARY  STATE   HEALTH       QUORUM        LAST PROBE  RTT
            www.glb.example.  eu       eu-west  127.0.0.11  100     10%     active  up           answered 2/0  ok          0.42ms
            www.glb.example.  us       us-east  127.0.0.12  100     -       active  down         DOWN 0/2      refused     -
            api.glb.example.  -        -        -           -       -       -       no clusters  -             -           -

            """)
        let empty = await Self.glb(["status"], answers: ["GET /v1/status": (200, #"{"node":{"name":"n","region":"r"},"services":[]}"#)])
        #expect(empty.code == .success)
        #expect(empty.out.contains("no services yet: add one with 'glb service add NAME --zone ZONE'"))
    }

    // MARK: exit codes

    struct Answer: CustomTestStringConvertible, Sendable {
        let status: Int
        let body: String
        let code: ExitCode
        let message: String
        var testDescription: String { "HTTP \(status) → exit \(code.rawValue)" }
    }

    static let answers: [Answer] = [
        Answer(status: 404, body: #"{"error":"service \"www\" not found"}"#, code: .notFound, message: "glb cluster: service \"www\" not found\n"),
        Answer(status: 400, body: #"{"error":"weight must be between 0 and 1000000, got -5","field":"weight"}"#, code: .rejected,
               message: "glb cluster: weight must be between 0 and 1000000, got -5 (field weight)\n"),
        Answer(status: 401, body: #"{"error":"reads need a bearer token"}"#, code: .rejected, message: "glb cluster: reads need a bearer token\n"),
        Answer(status: 403, body: #"{"error":"this token may only read"}"#, code: .rejected, message: "glb cluster: this token may only read\n"),
        Answer(status: 409, body: #"{"error":"cluster www/eu is the canary"}"#, code: .rejected, message: "glb cluster: cluster www/eu is the canary\n"),
        Answer(status: 500, body: #"{"error":"the store failed: disk I/O error"}"#, code: .failure, message: "glb cluster: the store failed: disk I/O error\n"),
        Answer(status: 503, body: "<html>busy</html>", code: .failure, message: "glb cluster: HTTP 503\n"),
        Answer(status: 200, body: "<html>a proxy page</html>", code: .failure, message: "glb cluster: the node answered with something that is not JSON\n"),
    ]

    @Test(arguments: answers)
    func theExitCodeSaysWhatTheNodeAnswered(_ a: Answer) async {
        let run = await Self.glb(["cluster", "list", "www"], answers: ["GET /v1/services/www/clusters": (a.status, a.body)])
        #expect(run.code == a.code)
        #expect(run.err == a.message)
        #expect(run.out == "")
    }

    @Test func anUnreachableNodeExitsFive() async {
        let run = await Self.glb(["status"], unreachable: true)
        #expect(run.code == .unreachable)
        #expect(run.code.rawValue == 5)
        #expect(run.err.contains("cannot reach the GLB admin API"))
    }

    struct Misuse: CustomTestStringConvertible, Sendable {
        let argv: [String]
        let message: String
        var testDescription: String { "glb " + argv.joined(separator: " ") }
    }

    static let misuses: [Misuse] = [
        Misuse(argv: ["service"], message: "expected one of add, set, list, show, remove"),
        Misuse(argv: ["service", "frob"], message: "unknown verb \"frob\""),
        Misuse(argv: ["service", "add"], message: "expected exactly one service NAME"),
        Misuse(argv: ["service", "add", "www"], message: "--zone is required"),
        Misuse(argv: ["service", "add", "www", "--zone", "z.", "--ttl", "-1"], message: "--ttl must be from 0 to 86400, got -1"),
        Misuse(argv: ["service", "add", "www", "--zone", "z.", "--check-port", "0"], message: "--check-port must be from 1 to 65535"),
        Misuse(argv: ["service", "add", "www", "--zone", "z.", "--zone", "y."], message: "--zone given twice"),
        Misuse(argv: ["service", "list", "--bogus"], message: "unknown option --bogus"),
        Misuse(argv: ["service", "list", "extra"], message: "list takes no arguments"),
        Misuse(argv: ["service", "show"], message: "expected exactly one service NAME"),
        Misuse(argv: ["service", "remove", "a", "b"], message: "expected exactly one service NAME"),
        Misuse(argv: ["cluster"], message: "expected one of add, set, list, show, remove"),
        Misuse(argv: ["cluster", "add", "www"], message: "expected SERVICE and cluster NAME"),
        Misuse(argv: ["cluster", "add", "www", "eu", "--address", "1.2.3.4", "--port", "1"], message: "--region is required"),
        Misuse(argv: ["cluster", "add", "www", "eu", "--region", "r", "--port", "1"], message: "--address is required"),
        Misuse(argv: ["cluster", "add", "www", "eu", "--region", "r", "--address", "1.2.3.4"], message: "--port is required"),
        Misuse(argv: ["cluster", "add", "www", "eu", "--region", "r", "--address", "1.2.3.4", "--port", "70000"],
               message: "--port must be from 1 to 65535, got 70000"),
        Misuse(argv: ["cluster", "add", "www", "eu", "--region", "r", "--address", "1.2.3.4", "--port", "1", "--lat", "91"],
               message: "--lat must be a number from -90.0 to 90.0, got 91"),
        Misuse(argv: ["cluster", "add", "www", "eu", "--region", "r", "--address", "1.2.3.4", "--port", "1", "--weight", "-5"],
               message: "--weight must be from 0 to 1000000, got -5"),
        Misuse(argv: ["cluster", "list"], message: "expected exactly one SERVICE"),
        Misuse(argv: ["cluster", "show", "www"], message: "expected SERVICE and cluster NAME"),
        Misuse(argv: ["cluster", "remove", "www"], message: "expected SERVICE and cluster NAME"),
        Misuse(argv: ["status", "extra"], message: "status takes no arguments"),
        Misuse(argv: ["status", "--json=1"], message: "--json takes no value"),
    ]

    @Test(arguments: misuses)
    func aUsageErrorExitsTwoWithAMessageAndSendsNothing(_ m: Misuse) async {
        let run = await Self.glb(m.argv)
        #expect(run.code == .usage)
        #expect(run.code.rawValue == 2)
        #expect(run.err.contains(m.message), "\(run.err)")
        // A mistake inside a verb points at that verb's help, which lists its options.
        let verbs = ["add", "set", "list", "show", "remove", "status", "promote", "abort"]
        let help = m.argv.count > 1 && verbs.contains(m.argv[1]) ? "\(m.argv[0]) \(m.argv[1])" : m.argv[0]
        #expect(run.err.contains("Run 'glb \(help) --help' for usage."), "\(run.err)")
        #expect(run.sent == [], "a usage error never reaches the node")
        #expect(run.out == "")
    }

    @Test func anUnknownOrMissingCommandExitsTwoWithTheUsage() async {
        let unknown = await Self.glb(["frobnicate", "--json"])
        #expect(unknown.code == .usage)
        #expect(unknown.err.hasPrefix("glb: unknown command \"frobnicate\"\n"))
        #expect(unknown.err.contains("usage: glb <command> [options]"))
        let none = await Self.glb([])
        #expect(none.code == .usage)
        #expect(none.err.contains("usage: glb <command> [options]"))
    }

    static let helps: [[String]] = [
        ["help"], ["--help"], ["-h"], ["version"],
        ["agent", "--help"], ["agent", "-h"],
        ["service", "--help"], ["service", "add", "--help"], ["service", "list", "--help"], ["service", "show", "-h"], ["service", "remove", "--help"],
        ["cluster", "--help"], ["cluster", "add", "--help"], ["cluster", "list", "--help"], ["cluster", "show", "-h"], ["cluster", "remove", "--help"],
        ["status", "--help"],
        // --help wins over what is missing or wrong around it.
        ["service", "add", "--zone", "z.", "--help"], ["cluster", "add", "www", "--help"],
    ]

    @Test(arguments: helps)
    func helpOnEveryCommandExitsZeroAndPrintsUsage(_ argv: [String]) async {
        let run = await Self.glb(argv)
        #expect(run.code == .success, "\(run.err)")
        #expect(run.out.hasPrefix(argv == ["version"] ? "glb " : "usage:"), "\(run.out)")
        #expect(run.err == "")
        #expect(run.sent == [])
    }

    @Test func addHelpListsEveryOptionAndTheSharedOnes() async {
        let service = await Self.glb(["service", "add", "--help"])
        for option in ServiceCommand.addOptions + CLI.clientOptions { #expect(service.out.contains("--\(option.name)"), "\(option.name)") }
        #expect(service.out.contains("[env GLB_ADMIN]"))
        let cluster = await Self.glb(["cluster", "add", "--help"])
        for option in ClusterCommand.addOptions + CLI.clientOptions { #expect(cluster.out.contains("--\(option.name)"), "\(option.name)") }
    }

    // MARK: against a real node

    /// Runs the jobs of tasks that prefer it on one dispatch queue, off the cooperative pool: the
    /// CLI's HTTP client blocks its thread, and the in-process agent needs the pool's few threads
    /// to answer (the same reason `offPool` exists).
    final class BlockingWorkExecutor: TaskExecutor {
        private let queue = DispatchQueue(label: "glb-test-cli")
        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }

    @Test func theRealCLIStoresAndShowsWhatTheOperatorTyped() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let agent = try await RunningAgent.start(dataDirectory: dir.path)
        let executor = BlockingWorkExecutor()
        let admin = "\(agent.address)"
        func glb(_ argv: [String], admin: String = admin) async -> (code: ExitCode, out: String, err: String) {
            let console = BufferConsole()
            let cli = CLI(console: console, environment: ["GLB_ADMIN": admin])
            let code = await withTaskExecutorPreference(executor) { await cli.run(argv) }
            return (code, console.stdout, console.stderr)
        }

        let service = await glb(["service", "add", "www", "--zone", "glb.example.", "--check-path", "/healthz", "--interval-ms", "1000",
                                 "--fall", "2", "--rise", "2"])
        #expect(service.code == .success, "\(service.err)")
        #expect(service.out == "service www saved (weighted, ttl 30)\n")
        let eu = await glb(["cluster", "add", "www", "eu", "--region", "eu-west", "--address", "127.0.0.11", "--port", "18081", "--weight", "100"])
        #expect(eu.code == .success, "\(eu.err)")
        let us = await glb(["cluster", "add", "www", "us", "--region", "us-east", "--address", "127.0.0.12", "--address", "0:0::01", "--port", "18082"])
        #expect(us.code == .success, "\(us.err)")
        #expect(us.out == "cluster us of www saved (127.0.0.12,::1:18082, weight 100)\n", "the node's canonical addresses are printed")

        let list = await glb(["cluster", "list", "www"])
        #expect(list.code == .success)
        #expect(list.out == """
            NAME  REGION   ADDRESSES       PORT   WEIGHT  PRIORITY  STATE
            eu    eu-west  127.0.0.11      18081  100     0         active
            us    us-east  127.0.0.12,::1  18082  100     0         active

            """)

        let status = await glb(["status"])
        #expect(status.code == .success)
        let lines = status.out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(lines.first?.prefix(3) == ["node", "test-node", "(region"])
        #expect(lines.dropFirst().first == ["SERVICE", "CLUSTER", "REGION", "ADDRESSES", "WEIGHT", "CANARY", "STATE", "HEALTH", "QUORUM", "LAST", "PROBE", "RTT"])
        // Nothing listens at these addresses: the prober has found them unknown or, on a slow
        // machine, already down after `fall` refusals.
        let rows = Array(lines.dropFirst(2))
        #expect(rows.map { Array($0.prefix(7)) } == [
            ["www.glb.example.", "eu", "eu-west", "127.0.0.11", "100", "-", "active"],
            ["www.glb.example.", "us", "us-east", "127.0.0.12,::1", "100", "-", "active"],
        ])
        #expect(rows.allSatisfy { $0.count > 7 && ["unknown", "down"].contains($0[7]) })

        // What the CLI printed is what the node stored.
        let stored = try await agent.request("GET", "/v1/services/www/clusters/us")
        #expect(stored.json?["addresses"] == .array([.string("127.0.0.12"), .string("::1")]))
        #expect(try await agent.request("GET", "/v1/services/www").json?["check"]?["path"]?.stringValue == "/healthz")

        let json = await glb(["cluster", "list", "www", "--json"])
        #expect(try JSONParser.parse(json.out)["clusters"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["eu", "us"])

        let missing = await glb(["service", "show", "nope"])
        #expect(missing.code == .notFound)
        #expect(missing.err == "glb service: service \"nope\" not found\n")
        let rejected = await glb(["cluster", "add", "www", "bad", "--region", "eu", "--address", "300.1.1.1", "--port", "1"])
        #expect(rejected.code == .rejected)
        #expect(rejected.err.contains("(field addresses)"))
        try await agent.stop()

        let gone = await glb(["status"], admin: "127.0.0.1:1")      // nothing listens on port 1
        #expect(gone.code == .unreachable, "\(gone.err)")
        #expect(gone.err.contains("cannot reach the GLB admin API at 127.0.0.1:1"))
    }
}

extension CLICommandTests {
    static let members = #"{"gossip":true,"members":[{"name":"eu-1","region":"eu-west","address":"10.0.0.1:7946","status":"alive","incarnation":0,"rtt_ms":null,"dns":"10.0.0.1:53","http":null,"config_version":"42.0"},{"name":"us-1","region":"us-east","address":"10.0.0.2:7946","status":"suspect","incarnation":3,"rtt_ms":81.25,"dns":null,"http":null}]}"#

    @Test func membersPrintsATableJSONOrAHintWhenGossipIsOff() async {
        let run = await Self.glb(["members"], answers: ["GET /v1/members": (200, Self.members)])
        #expect(run.code == .success)
        #expect(run.out == """
            NAME  REGION   ADDRESS        STATUS   INCARNATION  RTT      CONFIG VERSION
            eu-1  eu-west  10.0.0.1:7946  alive    0            -        42.0
            us-1  us-east  10.0.0.2:7946  suspect  3            81.25ms  -

            """)
        let json = await Self.glb(["members", "--json"], answers: ["GET /v1/members": (200, Self.members)])
        #expect(json.out.contains(#""incarnation":3"#))
        let off = await Self.glb(["members"], answers: ["GET /v1/members": (200, #"{"gossip":false,"members":[]}"#)])
        #expect(off.out.contains("gossip is off"))
        let stray = await Self.glb(["members", "x"])
        #expect(stray.code == .usage)
        let status = #"{"node":{"name":"eu-1","region":"eu-west"},"config_version":"17.0","uptime_s":5,"members":3,"zones":[],"services":[]}"#
        #expect(await Self.glb(["status"], answers: ["GET /v1/status": (200, status)]).out.hasPrefix("node eu-1 (region eu-west), config version 17.0, 3 live members, up 5s"))
    }
}
