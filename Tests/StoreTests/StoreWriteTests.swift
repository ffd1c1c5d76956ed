import GLBCore
import GLBTestSupport
import Store
import Testing

@Suite struct StoreWriteTests {
    let admin = StoreFixture.admin

    @Test func zonesCanBeCreatedReadReplacedAndDeleted() async throws {
        try await withStore { fixture async throws in
            let store = fixture.store
            let created = try await store.putZone(Zone(name: "glb.example.", origin: "ignored"), context: admin)
            #expect(created.created && created.previous == nil)
            #expect(created.record.origin == "eu-1" && created.record.version > .zero)
            #expect(try await store.zone(named: "glb.example.") == created.record)
            let replaced = try await store.putZone(Zone(name: "glb.example.", ttl: 600), context: admin)
            #expect(!replaced.created && replaced.previous == created.record)
            #expect(try await store.zones().map(\.ttl) == [600])
            #expect(try await store.deleteZone(named: "glb.example.", context: admin) == replaced.record)
            #expect(try await store.zone(named: "glb.example.") == nil)
            #expect(try await store.deleteZone(named: "glb.example.", context: admin) == nil)
        }
    }

    @Test func anHTTPSClusterKeepsItsTLSSettingsAndOthersDefaultToPlainAndVerified() async throws {
        try await withStore { fixture async throws in
            let store = fixture.store
            try await fixture.seed()
            #expect(try await store.cluster(service: "www", name: "eu").map { ($0.tls, $0.tlsServerName, $0.tlsVerify) } ?? (true, "", false) == (false, nil, true))
            let https = Cluster(service: "www", name: "secure", region: "eu-west", addresses: ["127.0.0.13"], port: 443,
                                tls: true, tlsServerName: "Origin.Example.COM.", tlsVerify: false)
            let stored = try await store.putCluster(https, context: admin).record
            #expect(stored.tlsServerName == "origin.example.com", "lower case, without the root's dot: as SNI carries it")
            #expect(try await store.cluster(service: "www", name: "secure") == stored)
            #expect(try await store.cluster(service: "www", name: "secure").map { ($0.tls, $0.tlsVerify) } ?? (false, true) == (true, false))
        }
    }

    @Test func servicesClustersCanariesAndNodesRoundTrip() async throws {
        try await withStore { fixture async throws in
            let store = fixture.store
            try await fixture.seed()
            let check = HealthCheck(type: .https, path: "/healthz", port: 8443, host: "www.example.com", intervalMS: 250, rise: 3,
                                    fall: 3, expectStatus: "200", bodyContains: "ok", tlsVerify: false)
            let service = try await store.putService(Service(name: "www", zone: "glb.example.", policy: .failover, mode: .proxy,
                                                             failClosed: true, answers: 2, check: check), context: admin).record
            #expect(try await store.service(named: "www") == service)
            #expect(try await store.services(zone: "glb.example.") == [service])
            #expect(try await store.services(zone: "other.example.") == [])
            let geo = Cluster(service: "www", name: "ap", region: "ap-south", addresses: ["::1", "192.0.2.1"], port: 443, weight: 0,
                              priority: 2, state: .draining, latitude: 1.35, longitude: 103.8)
            let stored = try await store.putCluster(geo, context: admin).record
            #expect(try await store.cluster(service: "www", name: "ap") == stored)
            #expect(try await store.clusters(service: "www").map(\.name) == ["ap", "eu", "us"])
            #expect(try await store.allClusters().count == 3)
            let canary = try await store.setCanary(CanarySplit(service: "www", cluster: "us", percent: 10), context: admin)
            #expect(canary.created && canary.record.percent == 10)
            #expect(try await store.canary(service: "www") == canary.record)
            #expect(try await store.clearCanary(service: "www", context: admin) == canary.record)
            #expect(try await store.canary(service: "www") == nil)
            #expect(try await store.clearCanary(service: "www", context: admin) == nil)
            let node = try await store.upsertNode(Node(name: "eu-1", region: "eu-west", gossipAddress: "10.0.0.1:7946",
                                                       addresses: ["10.0.0.1"], lastSeenMS: 42), context: admin).record
            #expect(try await store.nodes() == [node])
            #expect(try await store.deleteCluster(service: "www", name: "ap", context: admin) == stored)
            #expect(try await store.cluster(service: "www", name: "ap") == nil)
            let snapshot = try await store.configSnapshot()
            #expect(snapshot.zones.count == 1 && snapshot.services == [service] && snapshot.clusters.map(\.name) == ["eu", "us"])
            #expect(snapshot.nodes == [node] && snapshot.canaries.isEmpty)
            #expect(snapshot.version == (try await store.configVersion()))
        }
    }

    /// Not found, as a cluster of an unknown service is: the admin API answers 404, not 400.
    @Test func aServiceInAnUnknownZoneIsNotFoundAndChangesNothing() async throws {
        try await withStore { fixture async throws in
            let store = fixture.store
            let before = try await store.configVersion()
            let error = await storeError { () throws(StoreError) in
                try await store.putService(Service(name: "www", zone: "nowhere.example."), context: admin)
            }
            #expect(error?.kind == .notFound && error?.field == "zone")
            #expect(try await store.service(named: "www") == nil)
            #expect(try await store.auditLog().isEmpty)
            #expect(try await store.configVersion() == before)
        }
    }

    @Test func aRejectedClusterLeavesNoRowNoAuditAndNoNewVersion() async throws {
        try await withStore { fixture async throws in
            let store = fixture.store
            try await fixture.seed()
            let version = try await store.configVersion()
            let audit = try await store.auditLog()
            let bad = Cluster(service: "www", name: "ap", region: "ap", addresses: ["10.0.0.1"], port: 80, weight: -5)
            let error = await storeError { () throws(StoreError) in try await store.putCluster(bad, context: admin) }
            #expect(error?.kind == .invalid && error?.field == "weight")
            #expect(error?.message == "weight must be between 0 and 1000000, got -5")
            let orphan = Cluster(service: "api", name: "eu", region: "eu", addresses: ["10.0.0.1"], port: 80)
            let missing = await storeError { () throws(StoreError) in try await store.putCluster(orphan, context: admin) }
            #expect(missing?.kind == .notFound && missing?.field == "service")
            #expect(try await store.cluster(service: "www", name: "ap") == nil)
            #expect(try await store.auditLog() == audit)
            #expect(try await store.configVersion() == version)
        }
    }

    @Test func aDeletedClusterIsATombstoneAndAPutBringsItBack() async throws {
        try await withStore { fixture async throws in
            let store = fixture.store
            try await fixture.seed()
            let eu = try #require(try await store.cluster(service: "www", name: "eu"))
            _ = try await store.deleteCluster(service: "www", name: "eu", context: admin)
            let tombstoneVersion = try await store.configVersion()
            #expect(tombstoneVersion > eu.version)
            #expect(try await store.clusters(service: "www").map(\.name) == ["us"])
            let back = try await store.putCluster(eu, context: admin)
            #expect(back.created && back.previous == nil)
            #expect(back.record.version > tombstoneVersion)
            #expect(back.record.hasSameContent(as: eu))
        }
    }

    @Test func deletingAServiceTombstonesItsClustersAndCanaryInOneWrite() async throws {
        try await withStore { fixture async throws in
            let store = fixture.store
            try await fixture.seed()
            _ = try await store.setCanary(CanarySplit(service: "www", cluster: "us", percent: 10), context: admin)
            let deleted = try await store.deleteService(named: "www", context: admin)
            #expect(deleted?.name == "www")
            #expect(try await store.service(named: "www") == nil)
            #expect(try await store.clusters(service: "www").isEmpty)
            #expect(try await store.canary(service: "www") == nil)
            let entries = try await store.auditLog(limit: 4)
            #expect(entries.map(\.entity) == ["service", "cluster", "cluster", "canary"])
            #expect(entries.allSatisfy { $0.action == "delete" && $0.newValue == nil && $0.oldValue != nil })
            #expect(try await store.deleteService(named: "www", context: admin) == nil)
        }
    }

    @Test func aZoneInUseCannotBeDeleted() async throws {
        try await withStore { fixture async throws in
            let store = fixture.store
            try await fixture.seed()
            let error = await storeError { () throws(StoreError) in try await store.deleteZone(named: "glb.example.", context: admin) }
            #expect(error?.kind == .conflict)
            #expect(error?.message.contains("www") == true)
            #expect(try await store.zone(named: "glb.example.") != nil)
            _ = try await store.deleteService(named: "www", context: admin)
            #expect(try await store.deleteZone(named: "glb.example.", context: admin) != nil)
        }
    }

    @Test func theCanaryMustBeALiveClusterAndCannotBeDeletedUnderIt() async throws {
        try await withStore { fixture async throws in
            let store = fixture.store
            try await fixture.seed()
            let missing = await storeError { () throws(StoreError) in
                try await store.setCanary(CanarySplit(service: "www", cluster: "ap", percent: 10), context: admin)
            }
            #expect(missing?.kind == .notFound && missing?.field == "cluster")
            let noService = await storeError { () throws(StoreError) in
                try await store.setCanary(CanarySplit(service: "api", cluster: "us", percent: 10), context: admin)
            }
            #expect(noService?.kind == .notFound && noService?.field == "service")
            _ = try await store.setCanary(CanarySplit(service: "www", cluster: "us", percent: 10), context: admin)
            let busy = await storeError { () throws(StoreError) in try await store.deleteCluster(service: "www", name: "us", context: admin) }
            #expect(busy?.kind == .conflict)
            #expect(try await store.cluster(service: "www", name: "us") != nil)
        }
    }
}
