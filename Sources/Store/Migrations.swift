/// The schema, as numbered migrations in code (after GRDB's `DatabaseMigrator`).
///
/// Migration `n` moves the file from `PRAGMA user_version = n - 1` to `n`, inside one
/// transaction together with the `user_version` update, so a crash leaves either the old schema
/// or the new one (https://sqlite.org/pragma.html#pragma_user_version: an integer in the
/// database header "not used internally by SQLite", free for the application). Append only:
/// never edit a migration that has shipped; add the next one.
///
/// Every replicated table carries `version` (an HLC timestamp as INTEGER), `origin` (the node
/// that wrote the row) and `deleted` (a tombstone flag: rows are never removed, so gossip can
/// replicate deletes), and an index on `version` for "changes since". Tables are STRICT
/// (https://sqlite.org/stricttables.html, SQLite 3.37+) so a wrongly typed value fails loudly.
enum Migrations {
    /// Index `i` holds migration `i + 1`.
    static let all: [String] = [
        """
        CREATE TABLE zones (
            name TEXT PRIMARY KEY NOT NULL,
            ttl INTEGER NOT NULL CHECK (ttl BETWEEN 0 AND 86400),
            negative_ttl INTEGER NOT NULL CHECK (negative_ttl BETWEEN 0 AND 86400),
            nameservers TEXT NOT NULL DEFAULT '[]',
            hostmaster TEXT NOT NULL,
            version INTEGER NOT NULL,
            origin TEXT NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
        ) STRICT;
        CREATE INDEX zones_version ON zones (version);

        CREATE TABLE services (
            name TEXT PRIMARY KEY NOT NULL,
            zone TEXT NOT NULL REFERENCES zones (name),
            policy TEXT NOT NULL CHECK (policy IN ('weighted', 'failover', 'geo', 'latency', 'all')),
            ttl INTEGER NOT NULL CHECK (ttl BETWEEN 0 AND 86400),
            mode TEXT NOT NULL CHECK (mode IN ('dns', 'proxy')),
            fail_closed INTEGER NOT NULL CHECK (fail_closed IN (0, 1)),
            answers INTEGER NOT NULL CHECK (answers BETWEEN 1 AND 16),
            health_check TEXT NOT NULL,
            version INTEGER NOT NULL,
            origin TEXT NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
        ) STRICT;
        CREATE INDEX services_version ON services (version);
        CREATE INDEX services_zone ON services (zone);

        CREATE TABLE clusters (
            service TEXT NOT NULL REFERENCES services (name),
            name TEXT NOT NULL,
            region TEXT NOT NULL CHECK (region <> ''),
            addresses TEXT NOT NULL,
            port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
            weight INTEGER NOT NULL CHECK (weight BETWEEN 0 AND 1000000),
            priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 1000),
            state TEXT NOT NULL CHECK (state IN ('active', 'draining', 'disabled')),
            latitude REAL CHECK (latitude BETWEEN -90 AND 90),
            longitude REAL CHECK (longitude BETWEEN -180 AND 180),
            version INTEGER NOT NULL,
            origin TEXT NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
            PRIMARY KEY (service, name),
            CHECK ((latitude IS NULL) = (longitude IS NULL))
        ) STRICT;
        CREATE INDEX clusters_version ON clusters (version);

        CREATE TABLE canaries (
            service TEXT PRIMARY KEY NOT NULL REFERENCES services (name),
            cluster TEXT NOT NULL,
            percent REAL NOT NULL CHECK (percent BETWEEN 0 AND 100),
            version INTEGER NOT NULL,
            origin TEXT NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
            FOREIGN KEY (service, cluster) REFERENCES clusters (service, name)
        ) STRICT;
        CREATE INDEX canaries_version ON canaries (version);

        CREATE TABLE nodes (
            name TEXT PRIMARY KEY NOT NULL,
            region TEXT NOT NULL,
            gossip_address TEXT NOT NULL,
            addresses TEXT NOT NULL DEFAULT '[]',
            last_seen_ms INTEGER NOT NULL,
            version INTEGER NOT NULL,
            origin TEXT NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
        ) STRICT;
        CREATE INDEX nodes_version ON nodes (version);

        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at_ms INTEGER NOT NULL,
            actor TEXT NOT NULL,
            source TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('put', 'delete')),
            entity TEXT NOT NULL,
            key TEXT NOT NULL,
            old_value TEXT,
            new_value TEXT
        ) STRICT;
        CREATE INDEX audit_entity_key ON audit (entity, key, id);
        """,
        // 2: glue for in-zone nameservers, so the NS answer can carry their addresses.
        """
        ALTER TABLE zones ADD COLUMN glue TEXT NOT NULL DEFAULT '{}';
        """,
        // 3: health transitions, the node's event history (append-only, local, pruned).
        """
        CREATE TABLE health_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at_ms INTEGER NOT NULL,
            node TEXT NOT NULL,
            target TEXT NOT NULL,
            from_status TEXT NOT NULL,
            to_status TEXT NOT NULL,
            reason TEXT NOT NULL,
            rtt_us INTEGER
        ) STRICT;
        CREATE INDEX health_events_target ON health_events (target, id);
        """,
        // 4: https clusters: the proxy speaks TLS to them, with SNI and verification.
        """
        ALTER TABLE clusters ADD COLUMN tls INTEGER NOT NULL DEFAULT 0 CHECK (tls IN (0, 1));
        ALTER TABLE clusters ADD COLUMN tls_server_name TEXT;
        ALTER TABLE clusters ADD COLUMN tls_verify INTEGER NOT NULL DEFAULT 1 CHECK (tls_verify IN (0, 1));
        """,
        // 5: geo routing lists per cluster (JSON arrays of two-letter codes).
        """
        ALTER TABLE clusters ADD COLUMN countries TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE clusters ADD COLUMN continents TEXT NOT NULL DEFAULT '[]';
        """,
        // 6: partial updates (PATCH) are audited as `patch`. SQLite cannot alter a CHECK
        // constraint, so the table is rebuilt (https://sqlite.org/lang_altertable.html#otheralter);
        // ids are kept, and the rename carries the AUTOINCREMENT counter with it.
        """
        CREATE TABLE audit_new (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at_ms INTEGER NOT NULL,
            actor TEXT NOT NULL,
            source TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('put', 'patch', 'delete')),
            entity TEXT NOT NULL,
            key TEXT NOT NULL,
            old_value TEXT,
            new_value TEXT
        ) STRICT;
        INSERT INTO audit_new (id, at_ms, actor, source, action, entity, key, old_value, new_value)
            SELECT id, at_ms, actor, source, action, entity, key, old_value, new_value FROM audit;
        DROP TABLE audit;
        ALTER TABLE audit_new RENAME TO audit;
        CREATE INDEX audit_entity_key ON audit (entity, key, id);
        """,
    ]

    /// The schema version this build writes.
    static var latest: Int { all.count }

    /// Applies every migration the file lacks, each in its own transaction. Refuses a file
    /// written by a newer build, rather than guess at a schema it does not know.
    static func migrate(_ connection: Connection) throws(StoreError) {
        let current = Int(try connection.scalarInt("PRAGMA user_version") ?? 0)
        guard current <= latest else {
            throw StoreError(kind: .database,
                             message: "\(connection.path) has schema version \(current), newer than this glb's \(latest); upgrade glb or use another data directory")
        }
        for number in (current + 1)..<(latest + 1) {
            try connection.transaction { () throws(StoreError) in
                try connection.execute(all[number - 1])
                try connection.execute("PRAGMA user_version = \(number)")
            }
        }
    }
}
