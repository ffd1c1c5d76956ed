import GLBCore
import GLBTestSupport
@testable import Store
import Testing

/// Tombstones are collected once older than the grace, and never while something still
/// references them.
@Suite struct StoreTombstoneTests {
    static func count(_ store: Store) async throws -> (live: Int, tombstones: Int) {
        let rows = try await store.changes(since: .zero)
        return (rows.filter { !$0.deleted }.count, rows.filter(\.deleted).count)
    }

    @Test func aTombstoneGoesOnlyOnceOlderThanTheCutoff() async throws {
        let f = try StoreFixture()
        try await f.seed()
        f.clock.advance(by: .seconds(60))
        _ = try await f.store.deleteCluster(service: "www", name: "us", context: StoreFixture.admin)
        let deletedAt = try await f.store.configVersion()
        #expect(try await Self.count(f.store) == (live: 3, tombstones: 1))

        #expect(try await f.store.collectTombstones(olderThan: deletedAt) == 0, "not older than the cutoff yet")
        f.clock.advance(by: .seconds(3600))
        let cutoff = HLCTimestamp(wallMilliseconds: f.clock.wallMilliseconds, logical: 0)
        #expect(try await f.store.collectTombstones(olderThan: cutoff) == 1)
        #expect(try await Self.count(f.store) == (live: 3, tombstones: 0), "live rows stay")
        #expect(try await f.store.cluster(service: "www", name: "eu") != nil)
        await f.tearDown()
    }

    @Test func aDeletedServiceGoesWithItsClustersAndCanaryInOnePass() async throws {
        let f = try StoreFixture()
        try await f.seed()
        _ = try await f.store.setCanary(CanarySplit(service: "www", cluster: "us", percent: 10), context: StoreFixture.admin)
        _ = try await f.store.deleteService(named: "www", context: StoreFixture.admin)
        #expect(try await Self.count(f.store) == (live: 1, tombstones: 4))
        f.clock.advance(by: .seconds(10))
        let cutoff = HLCTimestamp(wallMilliseconds: f.clock.wallMilliseconds, logical: 0)
        #expect(try await f.store.collectTombstones(olderThan: cutoff) == 4)
        #expect(try await Self.count(f.store) == (live: 1, tombstones: 0), "only the zone is left")
        // The name is free again: a new service of that name is a fresh create.
        let again = try await f.store.putService(Service(name: "www", zone: "glb.example."), context: StoreFixture.admin)
        #expect(again.created)
        await f.tearDown()
    }

    @Test func aParentTombstoneStaysWhileANewerChildTombstoneReferencesIt() async throws {
        let f = try StoreFixture()
        try await f.seed()
        _ = try await f.store.deleteService(named: "www", context: StoreFixture.admin)
        let serviceGone = try await f.store.configVersion()
        // A peer's newer tombstone of a cluster of that service arrives (a concurrent delete).
        f.clock.advance(by: .seconds(10))
        let later = HLCTimestamp(wallMilliseconds: f.clock.wallMilliseconds, logical: 0)
        _ = try await f.store.apply(remote: [.cluster(Cluster(service: "www", name: "eu", region: "eu-west", addresses: ["127.0.0.11"],
                                                              port: 18081, version: later, origin: "us-1"), deleted: true)])
        let cutoff = HLCTimestamp(rawValue: serviceGone.rawValue + 1)
        #expect(try await f.store.collectTombstones(olderThan: cutoff) == 1, "only us, the older cluster tombstone")
        let remaining = try await f.store.changes(since: .zero).filter(\.deleted).map { $0.entity + "/" + $0.key }.sorted()
        #expect(remaining == ["cluster/www/eu", "service/www"])
        await f.tearDown()
    }
}
