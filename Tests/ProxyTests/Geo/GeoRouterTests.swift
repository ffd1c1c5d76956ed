import GLBCore
import GLBTestSupport
import Proxy
import Testing

/// The `geo` and `latency` policies as tables: sans-IO, a compiled snapshot in, the chosen
/// cluster and level out.
@Suite struct GeoRouterTests {
    static let zone = ZoneInput(name: "glb.example.", ttl: 300, negativeTTL: 60, serial: 1, hostmaster: "h.glb.example.",
                                nameservers: ["ns1.glb.example."], glue: [:])
    static let cidr = try! CIDRMap.parse("""
        10.1.0.0/16   eu-west            # a private network placed by region
        10.9.0.0/16   country=US continent=NA
        10.7.0.0/16   lat=35.7 long=139.7   # Tokyo, by coordinates only
        """)
    static let sources = GeoSources(database: try! GeoFixtures.open("GeoIP2-Country-Test.mmdb"), cidrMap: cidr)

    /// eu serves Europe, ap Asia, us the US by country, se Sweden; global is the default set.
    static func clusters(down: Set<String>) -> [ClusterInput] {
        [ClusterInput(name: "eu", region: "eu-west", addresses: [ip("10.0.0.1")], healthy: !down.contains("eu"), continents: ["EU"]),
         ClusterInput(name: "ap", region: "ap-northeast", addresses: [ip("10.0.0.2")], healthy: !down.contains("ap"), continents: ["AS"],
                      latitude: 35.6, longitude: 139.6),
         ClusterInput(name: "us", region: "us-east", addresses: [ip("10.0.0.3")], healthy: !down.contains("us"), countries: ["us"]),
         ClusterInput(name: "se", region: "eu-north", addresses: [ip("10.0.0.4")], healthy: !down.contains("se"), countries: ["SE"],
                      latitude: 59.3, longitude: 18.1),
         ClusterInput(name: "global", region: "us-west", addresses: [ip("10.0.0.5")], healthy: !down.contains("global"))]
    }

    static func snapshot(down: Set<String> = [], latency: LatencyInput? = nil, policy: RoutePolicy = .geo) -> RoutingSnapshot {
        RoutingSnapshot(compiling: RouteInput(generation: 1, zones: [zone], services: [
            ServiceInput(name: "www", zone: "glb.example.", policy: policy, clusters: clusters(down: down))], geo: sources, latency: latency))
    }

    static func route(_ snapshot: RoutingSnapshot, client: String, subnet: String? = nil) -> (clusters: Set<String>, decision: RouteDecision, key: ClientKey) {
        var router = Router()
        var rng = SplitMix64(seed: 7)
        let ecs = subnet.map { text -> ClientSubnet in
            let parts = text.split(separator: "/")
            return ClientSubnet(address: ip(String(parts[0])), sourcePrefix: UInt8(parts[1])!)
        }
        let key = ClientKey(client: ip(client), subnet: ecs)
        var seen = Set<String>(), decision: RouteDecision?
        for _ in 0..<20 {
            decision = router.route(service: 0, family: .v4, client: key, snapshot: snapshot, rng: &rng)
            for e in router.chosen { seen.insert(snapshot.clusters[Int(snapshot.endpoints[Int(e)].cluster)].name) }
        }
        return (seen, decision!, key)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var client: String, subnet: String?, down: Set<String>, expected: Set<String>, level: GeoLevel?
        var testDescription: String { "\(subnet ?? client) down=\(down.sorted())" }
    }

    static let cases: [Case] = [
        // 81.2.69.160 is GB/EU in the test database: Europe's cluster, by continent.
        Case(client: "192.0.2.53", subnet: "81.2.69.160/32", down: [], expected: ["eu"], level: .continent),
        // 2001:218:: is JP/AS.
        Case(client: "192.0.2.53", subnet: "2001:218::/32", down: [], expected: ["ap"], level: .continent),
        // 89.160.20.112 is SE/EU: the country list beats the continent list.
        Case(client: "89.160.20.112", subnet: nil, down: [], expected: ["se"], level: .country),
        // Sweden's cluster down: Europe's, by continent.
        Case(client: "89.160.20.112", subnet: nil, down: ["se"], expected: ["eu"], level: .continent),
        // Europe down: the default set.
        Case(client: "192.0.2.53", subnet: "81.2.69.160/32", down: ["eu"], expected: ["global"], level: .fallback),
        // Europe and the default set down: any cluster, by weight (no coordinates in a country database).
        Case(client: "192.0.2.53", subnet: "81.2.69.160/32", down: ["eu", "global"], expected: ["ap", "us", "se"], level: .any),
        // The CIDR map's region wins for a private network the database cannot know.
        Case(client: "10.1.2.3", subnet: nil, down: [], expected: ["eu"], level: .country),
        Case(client: "10.9.0.1", subnet: nil, down: [], expected: ["us"], level: .country),
        // Coordinates only: no list matches, so the default set; with it down, the nearest cluster.
        Case(client: "10.7.1.1", subnet: nil, down: [], expected: ["global"], level: .fallback),
        Case(client: "10.7.1.1", subnet: nil, down: ["global"], expected: ["ap"], level: .any),
        // Nowhere known: the default set.
        Case(client: "192.0.2.1", subnet: nil, down: [], expected: ["global"], level: .fallback),
        // ECS with source prefix 0 means "do not use my clients' addresses": the resolver's own.
        Case(client: "89.160.20.112", subnet: "0.0.0.0/0", down: [], expected: ["se"], level: .country),
    ]

    @Test(arguments: cases)
    func geoChoosesByLevel(_ c: Case) {
        let (seen, decision, _) = Self.route(Self.snapshot(down: c.down), client: c.client, subnet: c.subnet)
        #expect(c.expected.isSuperset(of: seen) && !seen.isEmpty, "got \(seen)")
        #expect(decision.geoLevel == c.level)
        #expect(decision.outcome == .healthy)
    }

    @Test func everythingDownFailsOpenWithoutAGeoLevelOrScope() {
        let (seen, decision, key) = Self.route(Self.snapshot(down: ["eu", "ap", "us", "se", "global"]), client: "192.0.2.53", subnet: "81.2.69.160/32")
        #expect(seen.count == 5)
        #expect(decision.outcome == .failOpen)
        #expect(decision.geoLevel == nil)
        #expect(decision.ecsScope(for: key) == 0, "an answer that ignored the location must not claim a scope")
    }

    /// RFC 7871 §7.2.1: the scope is the prefix the answer depended on: here the longer of the
    /// CIDR map's longest prefix (/16) and the database network's depth.
    @Test func theECSScopeIsWhatTheLocationDependedOn() {
        let (_, decision, key) = Self.route(Self.snapshot(), client: "192.0.2.53", subnet: "81.2.69.160/32")
        let depth = Self.sources.database!.lookup(ip("81.2.69.160")).prefix
        #expect(decision.ecsScope(for: key) == max(16, depth))
        let (_, plain, plainKey) = Self.route(Self.snapshot(), client: "81.2.69.160")
        #expect(plain.ecsScope(for: plainKey) == 0, "no ECS in, no scope out")
    }

    @Test func explainSaysWhereTheClientWasFoundAndWhichLevelAnswered() throws {
        let snapshot = Self.snapshot(down: ["eu"])
        var rng = SplitMix64(seed: 1)
        let explanation = try #require(Explanation.explain(service: "www", client: ip("192.0.2.53"),
                                                           subnet: ClientSubnet(address: ip("81.2.69.160"), sourcePrefix: 32),
                                                           snapshot: snapshot, rng: &rng))
        let text = explanation.description
        #expect(text.contains("EDNS Client Subnet 81.2.69.160 found in GeoIP2-Country"), "\(text)")
        #expect(text.contains("country GB, continent EU"))
        #expect(text.contains("geo: no healthy active cluster at level continent"))
        #expect(text.contains("geo level default set"))
        #expect(text.contains("eu region=eu-west state=active DOWN"))
        #expect(text.contains("continents=EU"))
        #expect(explanation.families[0].answer == [ip("10.0.0.5")])
    }

    /// A loop's cache gives what an uncached lookup gives, across databases swapped under it
    /// (a reload), so a record offset of one file is never read as the other's.
    @Test func theLocationCacheFollowsTheDatabase() throws {
        let a = GeoSources(database: try GeoFixtures.open("GeoIP2-Country-Test.mmdb"), cidrMap: nil)
        let b = GeoSources(database: try GeoFixtures.open("GeoLite2-City-Test.mmdb"), cidrMap: nil)
        var cache = GeoCache()
        for round in 0..<3 {
            for sources in [a, b, a] {
                for address in ["81.2.69.160", "2001:218::1", "89.160.20.112", "216.160.83.56", "192.0.2.1"] {
                    let key = ClientKey(client: ip(address), subnet: nil)
                    #expect(sources.locate(key, cache: &cache) == sources.locate(key), "\(address), round \(round)")
                }
            }
        }
    }

    // MARK: latency

    @Test(arguments: [(100, 85, false), (100, 79, true), (3, 1, false), (300, 250, false), (300, 230, true), (20, 25, false)])
    func hysteresisNeedsBothARatioAndAMargin(_ incumbent: Int, _ challenger: Int, _ switches: Bool) {
        #expect(LatencyTable.shouldSwitch(from: .milliseconds(incumbent), to: .milliseconds(challenger)) == switches)
    }

    static func latency(_ samples: [(String, String, Int)], previous: [String: String] = [:]) -> LatencyInput {
        LatencyInput(localNode: "n-eu", nodes: [.init(name: "n-eu", region: "eu-west", latitude: 51.5, longitude: -0.1),
                                                .init(name: "n-ap", region: "ap-northeast", latitude: 35.7, longitude: 139.7)],
                     samples: samples.map { .init(node: $0.0, service: "www.glb.example.", cluster: $0.1, rtt: .milliseconds($0.2)) },
                     previousLeaders: previous)
    }

    @Test func latencyAnswersTheNearestNodesFastestCluster() {
        let input = Self.latency([("n-eu", "eu", 10), ("n-eu", "us", 80), ("n-ap", "ap", 5), ("n-ap", "eu", 200)])
        // No location: this node (n-eu) ranks eu first.
        #expect(Self.route(Self.snapshot(latency: input, policy: .latency), client: "192.0.2.1").clusters == ["eu"])
        // A client placed near Tokyo by the CIDR map: n-ap's ranking.
        let tokyo = Self.route(Self.snapshot(latency: input, policy: .latency), client: "10.7.0.1")
        #expect(tokyo.clusters == ["ap"])
        #expect(tokyo.decision.latencyNode == 1)
        // ap down: n-ap's next.
        #expect(Self.route(Self.snapshot(down: ["ap"], latency: input, policy: .latency), client: "10.7.0.1").clusters == ["eu"])
    }

    @Test func aSlightlyFasterChallengerDoesNotTakeOverButAMuchFasterOneDoes() {
        let snapshot = Self.snapshot(latency: Self.latency([("n-eu", "eu", 20), ("n-eu", "se", 18)], previous: ["n-eu/www.glb.example.": "eu"]),
                                     policy: .latency)
        #expect(Self.route(snapshot, client: "192.0.2.1").clusters == ["eu"], "18 ms vs 20 ms is noise")
        #expect(snapshot.latency.leaders["n-eu/www.glb.example."] == "eu")
        let faster = Self.snapshot(latency: Self.latency([("n-eu", "eu", 20), ("n-eu", "se", 9)], previous: ["n-eu/www.glb.example.": "eu"]),
                                   policy: .latency)
        #expect(Self.route(faster, client: "192.0.2.1").clusters == ["se"], "9 ms vs 20 ms is real")
        #expect(faster.latency.leaders["n-eu/www.glb.example."] == "se")
    }

    @Test func withoutRTTLatencyFallsBackToTheNearestClusterByDistance() {
        let input = LatencyInput(localNode: "n-eu", nodes: [.init(name: "n-eu", region: "eu-west", latitude: 59.0, longitude: 18.0)], samples: [])
        // The client has no coordinates: the node's (Stockholm) picks se.
        #expect(Self.route(Self.snapshot(latency: input, policy: .latency), client: "192.0.2.1").clusters == ["se"])
        // A Tokyo client: ap.
        #expect(Self.route(Self.snapshot(latency: input, policy: .latency), client: "10.7.0.1").clusters == ["ap"])
    }
}

/// The CIDR map's parser and longest-prefix lookup.
@Suite struct CIDRMapTests {
    @Test func longestPrefixWins() throws {
        let map = try CIDRMap.parse("10.0.0.0/8 wide\n10.1.0.0/16 narrow\n10.1.2.0/24 narrowest\n2001:db8::/32 v6\n0.0.0.0/0 everything\n")
        #expect(map.lookup(ip("10.1.2.3")).map { map.entries[$0].region } == "narrowest")
        #expect(map.lookup(ip("10.1.3.3")).map { map.entries[$0].region } == "narrow")
        #expect(map.lookup(ip("10.2.0.1")).map { map.entries[$0].region } == "wide")
        #expect(map.lookup(ip("192.0.2.1")).map { map.entries[$0].region } == "everything")
        #expect(map.lookup(ip("2001:db8::1")).map { map.entries[$0].region } == "v6")
        #expect(map.lookup(ip("2001:db9::1")) == nil)
        #expect(map.longestV4 == 24 && map.longestV6 == 32)
    }

    @Test(arguments: [
        ("10.1.0.0 eu", "line 1: expected a network"),
        ("10.1.0.1/16 eu", "did you mean 10.1.0.0/16"),
        ("10.1.0.0/33 eu", "expected a network"),
        ("10.1.0.0/16", "says nothing"),
        ("10.1.0.0/16 country=GBR", "ISO 3166-1"),
        ("10.1.0.0/16 continent=XX", "AF AN AS EU NA OC SA"),
        ("10.1.0.0/16 lat=1", "both lat and long"),
        ("10.1.0.0/16 colour=red", "unknown key"),
        ("# ok\n10.1.0.0/16 a\n10.1.0.0/16 b", "line 3: 10.1.0.0/16 is already mapped on line 2"),
    ])
    func badLinesAreRefusedWithTheirLineNumber(_ text: String, _ message: String) {
        #expect(throws: CIDRMap.ParseError.self) { try CIDRMap.parse(text) }
        do { _ = try CIDRMap.parse(text) } catch { #expect("\(error)".contains(message), "\(error)") }
    }
}
