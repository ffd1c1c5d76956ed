import GLBCore
import Store
import Testing

private let goodCluster = Cluster(service: "www", name: "eu", region: "eu-west", addresses: ["127.0.0.11"], port: 18081)
private let goodService = Service(name: "www", zone: "glb.example.")

private func with<T>(_ value: T, _ change: (inout T) -> Void) -> T {
    var copy = value
    change(&copy)
    return copy
}

private func problem<R: ReplicatedRecord>(_ record: R) -> ValidationError? {
    do {
        _ = try record.validated()
        return nil
    } catch {
        return error
    }
}

@Suite struct ValidationTests {
    static let badClusters: [(Cluster, String, String)] = [
        (with(goodCluster) { $0.weight = -5 }, "weight", "weight must be between 0 and 1000000, got -5"),
        (with(goodCluster) { $0.weight = 1_000_001 }, "weight", "got 1000001"),
        (with(goodCluster) { $0.port = 0 }, "port", "port must be between 1 and 65535, got 0"),
        (with(goodCluster) { $0.port = 70_000 }, "port", "got 70000"),
        (with(goodCluster) { $0.addresses = ["10.0.0.300"] }, "addresses", "\"10.0.0.300\" is not an IPv4 or IPv6 address"),
        (with(goodCluster) { $0.addresses = ["example.com"] }, "addresses", "not an IPv4 or IPv6 address"),
        (with(goodCluster) { $0.tlsServerName = "origin.example.com" }, "tls_server_name", "tls_server_name is set but tls is false"),
        (with(goodCluster) { $0.tls = true; $0.tlsServerName = "bad name" }, "tls_server_name", "tls_server_name"),
        (with(goodCluster) { $0.addresses = [] }, "addresses", "between 1 and 32"),
        (with(goodCluster) { $0.addresses = Array(repeating: "10.0.0.1", count: 33) }, "addresses", "got 33"),
        (with(goodCluster) { $0.addresses = ["10.0.0.1", "10.0.0.1"] }, "addresses", "twice"),
        (with(goodCluster) { $0.priority = 1001 }, "priority", "between 0 and 1000"),
        (with(goodCluster) { $0.latitude = 10 }, "longitude", "set both latitude and longitude"),
        (with(goodCluster) { $0.longitude = 10 }, "latitude", "set both latitude and longitude"),
        (with(goodCluster) { $0.latitude = 91; $0.longitude = 0 }, "latitude", "between -90.0 and 90.0"),
        (with(goodCluster) { $0.latitude = 0; $0.longitude = .nan }, "longitude", "got nan"),
        (with(goodCluster) { $0.region = "" }, "region", "must not be empty"),
        (with(goodCluster) { $0.countries = ["GBR"] }, "countries", "ISO 3166-1 alpha-2"),
        (with(goodCluster) { $0.countries = ["gb", "GB"] }, "countries", "lists GB twice"),
        (with(goodCluster) { $0.continents = ["XX"] }, "continents", "AF AN AS EU NA OC SA"),
        (with(goodCluster) { $0.continents = ["E1"] }, "continents", "AF AN AS EU NA OC SA"),
        (with(goodCluster) { $0.region = "EU West" }, "region", "lowercase"),
        (with(goodCluster) { $0.name = "eu.west" }, "name", "single label"),
        (with(goodCluster) { $0.name = "EU" }, "name", "lowercase"),
        (with(goodCluster) { $0.service = "" }, "service", "must not be empty"),
    ]

    @Test(arguments: badClusters)
    func aBadClusterIsRejectedWithItsField(cluster: Cluster, field: String, message: String) {
        let error = problem(cluster)
        #expect(error?.field == field)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    /// Fields valid alone that contradict each other are inconsistencies (the admin API's 422);
    /// a field wrong on its own is not (400), so a client checking its body against the schema
    /// can tell which it will get.
    @Test func onlyFieldsThatContradictEachOtherAreInconsistencies() throws {
        let inconsistent: [ValidationError?] = [
            problem(with(goodCluster) { $0.latitude = 10 }),
            problem(with(goodCluster) { $0.tlsServerName = "origin" }),
            problem(with(goodCluster) { $0.addresses = ["::1", "0::1"] }),
            problem(with(goodCluster) { $0.countries = ["gb", "GB"] }),
            problem(with(goodService) { $0.check.intervalMS = 500; $0.check.timeoutMS = 501 }),
            problem(with(goodService) { $0.check.expectStatus = "399-200" }),
            problem(with(goodService) { $0.name = String(repeating: "a.", count: 125) + "a" }),
            problem(Zone(name: "glb.example.", nameservers: ["ns1.glb.example."], glue: ["ns2.glb.example.": ["192.0.2.1"]])),
            problem(Zone(name: String(repeating: "a", count: 62) + "." + String(repeating: "b", count: 62) + "." + String(repeating: "c", count: 62)
                            + "." + String(repeating: "d", count: 60) + ".")),
        ]
        for error in inconsistent { #expect(error?.isInconsistency == true, "\(String(describing: error))") }
        let invalid: [ValidationError?] = [
            problem(with(goodCluster) { $0.weight = -5 }),
            problem(with(goodCluster) { $0.countries = ["\u{DF}"] }),
            problem(with(goodService) { $0.check.path = "/caf\u{E9}" }),
            problem(with(goodService) { $0.check.host = "a\u{1C}b" }),
            problem(with(goodService) { $0.check.expectStatus = "200-700" }),
        ]
        for error in invalid { #expect(error != nil && error?.isInconsistency == false, "\(String(describing: error))") }
    }

    static let badServices: [(Service, String)] = [
        (with(goodService) { $0.name = "" }, "name"),
        (with(goodService) { $0.name = "www." }, "name"),
        (with(goodService) { $0.name = "a..b" }, "name"),
        (with(goodService) { $0.name = String(repeating: "a", count: 64) }, "name"),
        (with(goodService) { $0.name = "Www" }, "name"),
        (with(goodService) { $0.zone = "glb.example" }, "zone"),
        (with(goodService) { $0.ttl = -1 }, "ttl"),
        (with(goodService) { $0.ttl = 86_401 }, "ttl"),
        (with(goodService) { $0.answers = 0 }, "answers"),
        (with(goodService) { $0.answers = 17 }, "answers"),
        (with(goodService) { $0.check.path = "healthz" }, "check.path"),
        (with(goodService) { $0.check.intervalMS = 99 }, "check.interval_ms"),
        (with(goodService) { $0.check.intervalMS = 500; $0.check.timeoutMS = 501 }, "check.timeout_ms"),
        (with(goodService) { $0.check.rise = 0 }, "check.rise"),
        (with(goodService) { $0.check.fall = 101 }, "check.fall"),
        (with(goodService) { $0.check.expectStatus = "2xx" }, "check.expect_status"),
        (with(goodService) { $0.check.expectStatus = "399-200" }, "check.expect_status"),
        (with(goodService) { $0.check.expectStatus = "200-700" }, "check.expect_status"),
        (with(goodService) { $0.check.port = 0 }, "check.port"),
        (with(goodService) { $0.check.address = "nope" }, "check.address"),
    ]

    @Test(arguments: badServices)
    func aBadServiceIsRejectedWithItsField(service: Service, field: String) {
        #expect(problem(service)?.field == field)
    }

    static let badOthers: [(String, ValidationError?)] = [
        ("zone without trailing dot", problem(Zone(name: "glb.example"))),
        ("zone in upper case", problem(Zone(name: "GLB.example."))),
        ("zone ttl", problem(Zone(name: "glb.example.", ttl: -1))),
        ("nameserver not qualified", problem(Zone(name: "glb.example.", nameservers: ["ns1.glb.example"]))),
        ("canary percent", problem(CanarySplit(service: "www", cluster: "us", percent: 100.5))),
        ("canary cluster", problem(CanarySplit(service: "www", cluster: "", percent: 10))),
        ("node address", problem(Node(name: "eu-1", region: "eu-west", gossipAddress: "10.0.0.1:7946", addresses: ["x"]))),
        ("node gossip address", problem(Node(name: "eu-1", region: "eu-west", gossipAddress: ""))),
    ]

    @Test(arguments: badOthers)
    func otherBadRecordsAreRejected(name: String, error: ValidationError?) {
        #expect(error != nil, "\(name)")
    }

    @Test func goodRecordsPassAndAddressesAreNormalised() throws {
        #expect(problem(goodService) == nil)
        #expect(problem(Zone(name: "glb.example.")) == nil)
        let cluster = try with(goodCluster) { $0.addresses = ["2001:DB8:0:0::1", "10.0.0.1"] }.validated()
        #expect(cluster.addresses == ["2001:db8::1", "10.0.0.1"])
        // inet_pton rejects leading zeros: "010" could mean octal 8 to some other parser.
        #expect(problem(with(goodCluster) { $0.addresses = ["010.0.0.1"] })?.field == "addresses")
    }

    @Test func defaultsFollowTheSpec() {
        let zone = Zone(name: "glb.example.")
        #expect(zone.hostmaster == "hostmaster.glb.example.")
        #expect(zone.ttl == 300 && zone.negativeTTL == 30)
        #expect(HealthCheck(intervalMS: 500).timeoutMS == 500)
        #expect(HealthCheck(intervalMS: 10_000).timeoutMS == 2000)
        #expect(goodService.fqdn == "www.glb.example.")
    }
}
