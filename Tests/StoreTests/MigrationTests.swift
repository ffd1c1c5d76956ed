import GLBCore
import GLBTestSupport
@testable import Store
import Testing

@Suite struct MigrationTests {
    @Test func aFreshFileGetsEveryTableAndTheLatestUserVersion() async throws {
        let fixture = try StoreFixture()
        defer { fixture.directory.remove() }
        await fixture.store.close()
        let connection = try Connection(path: fixture.path)
        #expect(try connection.scalarInt("PRAGMA user_version") == Int64(Migrations.latest))
        let tables = try connection.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") {
            $0.text(0)
        }
        #expect(tables == ["audit", "canaries", "clusters", "health_events", "nodes", "services", "zones"])
        connection.close()
    }

    @Test func reopeningAMigratedFileChangesNothingAndKeepsData() async throws {
        let fixture = try StoreFixture()
        defer { fixture.directory.remove() }
        try await fixture.seed()
        await fixture.store.close()
        for _ in 0..<2 {
            let store = try fixture.reopen()
            #expect(try await store.clusters(service: "www").map(\.name) == ["eu", "us"])
            #expect(try await store.pragma("user_version") == String(Migrations.latest))
            await store.close()
        }
    }

    /// Migration 6 rebuilds the audit table to allow `patch`: a file at schema 5 keeps every
    /// entry with its id, and new ids carry on after the old ones.
    @Test func theAuditRebuildKeepsEveryEntryAndItsIDs() async throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        let path = directory.path + "/old.sqlite"
        let connection = try Connection(path: path)
        for number in 1...5 { try connection.execute(Migrations.all[number - 1]) }
        try connection.execute("PRAGMA user_version = 5")
        for id in [7, 9] {
            try connection.execute("INSERT INTO audit (id, at_ms, actor, source, action, entity, key, old_value, new_value) VALUES (\(id), 1, 'a', 's', 'put', 'zone', 'z.', NULL, '{}')")
        }
        connection.close()

        let store = try Store(path: path, nodeID: "n1", clock: ManualClock())
        #expect(try await store.pragma("user_version") == String(Migrations.latest))
        _ = try await store.putZone(Zone(name: "glb.example.", nameservers: ["ns1.glb.example."]), context: WriteContext(actor: "t", source: "t"))
        _ = try await store.patchZone(named: "glb.example.", context: WriteContext(actor: "t", source: "t")) { zone in
            var zone = zone
            zone.ttl = 600
            return zone
        }
        let entries = try await store.auditLog(limit: 10)
        #expect(entries.map(\.id).sorted() == [7, 9, 10, 11])
        #expect(entries.map(\.action).sorted() == ["patch", "put", "put", "put"])
        await store.close()
    }

    @Test func aFileFromANewerGLBIsRefused() async throws {
        let fixture = try StoreFixture()
        defer { fixture.directory.remove() }
        await fixture.store.close()
        let connection = try Connection(path: fixture.path)
        try connection.execute("PRAGMA user_version = 99")
        connection.close()
        let error = await storeError { () throws(StoreError) in try fixture.reopen() }
        #expect(error?.kind == .database)
        #expect(error?.message.contains("newer") == true)
    }

    @Test func journalModeIsWALAndSynchronousIsFull() async throws {
        try await withStore { fixture async throws in
            #expect(try await fixture.store.pragma("journal_mode") == "wal")
            #expect(try await fixture.store.pragma("synchronous") == "2")
            #expect(try await fixture.store.pragma("foreign_keys") == "1")
        }
    }

    @Test func aFailedStatementIsRolledBackAndTheFirstErrorIsRethrown() throws {
        let directory = try TempDirectory()
        defer { directory.remove() }
        let connection = try Connection(path: directory.file("t.sqlite"))
        defer { connection.close() }
        try connection.execute("CREATE TABLE t (x INTEGER NOT NULL CHECK (x > 0)) STRICT")
        let error = #expect(throws: StoreError.self) {
            try connection.transaction { () throws(StoreError) in
                try connection.run("INSERT INTO t (x) VALUES (?)", [.integer(1)])
                try connection.run("INSERT INTO t (x) VALUES (?)", [.integer(-1)])
            }
        }
        #expect(error?.kind == .invalid)
        #expect(error?.sql == "INSERT INTO t (x) VALUES (?)")
        #expect(try connection.scalarInt("SELECT count(*) FROM t") == 0)
        // The evicted statement is prepared again and works.
        try connection.run("INSERT INTO t (x) VALUES (?)", [.integer(2)])
        #expect(try connection.scalarInt("SELECT count(*) FROM t") == 1)
    }
}
