import GLBCore
import GLBTestSupport
@testable import Store
import Testing

/// Last-writer-wins merges of rows from peers (`apply(remote:)`) and the feed that sends local
/// rows out (`changes(since:)`).
@Suite struct StoreReplicationTests {
    /// A cluster row `www/eu` as some node wrote it.
    struct Write: Sendable, CustomStringConvertible {
        let ms: Int64
        let origin: String
        var deleted = false
        var weight = 100

        var row: ReplicatedRow {
            .cluster(Cluster(service: "www", name: "eu", region: "eu-west", addresses: ["127.0.0.11"], port: 18081, weight: weight,
                             version: HLCTimestamp(wallMilliseconds: ms, logical: 0), origin: origin), deleted: deleted)
        }
        var description: String { "\(deleted ? "tombstone" : "put w=\(weight)")@\(ms)/\(origin)" }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let local: Write?
        let remote: Write
        let applied: Bool
        /// The weight of the live row afterwards; nil when there is none.
        let live: Int?
        var testDescription: String { name }
    }

    static let t = Int64(1_900_000_000_000)
    static let cases: [Case] = [
        Case(name: "a put for a row never seen is stored", local: nil, remote: Write(ms: t, origin: "b", weight: 7), applied: true, live: 7),
        Case(name: "a newer put wins", local: Write(ms: t, origin: "b"), remote: Write(ms: t + 1, origin: "a", weight: 7), applied: true, live: 7),
        Case(name: "an older put is ignored", local: Write(ms: t, origin: "b"), remote: Write(ms: t - 1, origin: "z", weight: 7), applied: false, live: 100),
        Case(name: "equal versions: the greater origin wins", local: Write(ms: t, origin: "b"), remote: Write(ms: t, origin: "c", weight: 7), applied: true, live: 7),
        Case(name: "equal versions: the lesser origin loses", local: Write(ms: t, origin: "b"), remote: Write(ms: t, origin: "a", weight: 7), applied: false, live: 100),
        Case(name: "the same write again is ignored", local: Write(ms: t, origin: "b"), remote: Write(ms: t, origin: "b", weight: 7), applied: false, live: 100),
        Case(name: "a tombstone beats an older put", local: Write(ms: t, origin: "b"), remote: Write(ms: t + 1, origin: "a", deleted: true), applied: true, live: nil),
        Case(name: "an older tombstone is ignored", local: Write(ms: t, origin: "b"), remote: Write(ms: t - 1, origin: "a", deleted: true), applied: false, live: 100),
        Case(name: "a newer put resurrects a tombstone", local: Write(ms: t, origin: "b", deleted: true), remote: Write(ms: t + 1, origin: "a", weight: 7), applied: true, live: 7),
        Case(name: "an older put stays dead", local: Write(ms: t, origin: "b", deleted: true), remote: Write(ms: t - 1, origin: "a", weight: 7), applied: false, live: nil),
        Case(name: "a tombstone for a row never seen is kept", local: nil, remote: Write(ms: t, origin: "b", deleted: true), applied: true, live: nil),
    ]

    static func parents(_ store: Store) async throws {
        _ = try await store.putZone(Zone(name: "glb.example."), context: StoreFixture.admin)
        _ = try await store.putService(Service(name: "www", zone: "glb.example."), context: StoreFixture.admin)
    }

    @Test(arguments: cases)
    func lastWriterWins(_ c: Case) async throws {
        try await withStore { fixture in
            try await Self.parents(fixture.store)
            if let local = c.local { #expect(try await fixture.store.apply(remote: [local.row]).applied == 1) }
            let outcome = try await fixture.store.apply(remote: [c.remote.row])
            #expect(outcome.applied == (c.applied ? 1 : 0))
            #expect(outcome.ignored == (c.applied ? 0 : 1))
            #expect(try await fixture.store.cluster(service: "www", name: "eu")?.weight == c.live)
            let winner = c.applied ? c.remote : try #require(c.local)
            let stored = try #require(try await fixture.store.changes(since: .zero).first { $0.entity == "cluster" })
            #expect(stored.version == winner.row.version)
            #expect(stored.origin == winner.origin)
            #expect(stored.deleted == winner.deleted)
        }
    }

    @Test func twoStoresConvergeWhateverTheOrderRowsArriveIn() async throws {
        let writes = [Write(ms: Self.t, origin: "a", weight: 1), Write(ms: Self.t + 2, origin: "b", deleted: true),
                      Write(ms: Self.t + 3, origin: "c", weight: 3), Write(ms: Self.t + 3, origin: "a", weight: 4)]
        var finals: [ReplicatedRow] = []
        for order in [writes, writes.reversed(), [writes[2], writes[0], writes[3], writes[1]]] {
            try await withStore { fixture in
                try await Self.parents(fixture.store)
                for write in order { _ = try await fixture.store.apply(remote: [write.row]) }
                finals.append(try #require(try await fixture.store.changes(since: .zero).first { $0.entity == "cluster" }))
            }
        }
        #expect(finals.allSatisfy { $0 == finals[0] })
        #expect(finals[0] == writes[2].row, "(t+3, c) beats (t+3, a)")
    }

    @Test func aChildBeforeItsParentIsAnOrphanUntilTheParentArrives() async throws {
        try await withStore { fixture in
            let zone = ReplicatedRow.zone(Zone(name: "glb.example.", version: HLCTimestamp(wallMilliseconds: Self.t, logical: 0), origin: "b"), deleted: false)
            let service = ReplicatedRow.service(Service(name: "www", zone: "glb.example.", version: HLCTimestamp(wallMilliseconds: Self.t, logical: 1), origin: "b"), deleted: false)
            let cluster = Write(ms: Self.t + 1, origin: "b").row
            let first = try await fixture.store.apply(remote: [cluster])
            #expect(first.applied == 0)
            #expect(first.orphans == [cluster])
            // In one batch, parents go first whatever order they came in.
            let second = try await fixture.store.apply(remote: [cluster, service, zone])
            #expect(second.applied == 3)
            #expect(second.orphans.isEmpty)
            #expect(try await fixture.store.cluster(service: "www", name: "eu") != nil)
        }
    }

    @Test func appliedRowsAreAuditedAsTheirOriginAndLaterLocalWritesOrderAfterThem() async throws {
        try await withStore { fixture in
            try await Self.parents(fixture.store)
            let ahead = Write(ms: fixture.clock.wallMilliseconds + 60_000, origin: "us-1")    // a peer whose clock runs a minute ahead
            _ = try await fixture.store.apply(remote: [ahead.row])
            let entry = try #require(try await fixture.store.auditLog(limit: 1).first)
            #expect(entry.actor == "node:us-1")
            #expect(entry.source == "gossip")
            #expect(entry.key == "www/eu")
            let local = try await fixture.store.putCluster(Cluster(service: "www", name: "eu", region: "eu-west", addresses: ["127.0.0.11"], port: 1),
                                                           context: StoreFixture.admin)
            #expect(local.record.version > ahead.row.version, "the HLC observed the remote version")
            #expect(try await fixture.store.originVersions()["eu-1"] == local.record.version)
        }
    }

    @Test func changesSinceListsTombstonesAndOnlyNewerRows() async throws {
        try await withStore { fixture in
            try await fixture.seed()
            let middle = try await fixture.store.configVersion()
            _ = try await fixture.store.deleteService(named: "www", context: StoreFixture.admin)
            let rows = try await fixture.store.changes(since: middle)
            #expect(Set(rows.map { "\($0.entity) \($0.key) \($0.deleted)" }) == ["service www true", "cluster www/eu true", "cluster www/us true"])
            #expect(rows.first?.entity == "service", "parents first at one version")
            #expect(try await fixture.store.changes(since: .zero).count == 4)
        }
    }
}

extension StoreReplicationTests {
    @Test func aSeededZoneLosesToAnyRealWriteAndNeverReplacesARow() async throws {
        try await withStore { (fixture: StoreFixture) async throws in
            let context = WriteContext(actor: "node:eu-1", source: "glb agent --zone")
            #expect(try await fixture.store.seedZone(Zone(name: "glb.example."), context: context))
            #expect(try await fixture.store.zone(named: "glb.example.")?.version == Store.seedVersion)
            #expect(try await fixture.store.auditLog(limit: 1).first?.source == "glb agent --zone")
            let tuned = ReplicatedRow.zone(Zone(name: "glb.example.", ttl: 60, version: HLCTimestamp(wallMilliseconds: Self.t, logical: 0), origin: "us-1"),
                                           deleted: false)
            #expect(try await fixture.store.apply(remote: [tuned]).applied == 1, "an operator's zone from a peer wins over the seed")
            #expect(try await fixture.store.seedZone(Zone(name: "glb.example."), context: context) == false)
            #expect(try await fixture.store.zone(named: "glb.example.")?.ttl == 60)
        }
    }
}
