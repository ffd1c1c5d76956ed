import FoundationEssentials
import GLBCore
import HealthProber
import Store

/// Config replication between nodes over gossip (docs/architecture.md "Gossip between nodes").
///
///     local REST write ─▶ Store commit ─▶ changes ─▶ localChanged() ─▶ changes(since: cursor)
///                                                         │  rows this node wrote
///                                                         ▼
///         gossip user payload "cfg/<entity>/<key>" (a newer write of a row replaces the older in
///         the broadcast queue) ──▶ every peer ──▶ receive() ──▶ Store.apply(remote:) (LWW)
///
///     catch-up: on a join and every `digestInterval`, each node gossips "dig/<node>": the newest
///     version it holds from each origin. A peer holding newer rows of some origin sends them.
///
///     push-pull: on a join, every `pushPullInterval` with one random live peer, and at once with
///     every peer when a row is too large for a packet, two nodes trade versions over TCP and
///     send each other whatever the other lacks (`ConfigSync`).
///
/// No echo: a node broadcasts only rows it wrote itself. Rows it applied from a peer are spread
/// by gossip's own epidemic re-sends (every receiver re-queues a payload it had not seen), and
/// by digests for nodes that missed them. Rows whose parent has not arrived yet (gossip reorders)
/// wait in `orphans` and are offered to the store again after each batch that stored something.
actor Replicator {
    /// Payload key prefixes. Append only: they are on the wire.
    static let rowPrefix = "cfg/"
    static let digestPrefix = "dig/"

    private let store: Store
    private let gossip: GossipAgent
    private let node: String
    private let logger: Logger
    private let sync: ConfigSync
    private let metrics: MetricsRegistry
    /// A local row was too large to gossip: push-pull with every peer after this batch.
    private var oversizedPending = false
    private var cursor: HLCTimestamp
    private var orphans: [String: ReplicatedRow] = [:]
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    private(set) var oversized = 0

    init(store: Store, gossip: GossipAgent, node: String, sync: ConfigSync, metrics: MetricsRegistry, logger: Logger) async throws {
        self.store = store
        self.gossip = gossip
        self.node = node
        self.sync = sync
        self.metrics = metrics
        self.logger = logger
        cursor = try await store.configVersion()
    }

    /// After each committed write: broadcasts the rows this node wrote since the last call.
    func localChanged() async {
        do {
            let rows = try await store.changes(since: cursor)
            guard let newest = rows.last?.version else { return }
            cursor = max(cursor, newest)
            for row in rows where row.origin == node { broadcast(row) }
        } catch {
            logger.error("cannot read changed rows to replicate", ["error": "\(error)"])
        }
        if oversizedPending {
            oversizedPending = false
            for peer in livePeers() { await pushPull(with: peer) }
        }
    }

    /// A gossip event: rows and digests from peers; a member joining triggers a digest.
    func handle(_ event: GossipEvent) async {
        switch event {
        case .member(let change):
            if change.kind == .joined {
                await sendDigest()
                if change.member.name != node { await pushPull(with: change.member.address) }
            }
        case .user(let payload):
            if payload.key.hasPrefix(Self.rowPrefix) {
                await receiveRow(payload)
            } else if payload.key.hasPrefix(Self.digestPrefix), payload.origin != node {
                await answerDigest(payload)
            }
        }
    }

    /// Gossips the newest version this node holds from each origin.
    func sendDigest() async {
        do {
            let versions = try await store.originVersions().mapValues(\.rawValue)
            gossip.enqueueUser(key: Self.digestPrefix + node, payload: Array(try encoder.encode(versions)))
        } catch {
            logger.error("cannot build the replication digest", ["error": "\(error)"])
        }
    }

    private func receiveRow(_ payload: UserPayload) async {
        let row: ReplicatedRow
        do {
            row = try JSONDecoder().decode(ReplicatedRow.self, from: Data(payload.payload))
        } catch {
            logger.warning("dropping a config row that does not decode", ["key": payload.key, "from": payload.origin, "error": "\(error)"])
            return
        }
        await apply([row])
    }

    func apply(_ rows: [ReplicatedRow]) async {
        do {
            let outcome = try await store.apply(remote: rows + orphans.values)
            orphans.removeAll()
            for orphan in outcome.orphans { orphans[orphan.entity + "/" + orphan.key] = orphan }
            if outcome.invalid > 0 { logger.warning("config rows from peers failed validation", ["count": "\(outcome.invalid)"]) }
        } catch {
            logger.error("cannot apply config rows from a peer", ["error": "\(error)"])
        }
    }

    /// A peer's digest: send every row it lacks, by origin.
    private func answerDigest(_ payload: UserPayload) async {
        let theirs: [String: UInt64]
        do {
            theirs = try JSONDecoder().decode([String: UInt64].self, from: Data(payload.payload))
        } catch {
            logger.warning("dropping a replication digest that does not decode", ["from": payload.origin])
            return
        }
        do {
            let rows = try await rows(newerThan: theirs)
            for row in rows { broadcast(row) }
            if !rows.isEmpty { logger.debug("sent rows a peer lacked", ["peer": payload.origin, "rows": "\(rows.count)"]) }
        } catch {
            logger.error("cannot answer a replication digest", ["error": "\(error)"])
        }
    }

    /// Every row this node holds that a peer with `theirs` (versions by writer) lacks.
    private func rows(newerThan theirs: [String: UInt64]) async throws -> [ReplicatedRow] {
        let ours = try await store.originVersions()
        let behind = ours.filter { origin, version in version.rawValue > theirs[origin] ?? 0 }
        guard !behind.isEmpty else { return [] }
        let since = behind.keys.map { HLCTimestamp(rawValue: theirs[$0] ?? 0) }.min() ?? .zero
        return try await store.changes(since: since).filter { row in
            behind[row.origin] != nil && row.version.rawValue > theirs[row.origin] ?? 0
        }
    }

    // MARK: Push-pull over TCP

    /// Push-pull with one random live peer: the periodic anti-entropy round.
    func pushPullWithRandomPeer() async {
        guard let peer = livePeers().randomElement() else { return }
        await pushPull(with: peer)
    }

    /// One exchange with `peer` (its gossip address; the sync endpoint listens on TCP there).
    func pushPull(with peer: SocketAddress) async {
        do {
            let ours = try await store.originVersions().mapValues(\.rawValue)
            let answer = try await sync.send(ConfigSync.Message(node: node, versions: ours, rows: []), to: peer)
            if !answer.rows.isEmpty { await apply(answer.rows) }
            let theirs = try await rows(newerThan: answer.versions)
            if !theirs.isEmpty {
                _ = try await sync.send(ConfigSync.Message(node: node, versions: ours, rows: theirs), to: peer)
            }
            countSync("ok")
            if !answer.rows.isEmpty || !theirs.isEmpty {
                logger.info("push-pull caught up", ["peer": answer.node, "pulled": "\(answer.rows.count)", "pushed": "\(theirs.count)"])
            }
        } catch {
            countSync("failed")
            logger.warning("push-pull failed", ["peer": "\(peer)", "error": "\(error)"])
        }
    }

    /// The server side: stores what the peer pushed, answers with what it lacks.
    func answerSync(_ message: ConfigSync.Message) async -> ConfigSync.Message {
        if !message.rows.isEmpty { await apply(message.rows) }
        do {
            let rows = try await rows(newerThan: message.versions)
            let versions = try await store.originVersions().mapValues(\.rawValue)
            countSync("served")
            return ConfigSync.Message(node: node, versions: versions, rows: rows)
        } catch {
            logger.error("cannot answer a push-pull", ["peer": message.node, "error": "\(error)"])
            return ConfigSync.Message(node: node, versions: [:], rows: [])
        }
    }

    func countSync(_ result: String) {
        metrics.counter("glb_replication_push_pulls_total", help: "TCP push-pull config exchanges, by result (ok, failed, served, refused).",
                        labels: ["result": result]).increment()
    }

    private func livePeers() -> [SocketAddress] {
        gossip.members().filter { $0.name != node && $0.status == .alive }.map(\.address)
    }

    private func broadcast(_ row: ReplicatedRow) {
        do {
            let bytes = Array(try encoder.encode(row))
            // Too large for one packet: it travels by TCP push-pull instead, at once.
            guard bytes.count <= GossipConfig.regions.packetBudget - 300 else {
                oversized += 1
                oversizedPending = true
                logger.info("config row too large to gossip; sending it by push-pull", ["key": row.entity + "/" + row.key, "bytes": "\(bytes.count)"])
                return
            }
            // One gossip key per row and writer: gossip keeps only the newest payload per key by
            // its own Lamport order, which knows nothing of rows' versions, so two nodes writing
            // one row at once under one key could see the HLC-newer write dropped as stale on
            // some nodes until the next push-pull. Per writer, both travel and the store's
            // (version, origin) rule picks the winner everywhere.
            gossip.enqueueUser(key: Self.rowPrefix + row.entity + "/" + row.key + "@" + node, payload: bytes)
        } catch {
            logger.error("cannot encode a config row", ["error": "\(error)"])
        }
    }
}
