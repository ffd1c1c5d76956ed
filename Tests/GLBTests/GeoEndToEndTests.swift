import Foundation
import GLBCore
import GLBTestSupport
import Testing
@testable import GLB

/// Geo routing over loopback, as the issue's done-when: `dig +subnet=` from two countries of
/// MaxMind's test database gets two regions' clusters, each falls back to the other region when
/// its cluster's origin dies (real health probes), `explain` says why, and the database and CIDR
/// map reload without a restart. An integration test on wall-clock time: it polls for each state
/// with a deadline and never sleeps a fixed time.
@Suite(.serialized) struct GeoEndToEndTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/geo").path

    static let geoService = #"{"zone":"glb.example.","policy":"geo","ttl":30,"check":{"type":"http","path":"/healthz","interval_ms":100,"timeout_ms":100,"fall":2,"rise":2}}"#

    /// A cluster body for `origin` with geo lists.
    static func body(_ origin: TestOrigin, region: String, continents: [String] = [], countries: [String] = []) -> String {
        var text = origin.clusterBody(region: region)
        text.removeLast()
        let list = { (codes: [String]) in codes.map { "\"\($0)\"" }.joined(separator: ",") }
        return text + #","continents":[\#(list(continents))],"countries":[\#(list(countries))]}"#
    }

    /// The A records for `subnet`, asked until `condition` holds or 10 s pass.
    static func answers(_ agent: RunningAgent, subnet: String, until condition: (Set<String>) -> Bool) async throws -> Set<String> {
        let clock = SystemClock()
        let end = clock.now + .seconds(10)
        var seen = Set<String>()
        while clock.now < end {
            seen = []
            for _ in 0..<4 {
                let text = try await DNSEndToEndTests.dig(agent, ["+subnet=\(subnet)", "www.glb.example", "A", "+short"])
                seen.formUnion(text.split(separator: "\n").map(String.init))
            }
            if condition(seen) { return seen }
        }
        return seen
    }

    @Test func twoCountriesGetTwoRegionsAndEachFallsBackToTheOther() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let origins = try await TwoOrigins.start()
        let database = Self.fixtures + "/GeoIP2-Country-Test.mmdb"
        let agent = try await RunningAgent.start(dataDirectory: dir.path, dns: true) { $0.geoDatabase = database }
        #expect(try await agent.request("PUT", "/v1/services/www", body: Self.geoService).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/eu", body: Self.body(origins.eu, region: "eu-west", continents: ["EU"])).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/ap", body: Self.body(origins.us, region: "ap-northeast", continents: ["AS"])).status == 201)

        // 81.2.69.160 is GB (Europe), 2001:218:: is JP (Asia) in the test database.
        let gb = "81.2.69.160/32", jp = "2001:218::/32"
        #expect(try await Self.answers(agent, subnet: gb) { $0 == ["127.0.0.11"] } == ["127.0.0.11"])
        #expect(try await Self.answers(agent, subnet: jp) { $0 == ["127.0.0.12"] } == ["127.0.0.12"])

        // The ECS option comes back with the scope the location depended on (RFC 7871 §7.2.1).
        let full = try await DNSEndToEndTests.dig(agent, ["+subnet=\(gb)", "www.glb.example", "A"])
        #expect(full.contains("CLIENT-SUBNET: 81.2.69.160/32/"), "\(full)")
        #expect(!full.contains("CLIENT-SUBNET: 81.2.69.160/32/0"), "a geo answer depends on the subnet")

        // explain says where the client was found and which level answered.
        let explained = try await agent.request("GET", "/v1/services/www/explain?client=192.0.2.1&subnet=81.2.69.160/32")
        let text = explained.json?["explanation"]?.stringValue ?? ""
        #expect(text.contains("EDNS Client Subnet 81.2.69.160 found in GeoIP2-Country"), "\(text)")
        #expect(text.contains("country GB, continent EU"), "\(text)")
        #expect(text.contains("geo level continent"), "\(text)")
        let location = explained.json?["location"]
        #expect(location?["country"]?.stringValue == "GB" && location?["continent"]?.stringValue == "EU")
        #expect(location?["origin"]?.stringValue == "ecs" && location?["source"]?.stringValue == "database GeoIP2-Country")
        #expect(location?["scope"]?.intValue == 27)

        // Europe's origin dies: GB falls back to Asia's cluster; JP is unaffected.
        await origins.eu.stop()
        #expect(try await Self.answers(agent, subnet: gb) { $0 == ["127.0.0.12"] } == ["127.0.0.12"])
        #expect(try await Self.answers(agent, subnet: jp) { $0 == ["127.0.0.12"] } == ["127.0.0.12"])
        let fallback = try await agent.request("GET", "/v1/services/www/explain?client=192.0.2.1&subnet=81.2.69.160/32")
        let why = fallback.json?["explanation"]?.stringValue ?? ""
        #expect(why.contains("geo: no healthy active cluster at level continent"), "\(why)")
        #expect(why.contains("eu region=eu-west state=active DOWN"), "\(why)")

        // It comes back; then Asia's dies and JP falls back to Europe.
        try await origins.eu.start()
        #expect(try await Self.answers(agent, subnet: gb) { $0 == ["127.0.0.11"] } == ["127.0.0.11"])
        await origins.us.stop()
        #expect(try await Self.answers(agent, subnet: jp) { $0 == ["127.0.0.11"] } == ["127.0.0.11"])
        await origins.stop()
        try await agent.stop()
    }

    @Test func theCIDRMapAndDatabaseReloadWithoutARestartAndABadFileIsRefused() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let mapPath = dir.path + "/cidr-map.txt", dbPath = dir.path + "/geo.mmdb"
        try "198.51.100.0/24 eu-west\n".write(toFile: mapPath, atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: Self.fixtures + "/GeoIP2-Country-Test.mmdb", toPath: dbPath)
        let agent = try await RunningAgent.start(dataDirectory: dir.path, dns: true) {
            $0.geoCIDRMap = mapPath
            $0.geoDatabase = dbPath
            $0.geoPollInterval = .milliseconds(50)
        }
        // No health check needed: clusters that were never probed are answered.
        let service = #"{"zone":"glb.example.","policy":"geo","ttl":30}"#
        #expect(try await agent.request("PUT", "/v1/services/www", body: service).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/eu",
                                        body: #"{"region":"eu-west","address":"192.0.2.11","port":9,"continents":["EU"]}"#).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/ap",
                                        body: #"{"region":"ap-northeast","address":"192.0.2.12","port":9,"continents":["AS"]}"#).status == 201)
        #expect(try await Self.answers(agent, subnet: "198.51.100.7/32") { $0 == ["192.0.2.11"] } == ["192.0.2.11"], "the map's region")

        // A new map, moved over the old one: the same network now belongs to Asia's region.
        try "198.51.100.0/24 ap-northeast\n".write(toFile: mapPath + ".new", atomically: true, encoding: .utf8)
        _ = rename(mapPath + ".new", mapPath)
        #expect(try await Self.answers(agent, subnet: "198.51.100.7/32") { $0 == ["192.0.2.12"] } == ["192.0.2.12"], "reloaded")

        // A corrupt database moved over the good one is refused; GB still finds Europe.
        #expect(try await Self.answers(agent, subnet: "81.2.69.160/32") { $0 == ["192.0.2.11"] } == ["192.0.2.11"])
        try FileManager.default.copyItem(atPath: Self.fixtures + "/MaxMind-DB-test-broken-search-tree-24.mmdb", toPath: dbPath + ".new")
        _ = rename(dbPath + ".new", dbPath)
        let refused = try await eventually {
            let metrics = try await agent.request("GET", "/metrics")
            return String(decoding: metrics.response.body, as: UTF8.self).contains(#"glb_geo_reloads_total{result="refused"} 1"#)
        }
        #expect(refused, "the bad file was looked at and refused")
        let metrics = String(decoding: try await agent.request("GET", "/metrics").response.body, as: UTF8.self)
        #expect(metrics.contains("glb_geo_database_build_epoch_seconds 1770245369"), "the good database is still the one in service")
        #expect(try await Self.answers(agent, subnet: "81.2.69.160/32") { $0 == ["192.0.2.11"] } == ["192.0.2.11"], "the old database stays")
        try await agent.stop()
    }

    /// The proxy locates a client behind a trusted proxy by its X-Forwarded-For hop, and ignores
    /// the header from anyone else.
    @Test func theProxyRoutesByTheTrustedForwardedForHop() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let origins = try await TwoOrigins.start()
        let database = Self.fixtures + "/GeoIP2-Country-Test.mmdb"
        let agent = try await RunningAgent.start(dataDirectory: dir.path, http: true) {
            $0.geoDatabase = database
            $0.trustedProxies = [(IPAddress("127.0.0.0")!, 8)]
        }
        #expect(try await agent.request("PUT", "/v1/services/www", body: Self.geoService).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/eu", body: Self.body(origins.eu, region: "eu-west", continents: ["EU"])).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/ap", body: Self.body(origins.us, region: "ap-northeast", continents: ["AS"])).status == 201)
        let address = try #require(agent.http)
        func get(forwardedFor: String) async throws -> String {
            let request = HTTPRequest(method: "GET", target: "/", headers: [("Host", "www.glb.example"), ("X-Forwarded-For", forwardedFor)])
            let response = try await offPool { try BlockingHTTPClient(timeout: .seconds(5)).send(request, to: address) }
            return String(decoding: response.body, as: UTF8.self)
        }
        for _ in 0..<5 {
            #expect(try await get(forwardedFor: "203.0.113.7, 81.2.69.160") == "eu-origin\n", "GB, the rightmost untrusted hop")
            #expect(try await get(forwardedFor: "2001:218::1") == "us-origin\n", "JP")
        }
        await origins.stop()
        try await agent.stop()
    }

    /// Latency from this node's own probes: the ranking comes from the prober's RTTs (explain
    /// shows them), one cluster answers steadily, and the other takes over when it dies.
    @Test func latencyAnswersFromProbeRTTsAndFallsBack() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let origins = try await TwoOrigins.start()
        let agent = try await RunningAgent.start(dataDirectory: dir.path, dns: true) {
            $0.location = (53.35, -6.26)
            $0.latencyRefreshInterval = .milliseconds(100)
        }
        let service = Self.geoService.replacingOccurrences(of: #""policy":"geo""#, with: #""policy":"latency""#)
        #expect(try await agent.request("PUT", "/v1/services/www", body: service).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/eu", body: origins.eu.clusterBody(region: "eu-west")).status == 201)
        #expect(try await agent.request("PUT", "/v1/services/www/clusters/us", body: origins.us.clusterBody(region: "us-east")).status == 201)
        let ranked = try await eventually {
            let explained = try await agent.request("GET", "/v1/services/www/explain?client=192.0.2.1")
            let text = explained.json?["explanation"]?.stringValue ?? ""
            return text.contains("has the lowest RTT with a healthy active address")
        }
        #expect(ranked, "the probes' RTTs reached the routing snapshot")
        // One leader, steadily: hysteresis keeps loopback's microsecond noise from flipping it.
        let steady = try await Self.answers(agent, subnet: "192.0.2.0/24") { $0.count == 1 }
        #expect(steady.count == 1)
        let leader = try #require(steady.first)
        await (leader == "127.0.0.11" ? origins.eu : origins.us).stop()
        let other = leader == "127.0.0.11" ? "127.0.0.12" : "127.0.0.11"
        #expect(try await Self.answers(agent, subnet: "192.0.2.0/24") { $0 == [other] } == [other], "the next in the ranking")
        await origins.stop()
        try await agent.stop()
    }

    /// A database or CIDR map the operator named but that cannot be used stops the agent at start,
    /// naming the flag and the reason, instead of routing as if it had no location data.
    @Test(arguments: [("geoip", "MaxMind-DB-test-broken-pointers-24.mmdb", "search tree node"),
                      ("geoip", "no-such-file.mmdb", "cannot read"),
                      ("geo-cidr-map", "LICENSE-MIT", "line 1")])
    func aBadFileAtStartStopsTheAgent(_ flag: String, _ file: String, _ reason: String) async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let path = Self.fixtures + "/" + file
        do {
            let agent = try await RunningAgent.start(dataDirectory: dir.path) {
                if flag == "geoip" { $0.geoDatabase = path } else { $0.geoCIDRMap = path }
            }
            try await agent.stop()
            Issue.record("the agent started with a bad --\(flag)")
        } catch {
            #expect("\(error)".contains("--\(flag)") && "\(error)".contains(reason), "\(error)")
        }
    }
}
