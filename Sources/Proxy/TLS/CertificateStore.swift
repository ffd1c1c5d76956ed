package import GLBCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The certificates GLB terminates TLS with: loads a directory of PEM pairs, publishes them to
/// the loops as an immutable `CertificateTable`, reloads on request (SIGHUP) or when a file
/// changes, and reports days to expiry.
///
///     DIR/www.crt + DIR/www.key      chain (leaf first) and key: one certificate named "www"
///     DIR/api.pem                    chain and key in one file
///     DIR/default.crt + default.key  served without SNI or for unknown names (else the first)
///
///     watch() ── every interval: stat the files ──changed or SIGHUP──▶ reload()
///     reload(): load each changed pair aside ─▶ new CertificateTable ─▶ publish (generation + 1)
///     loops: `refresh(&cached)` at accept, one atomic load when nothing changed
///
/// A pair that fails to load (unreadable, not PEM, key of another certificate, no DNS name) is
/// logged and skipped, and the version loaded before stays in service: a bad deploy costs a log
/// line, not an outage. Connections keep the table they were accepted with, so a reload drops
/// nothing.
package final class CertificateStore: Sendable {
    package let directory: String
    let keys = TicketKeys()
    private let logger: Logger
    private let clock: any GLBClock
    private let registry: MetricsRegistry
    private let current: Mutex<CertificateTable>
    private let latest: Atomic<UInt64>
    private let hangup = Atomic<Bool>(false)
    private let expiryGauges = Mutex<[String: Gauge]>([:])
    private let reloadErrors: Counter

    /// Loads `directory`. Throws, with every problem listed, when not one pair loads: a TLS
    /// listener without a certificate could only fail every handshake.
    package init(directory: String, logger: Logger, registry: MetricsRegistry, clock: any GLBClock = SystemClock()) throws(CertificateError) {
        self.directory = directory
        self.logger = logger
        self.clock = clock
        self.registry = registry
        reloadErrors = registry.counter("glb_tls_certificate_reload_errors_total",
                                        help: "Certificate pairs rejected while loading; the version loaded before stays in service.")
        let (loaded, problems) = Self.load(directory: directory, previous: [], keys: keys)
        guard !loaded.isEmpty else {
            throw CertificateError(directory: directory,
                                   problems: problems.isEmpty ? ["no certificate files (*.crt with *.key, or *.pem holding both)"] : problems)
        }
        for problem in problems { logger.error("certificate rejected", ["directory": directory, "problem": problem]) }
        let table = CertificateTable(generation: 1, certificates: loaded)
        current = Mutex(table)
        latest = Atomic(1)
        updateGauges(table)
        registry.onCollect { [weak self] in self?.collect() }
        warnAboutExpiry()
    }

    /// The table now in service (takes the lock: control plane and tests).
    package var table: CertificateTable { current.withLock { $0 } }

    /// What is loaded, for `glb status`.
    package var certificates: [CertificateInfo] { table.infos }

    /// Once per accept on a loop: swaps `cached` for the current table if a newer one was
    /// published. One atomic load when nothing changed.
    @inline(__always)
    func refresh(_ cached: inout CertificateTable?) {
        let generation = latest.load(ordering: .acquiring)
        if cached?.generation != generation { cached = current.withLock { $0 } }
    }

    /// Makes a new ticket key current (the previous one still opens tickets): `watch` does this
    /// every `ticketKeyLifetime`.
    package func rotateTicketKeys() {
        keys.rotate()
    }

    /// Asks the watcher to reload at its next tick (the SIGHUP handler calls this).
    package func requestReload() {
        hangup.store(true, ordering: .releasing)
    }

    /// Loads what changed in the directory and publishes a new table if anything did. Returns
    /// the problems (also logged); an empty list means every pair loaded.
    @discardableResult
    package func reload() -> [String] {
        let previous = table
        let (loaded, problems) = Self.load(directory: directory, previous: previous.certificates, keys: keys)
        for problem in problems {
            reloadErrors.increment()
            logger.error("certificate rejected; any version loaded before stays in service", ["directory": directory, "problem": problem])
        }
        guard !loaded.isEmpty else {
            logger.error("no certificate loaded; keeping the ones in service", ["directory": directory])
            return problems
        }
        let unchanged = loaded.count == previous.certificates.count && zip(loaded, previous.certificates).allSatisfy { $0 === $1 }
        guard !unchanged else { return problems }
        let table = current.withLock { held -> CertificateTable in
            held = CertificateTable(generation: held.generation + 1, certificates: loaded)
            return held
        }
        latest.store(table.generation, ordering: .releasing)
        updateGauges(table)
        logger.info("certificates loaded", ["directory": directory, "names": table.infos.map(\.name).joined(separator: ","),
                                            "generation": "\(table.generation)"])
        warnAboutExpiry()
        return problems
    }

    /// Logs every certificate within `CertificateInfo.warningDays` of expiry (an error once expired).
    package func warnAboutExpiry() {
        let now = clock.wallMilliseconds
        for info in table.infos {
            let days = info.daysToExpiry(wallMilliseconds: now)
            let fields = ["name": info.name, "names": info.dnsNames.joined(separator: ","), "days_to_expiry": "\(Int(days))",
                          "file": info.certificateFile]
            if days < 0 {
                logger.error("certificate expired", fields)
            } else if days <= CertificateInfo.warningDays {
                logger.warning("certificate expires soon", fields)
            }
        }
    }

    /// Polls the files every `interval` and reloads when one changed or a reload was requested;
    /// rotates the ticket keys every `ticketKeyLifetime` and repeats the expiry warnings daily.
    /// Returns when the task is cancelled.
    package func watch(interval: Duration = .seconds(1), ticketKeyLifetime: Duration = .seconds(12 * 3600)) async {
        var stamps = Self.stamps(directory)
        var nextRotation = clock.now + ticketKeyLifetime
        var nextWarning = clock.now + .seconds(86_400)
        while !Task.isCancelled {
            do { try await clock.sleep(until: clock.now + interval) } catch { return }
            let seen = Self.stamps(directory)
            if hangup.exchange(false, ordering: .acquiring) || seen != stamps {
                stamps = seen
                reload()
            }
            if clock.now >= nextRotation {
                rotateTicketKeys()
                nextRotation = clock.now + ticketKeyLifetime
            }
            if clock.now >= nextWarning {
                warnAboutExpiry()
                nextWarning = clock.now + .seconds(86_400)
            }
        }
    }

    // MARK: Metrics

    private func updateGauges(_ table: CertificateTable) {
        let names = Set(table.certificates.map(\.info.name))
        expiryGauges.withLock { gauges in
            for (name, _) in gauges where !names.contains(name) {
                registry.remove("glb_tls_certificate_expiry_days", labels: ["name": name])
                gauges[name] = nil
            }
            for name in names where gauges[name] == nil {
                gauges[name] = registry.gauge("glb_tls_certificate_expiry_days",
                                              help: "Whole days until the certificate's notAfter; negative once expired.",
                                              labels: ["name": name])
            }
        }
        collect()
    }

    private func collect() {
        let now = clock.wallMilliseconds
        let infos = table.infos
        expiryGauges.withLock { gauges in
            for info in infos { gauges[info.name]?.set(info.daysToExpiry(wallMilliseconds: now)) }
        }
    }

    // MARK: Loading

    /// One pair the directory describes.
    struct PairFiles: Equatable {
        let name: String
        let certificate: String
        let key: String
    }

    /// The pairs in `directory`, by name: `NAME.crt` with `NAME.key`, or `NAME.pem` holding both
    /// (or with its own `NAME.key`). Hidden files are skipped; `.crt` wins over `.pem`.
    static func pairs(in directory: String) -> [PairFiles] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var files = Set<String>()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if !name.hasPrefix(".") { files.insert(name) }
        }
        var pairs: [String: PairFiles] = [:]
        for file in files.sorted() {
            for suffix in [".crt", ".pem"] where file.hasSuffix(suffix) && file.count > suffix.count {
                let stem = String(file.dropLast(suffix.count))
                guard pairs[stem] == nil else { continue }
                let key = files.contains(stem + ".key") ? stem + ".key" : file
                pairs[stem] = PairFiles(name: stem, certificate: directory + "/" + file, key: directory + "/" + key)
            }
        }
        return pairs.values.sorted { $0.name < $1.name }
    }

    /// Every pair's file stamps, to notice a change without loading anything.
    static func stamps(_ directory: String) -> [FileStamp?] {
        pairs(in: directory).flatMap { [FileStamp(path: $0.certificate), FileStamp(path: $0.key)] }
    }

    /// Loads every pair whose files changed since `previous`; keeps `previous`'s version of a
    /// pair that fails. Returns the certificates in name order and the problems.
    static func load(directory: String, previous: [ServerCertificate], keys: TicketKeys) -> ([ServerCertificate], [String]) {
        let old = Dictionary(previous.map { ($0.info.name, $0) }, uniquingKeysWith: { a, _ in a })
        var loaded: [ServerCertificate] = [], problems: [String] = []
        for pair in pairs(in: directory) {
            let stamps = [FileStamp(path: pair.certificate), FileStamp(path: pair.key)].compactMap { $0 }
            if let kept = old[pair.name], kept.fingerprint == stamps {
                loaded.append(kept)
                continue
            }
            do {
                loaded.append(try ServerCertificate(name: pair.name, certificateFile: pair.certificate, keyFile: pair.key,
                                                    fingerprint: stamps, keys: keys))
            } catch {
                problems.append("\(pair.name): \(error)")
                if let kept = old[pair.name] { loaded.append(kept) }
            }
        }
        return (loaded, problems)
    }
}

/// No certificate in the directory could be loaded.
package struct CertificateError: Error, CustomStringConvertible {
    package let directory: String
    package let problems: [String]
    package var description: String { "no usable certificate in \(directory): " + problems.joined(separator: "; ") }
}
