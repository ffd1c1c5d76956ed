import Foundation
import GLBCore
import GLBTestSupport
import Store
import Testing

@Suite struct StoreVersionTests {
    let admin = StoreFixture.admin

    @Test func versionsIncreaseStrictlyEvenWithinOneMillisecond() async throws {
        try await withStore { fixture async throws in
            try await fixture.seed()
            var versions: [HLCTimestamp] = []
            for weight in 0..<5 {
                let cluster = Cluster(service: "www", name: "eu", region: "eu-west", addresses: ["127.0.0.11"], port: 18081, weight: weight)
                versions.append(try await fixture.store.putCluster(cluster, context: admin).record.version)
            }
            #expect(zip(versions, versions.dropFirst()).allSatisfy { $0 < $1 })
            #expect(try await fixture.store.configVersion() == versions.last)
        }
    }

    @Test func versionsKeepIncreasingAcrossReopenWhenTheWallClockGoesBackwards() async throws {
        let fixture = try StoreFixture()
        defer { fixture.directory.remove() }
        try await fixture.seed()
        let before = try await fixture.store.configVersion()
        await fixture.store.close()
        fixture.clock.setWall(fixture.clock.wallMilliseconds - 3_600_000)   // NTP stepped back an hour
        let store = try fixture.reopen()
        #expect(try await store.configVersion() == before)
        let zone = try await store.putZone(Zone(name: "other.example."), context: admin).record
        #expect(zone.version > before)
        await store.close()
    }

    @Test func aPutWithUnchangedContentGetsANewVersionButNoAuditEntry() async throws {
        try await withStore { fixture async throws in
            let first = try await fixture.store.putZone(Zone(name: "glb.example."), context: admin)
            let second = try await fixture.store.putZone(Zone(name: "glb.example."), context: admin)
            #expect(second.record.version > first.record.version)
            #expect(!second.created && second.previous == first.record)
            #expect(try await fixture.store.auditLog().count == 1)
        }
    }

    @Test func auditEntriesRecordWhoWhatAndTheOldAndNewJSON() async throws {
        try await withStore { fixture async throws in
            let store = fixture.store
            try await fixture.seed()
            let context = WriteContext(actor: "token:ops", source: "192.0.2.7")
            fixture.clock.advance(by: .seconds(1))
            let eu = Cluster(service: "www", name: "eu", region: "eu-west", addresses: ["127.0.0.11"], port: 18081, weight: 50)
            _ = try await store.putCluster(eu, context: context)
            let entries = try await store.auditLog(limit: 10, entity: "cluster", key: "www/eu")
            #expect(entries.count == 2)
            let latest = try #require(entries.first)
            #expect(latest.actor == "token:ops" && latest.source == "192.0.2.7" && latest.action == "put")
            #expect(latest.atMS == fixture.clock.wallMilliseconds)
            #expect(latest.oldValue?.contains("\"weight\":100") == true)
            #expect(latest.newValue?.contains("\"weight\":50") == true)
            #expect(latest.newValue?.contains("\"addresses\":[\"127.0.0.11\"]") == true)
            #expect(entries[1].oldValue == nil && entries[1].id < latest.id)
            #expect(try await store.auditLog(limit: 1).map(\.id) == [latest.id])
            #expect(try await store.auditLog(entity: "zone").map(\.key) == ["glb.example."])
        }
    }

    @Test func changesYieldsTheNewVersionAfterAWrite() async throws {
        try await withStore { fixture async throws in
            var changes = fixture.store.changes.makeAsyncIterator()
            let zone = try await fixture.store.putZone(Zone(name: "glb.example."), context: admin).record
            #expect(await changes.next() == zone.version)
            // A delete that finds nothing writes nothing and yields nothing; the next write does.
            _ = try await fixture.store.deleteZone(named: "missing.example.", context: admin)
            let deleted = try await fixture.store.deleteZone(named: "glb.example.", context: admin)
            #expect(deleted != nil)
            #expect(await changes.next() == (try await fixture.store.configVersion()))
        }
    }

    @Test func aWriteAfterCloseFailsWithAClearError() async throws {
        let fixture = try StoreFixture()
        defer { fixture.directory.remove() }
        await fixture.store.close()
        let error = await storeError { () throws(StoreError) in
            try await fixture.store.putZone(Zone(name: "glb.example."), context: admin)
        }
        #expect(error?.kind == .database)
        #expect(error?.message.contains("closed") == true)
        let read = await storeError { () throws(StoreError) in try await fixture.store.zones() }
        #expect(read?.kind == .database)
        var changes = fixture.store.changes.makeAsyncIterator()
        #expect(await changes.next() == nil)
    }

    @Test func recordsEncodeWithSnakeCaseKeysAndDecodeWithDefaults() throws {
        let json = #"{"zone":"glb.example.","policy":"weighted","ttl":30,"check":{"type":"http","path":"/healthz","interval_ms":1000,"fall":2,"rise":2}}"#
        let service = try JSONDecoder().decode(Service.self, from: Data(json.utf8))
        #expect(service.check.timeoutMS == 1000 && service.check.expectStatus == "200-399" && service.answers == 1)
        let cluster = try JSONDecoder().decode(Cluster.self, from: Data(#"{"region":"eu-west","address":"127.0.0.11","port":18081,"weight":100}"#.utf8))
        #expect(cluster.addresses == ["127.0.0.11"] && cluster.state == .active)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(service), as: UTF8.self)
        for key in ["\"fail_closed\"", "\"interval_ms\"", "\"timeout_ms\"", "\"expect_status\"", "\"tls_verify\""] {
            #expect(text.contains(key), "\(key)")
        }
        let roundTrip = try JSONDecoder().decode(Service.self, from: Data(text.utf8))
        #expect(roundTrip == service)
    }
}
