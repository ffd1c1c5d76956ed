extension Store {
    /// Creates or replaces a node's row. The row's `origin` is the node that wrote it (this
    /// store's node id), not the node described.
    package func upsertNode(_ node: Node, context: WriteContext) throws(StoreError) -> WriteOutcome<Node> {
        var node = try validate(node)
        return try write { version throws(StoreError) -> WriteOutcome<Node> in
            let previous = try nodeRow(named: node.name).flatMap { $0.deleted ? nil : $0.node }
            node.version = version
            node.origin = nodeID
            try connection.run(
                """
                INSERT INTO nodes (name, region, gossip_address, addresses, last_seen_ms, version, origin, deleted)
                VALUES (?, ?, ?, ?, ?, ?, ?, 0)
                ON CONFLICT (name) DO UPDATE SET region = excluded.region, gossip_address = excluded.gossip_address,
                    addresses = excluded.addresses, last_seen_ms = excluded.last_seen_ms,
                    version = excluded.version, origin = excluded.origin, deleted = 0
                """,
                [.text(node.name), .text(node.region), .text(node.gossipAddress), .text(try JSONText.encode(node.addresses)),
                 .integer(node.lastSeenMS), version.sqlValue, .text(nodeID)])
            try audit(context, action: "put", entity: "node", key: node.name, old: previous, new: node)
            return WriteOutcome(record: node, created: previous == nil, previous: previous)
        }
    }

    /// Every live node, by name.
    package func nodes() throws(StoreError) -> [Node] {
        try connection.query("SELECT \(Store.nodeColumns) FROM nodes WHERE deleted = 0 ORDER BY name") { row throws(StoreError) in
            try Store.node(from: row).node
        }
    }

    static let nodeColumns = "name, region, gossip_address, addresses, last_seen_ms, version, origin, deleted"

    static func node(from row: Row) throws(StoreError) -> (node: Node, deleted: Bool) {
        let node = Node(name: row.text(0), region: row.text(1), gossipAddress: row.text(2),
                        addresses: try JSONText.decode([String].self, from: row.text(3), column: "nodes.addresses"),
                        lastSeenMS: row.int64(4), version: .init(sqlValue: row.int64(5)), origin: row.text(6))
        return (node, row.bool(7))
    }

    func nodeRow(named name: String) throws(StoreError) -> (node: Node, deleted: Bool)? {
        try connection.query("SELECT \(Store.nodeColumns) FROM nodes WHERE name = ?", [.text(name)]) { row throws(StoreError) in
            try Store.node(from: row)
        }.first
    }
}
