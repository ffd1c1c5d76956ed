#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import GLBCore
import Proxy
import Synchronization

/// Loads `--geoip` and `--geo-cidr-map` and reloads them when they change, without a restart.
/// A change is a different (inode, size, mtime) from `stat`, checked every
/// `--` poll interval and on SIGHUP; the new file is opened and validated completely on this
/// control-plane thread before anything is published, so a bad one is refused with one log line
/// and the loaded one stays in service.
///
///     stat() changed ──▶ GeoDatabase(path:) / CIDRMap.parse ──ok──▶ GeoSources ──▶ Routing.geoChanged ──▶ new snapshot
///                                            └──error──▶ log "refused", keep the old sources
///
/// The old database stays mapped while any published snapshot still refers to it, and is
/// unmapped by the last release (`GeoDatabase.deinit`).
final class GeoLoader: Sendable {
    /// What identifies one version of a file.
    struct Stamp: Equatable {
        var device: UInt64, inode: UInt64, size: Int64, modified: timespec

        static func == (a: Stamp, b: Stamp) -> Bool {
            a.device == b.device && a.inode == b.inode && a.size == b.size
                && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
        }
    }

    private struct State {
        var database: GeoDatabase?
        var cidrMap: CIDRMap?
        var databaseStamp: Stamp?
        var cidrMapStamp: Stamp?
    }

    let databasePath: String?
    let cidrMapPath: String?
    private let logger: Logger
    private let state = Mutex(State())
    private let loaded: Counter
    private let refused: Counter
    private let buildEpoch: Gauge

    init(databasePath: String?, cidrMapPath: String?, logger: Logger, metrics: MetricsRegistry) {
        self.databasePath = databasePath
        self.cidrMapPath = cidrMapPath
        self.logger = logger
        let help = "Geo database and CIDR map loads by result: a refused file leaves the previous one in service."
        loaded = metrics.counter("glb_geo_reloads_total", help: help, labels: ["result": "loaded"])
        refused = metrics.counter("glb_geo_reloads_total", help: help, labels: ["result": "refused"])
        buildEpoch = metrics.gauge("glb_geo_database_build_epoch_seconds",
                                   help: "build_epoch of the MaxMind database in service (0: none): which file the loops answer from.")
    }

    /// The sources loaded now.
    var sources: GeoSources { state.withLock { GeoSources(database: $0.database, cidrMap: $0.cidrMap) } }

    /// Loads both files at start; a missing or bad one stops the agent with the reason, since
    /// the operator asked for it and would otherwise get silently wrong routing.
    func loadInitial() throws(AgentError) -> GeoSources {
        if let path = databasePath {
            guard let stamp = Self.stamp(path) else { throw AgentError("--geoip: cannot read \(path): \(String(cString: strerror(errno)))") }
            do {
                let database = try GeoDatabase(path: path)
                state.withLock { $0.database = database; $0.databaseStamp = stamp }
                logger.info("geo database loaded", Self.fields(database))
                buildEpoch.set(Double(database.buildEpoch))
            } catch {
                throw AgentError("--geoip \(path): \(error)")
            }
        }
        if let path = cidrMapPath {
            guard let stamp = Self.stamp(path) else { throw AgentError("--geo-cidr-map: cannot read \(path): \(String(cString: strerror(errno)))") }
            do {
                let map = try Self.readMap(path)
                state.withLock { $0.cidrMap = map; $0.cidrMapStamp = stamp }
                logger.info("geo CIDR map loaded", ["path": path, "networks": String(map.entries.count)])
            } catch {
                throw AgentError("--geo-cidr-map \(path): \(error)")
            }
        }
        return sources
    }

    /// Reloads whichever file changed. Returns the new sources if anything was replaced, nil if
    /// nothing changed or every change was refused (the old sources then stay, and say so in
    /// the log).
    func reloadIfChanged() -> GeoSources? {
        var replaced = false
        if let path = databasePath, let stamp = Self.stamp(path), stamp != state.withLock({ $0.databaseStamp }) {
            do {
                let database = try GeoDatabase(path: path)
                state.withLock { $0.database = database; $0.databaseStamp = stamp }
                logger.info("geo database reloaded", Self.fields(database))
                buildEpoch.set(Double(database.buildEpoch))
                loaded.increment()
                replaced = true
            } catch {
                // Remember the stamp: one log line per bad file, not one per poll.
                state.withLock { $0.databaseStamp = stamp }
                logger.error("geo database refused; still serving the previously loaded one", ["path": path, "error": "\(error)"])
                refused.increment()
            }
        }
        if let path = cidrMapPath, let stamp = Self.stamp(path), stamp != state.withLock({ $0.cidrMapStamp }) {
            do {
                let map = try Self.readMap(path)
                state.withLock { $0.cidrMap = map; $0.cidrMapStamp = stamp }
                logger.info("geo CIDR map reloaded", ["path": path, "networks": String(map.entries.count)])
                loaded.increment()
                replaced = true
            } catch {
                state.withLock { $0.cidrMapStamp = stamp }
                logger.error("geo CIDR map refused; still serving the previously loaded one", ["path": path, "error": "\(error)"])
                refused.increment()
            }
        }
        return replaced ? sources : nil
    }

    private static func readMap(_ path: String) throws -> CIDRMap {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try CIDRMap.parse(text)
    }

    private static func fields(_ database: GeoDatabase) -> [String: String] {
        ["path": database.path ?? "-", "type": database.databaseType, "nodes": String(database.nodeCount),
         "ip_version": String(database.ipVersion), "build_epoch": String(database.buildEpoch)]
    }

    /// The file's identity now, or nil if it cannot be stat'ed (a rename in progress: try later).
    static func stamp(_ path: String) -> Stamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Stamp(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size), modified: info.st_mtim)
    }
}
