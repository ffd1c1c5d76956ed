import FoundationEssentials
import GLBCore
import HealthProber
#if canImport(Glibc)
import Glibc
#endif

/// Everything `glb agent` is told at start: from flags, their `GLB_*` environment twins, and
/// defaults, in that order of precedence. Every mistake is a `UsageError` that names the flag, so
/// the agent exits 2 before it touches the data directory or binds a port.
struct AgentConfig: Sendable {
    var dataDirectory = "./glb-data"
    var zones: [String] = []
    var dns: SocketAddress?
    var http: SocketAddress?
    var httpDefaultService: String?
    /// Where to terminate TLS for the reverse proxy; set together with `certificates`.
    var https: SocketAddress?
    /// The directory of PEM certificates for `https`.
    var certificates: String?
    /// PEM roots that https clusters' certificates must chain to, instead of the system store.
    var upstreamCA: String?
    var admin = SocketAddress(ip: .v4(0x7F00_0001), port: 9090)
    var adminToken: String?
    var readToken: String?
    var node = AgentConfig.hostname
    var region = "local"
    var loops = EventLoopGroup.defaultCount
    var logLevel = Logger.Level.info
    var shutdownGrace = Duration.seconds(10)
    var accessLogSampleRate = 0.0
    /// Proxied request bodies larger than this get 413; nil streams any size (memory stays bounded).
    var httpMaxBody: Int?
    /// --http-pool-idle: idle keep-alive connections kept per origin address per loop.
    var httpPoolIdle: Int?
    /// Where this node gossips (UDP); nil: a single node, no gossip.
    var gossip: SocketAddress?
    /// Other members' gossip addresses to join through.
    var join: [SocketAddress] = []
    /// From --gossip-key-file or GLB_GOSSIP_KEY; nil: plaintext, loopback only.
    var gossipKeyring: Keyring?
    /// Not a flag: `.regions` in production, `.fast` in tests (see `GossipConfig.regions`).
    var gossipTuning = GossipConfig.regions
    /// Not a flag: how often each node gossips its replication digest, so a node that missed
    /// rows catches up (tests make it short).
    var replicationDigestInterval = Duration.seconds(30)
    /// A MaxMind DB (`.mmdb`) for `geo` and `latency` routing; reloaded when it changes.
    var geoDatabase: String?
    /// The operator's CIDR map file (docs/geo.md); reloaded when it changes.
    var geoCIDRMap: String?
    /// Networks of proxies in front of the HTTP listener whose X-Forwarded-For is believed.
    var trustedProxies: [(network: IPAddress, prefix: UInt8)] = []
    /// This node's coordinates, for mapping clients to their nearest node under `latency`.
    var location: (latitude: Double, longitude: Double)?
    /// Not a flag: how often the geo files are checked for changes (tests make it short).
    var geoPollInterval = Duration.seconds(2)
    /// Not a flag: how often `latency` rankings are recompiled from the probes' RTTs.
    var latencyRefreshInterval = Duration.seconds(5)
    /// Not a flag: how often each node runs a TCP push-pull with one random peer (tests make it short).
    var pushPullInterval = Duration.seconds(30)
    /// Not a flag: how long after joining a node with no member yet says that no one answered.
    var joinReportDelay = Duration.seconds(10)
    /// How a cluster is judged down for DNS answers: by a majority of fresh observers (default)
    /// or by this node's probes alone.
    var healthQuorum = HealthMonitor.Quorum.majority
    /// Not a flag: how often each node gossips its whole health view. Reports older than four
    /// intervals (`observationFreshness`) stop counting, so a silent observer ages out of the quorum.
    var observationInterval = Duration.seconds(2)
    /// Not a flag: reports older than this stop counting in the quorum (four intervals).
    var observationFreshness = Duration.seconds(8)
    /// Not a flag: deletes stay as tombstones this long, so every node sees them before they go
    /// (a node away longer may bring a deleted row back; see `Store.collectTombstones`).
    var tombstoneGrace = Duration.seconds(7 * 24 * 3600)
    /// Not a flag: false stops without the gossip goodbye, as a crash would (tests play a kill).
    var gracefulLeave = true
    /// The address proxy-mode answers give for this node; nil: the --http address if specific,
    /// else the --gossip address if specific.
    var advertise: IPAddress?

    static let options: [Arguments.OptionSpec] = [
        .init("data", value: "DIR", env: "GLB_DATA", help: "state directory; the SQLite store lives here (default ./glb-data)"),
        .init("zone", value: "ZONE", env: "GLB_ZONE", repeatable: true, help: "a DNS zone to be authoritative for, e.g. glb.example. (repeatable)"),
        .init("dns", value: "ADDR:PORT", env: "GLB_DNS", help: "serve DNS over UDP and TCP here (default: off)"),
        .init("http", value: "ADDR:PORT", env: "GLB_HTTP", help: "serve the HTTP reverse proxy here (default: off)"),
        .init("http-default-service", value: "FQDN", env: "GLB_HTTP_DEFAULT_SERVICE", help: "the service for HTTP requests whose Host matches none, e.g. www.glb.example."),
        .init("https", value: "ADDR:PORT", env: "GLB_HTTPS", help: "terminate TLS and serve the reverse proxy here (needs --certs; default: off)"),
        .init("certs", value: "DIR", env: "GLB_CERTS",
              help: "PEM certificates for --https: NAME.crt + NAME.key, or NAME.pem holding both; default.* serves unknown names. Reloaded on SIGHUP and on change"),
        .init("upstream-ca", value: "FILE", env: "GLB_UPSTREAM_CA", help: "PEM roots that https clusters' certificates must chain to (default: the system store)"),
        .init("admin", value: "ADDR:PORT", env: "GLB_ADMIN", help: "the admin REST API (default 127.0.0.1:9090)"),
        .init("admin-token", value: "TOKEN", env: "GLB_ADMIN_TOKEN", help: "bearer token that writes must carry; required off loopback"),
        .init("read-token", value: "TOKEN", env: "GLB_READ_TOKEN", help: "bearer token that reads must carry (optional)"),
        .init("node", value: "NAME", env: "GLB_NODE", help: "this node's name (default: the host name)"),
        .init("region", value: "NAME", env: "GLB_REGION", help: "this node's region (default local)"),
        .init("loops", value: "N", env: "GLB_LOOPS", help: "event-loop threads (default: one per CPU)"),
        .init("log-level", value: "LEVEL", env: "GLB_LOG_LEVEL", help: "debug, info, warning or error (default info)"),
        .init("http-max-body", value: "BYTES", env: "GLB_HTTP_MAX_BODY", help: "proxied request bodies over this many bytes get 413 (default: no limit; bodies stream)"),
        .init("http-pool-idle", value: "N", env: "GLB_HTTP_POOL_IDLE",
              help: "idle keep-alive connections kept per origin address per event loop (default 256; 0 closes each after use)"),
        .init("access-log", value: "RATE", env: "GLB_ACCESS_LOG", help: "share of proxied requests logged as JSON lines, 0 to 1 (default 0)"),
        .init("shutdown-grace", value: "SECONDS", env: "GLB_SHUTDOWN_GRACE", help: "how long SIGTERM waits for in-flight requests (default 10)"),
        .init("gossip", value: "ADDR:PORT", env: "GLB_GOSSIP", help: "gossip with other nodes over UDP here (default: off, a single node)"),
        .init("join", value: "HOST:PORT,...", env: "GLB_JOIN", repeatable: true, help: "gossip addresses of nodes to join through (needs --gossip)"),
        .init("gossip-key-file", value: "PATH", env: "GLB_GOSSIP_KEY_FILE",
              help: "base64 AES-256 gossip keys, one a line, the first primary; or put one key in GLB_GOSSIP_KEY. Without a key, gossip stays on loopback"),
        .init("health-quorum", value: "MODE", env: "GLB_HEALTH_QUORUM",
              help: "majority: a cluster leaves DNS answers when most fresh observers see it down (default); local: this node's probes decide alone"),
        .init("advertise", value: "IP", env: "GLB_ADVERTISE",
              help: "the address other nodes and proxy-mode DNS answers reach this node at (default: the --http address, else the --gossip one); required when --gossip is a wildcard"),
        .init("geoip", value: "FILE", env: "GLB_GEOIP",
              help: "a MaxMind DB (.mmdb, e.g. GeoLite2-Country) for geo and latency routing; reloaded when replaced (mv a new file over it) or on SIGHUP"),
        .init("geo-cidr-map", value: "FILE", env: "GLB_GEO_CIDR_MAP",
              help: "networks to regions/countries (\"10.1.0.0/16 eu-west\" a line), consulted before --geoip; reloaded like it"),
        .init("trusted-proxies", value: "CIDR,...", env: "GLB_TRUSTED_PROXIES", repeatable: true,
              help: "proxies whose X-Forwarded-For the HTTP proxy believes for geo routing (default: none, the peer address is the client)"),
        .init("location", value: "LAT,LONG", env: "GLB_LOCATION",
              help: "this node's coordinates, e.g. 53.35,-6.26: latency routing maps clients to their nearest node"),
    ]

    /// The environment-only twin of --gossip-key-file: the key itself, base64. Not a flag, so
    /// the key never shows in `ps`.
    static let gossipKeyVariable = "GLB_GOSSIP_KEY"


    init() {}

    /// Builds the configuration from parsed arguments.
    init(_ args: Arguments, environment: [String: String] = [:]) throws(UsageError) {
        if let data = args.value("data") {
            guard !data.isEmpty else { throw UsageError("--data must name a directory") }
            dataDirectory = data
        }
        for zone in args.list("zone") {
            guard let name = Self.normalizedZone(zone) else {
                throw UsageError("--zone: \"\(zone)\" is not a valid DNS zone name (expected something like glb.example.)")
            }
            if !zones.contains(name) { zones.append(name) }
        }
        dns = try Self.address(args, "dns")
        http = try Self.address(args, "http")
        if let service = args.value("http-default-service") {
            guard let name = Self.normalizedZone(service) else {
                throw UsageError("--http-default-service: \"\(service)\" is not a DNS name (expected the service's FQDN, e.g. www.glb.example.)")
            }
            httpDefaultService = name
        }
        if let admin = try Self.address(args, "admin") { self.admin = admin }
        adminToken = args.value("admin-token")
        readToken = args.value("read-token")
        for (flag, token) in [("admin-token", adminToken), ("read-token", readToken)] {
            if let token, token.count < 16 || token.contains(where: { $0 == " " || $0.isNewline }) {
                throw UsageError("--\(flag) must be at least 16 characters with no spaces")
            }
        }
        if !admin.ip.isLoopback, adminToken == nil {
            throw UsageError("--admin \(admin) is not a loopback address: set --admin-token (or GLB_ADMIN_TOKEN) so writes need a token")
        }
        if let node = args.value("node") {
            guard Self.isName(node) else { throw UsageError("--node must be 1-63 letters, digits, '-' or '_', got \"\(node)\"") }
            self.node = node
        }
        if let region = args.value("region") {
            guard Self.isName(region) else { throw UsageError("--region must be 1-63 letters, digits, '-' or '_', got \"\(region)\"") }
            self.region = region
        }
        if let loops = try args.integer("loops", in: 1...256) { self.loops = loops }
        if let level = args.value("log-level") {
            guard let parsed = ["debug": Logger.Level.debug, "info": .info, "warning": .warning, "error": .error][level] else {
                throw UsageError("--log-level must be debug, info, warning or error, got \"\(level)\"")
            }
            logLevel = parsed
        }
        if let rate = try args.decimal("access-log", in: 0...1) { accessLogSampleRate = rate }
        httpMaxBody = try args.integer("http-max-body", in: 1...(1 << 50))
        httpPoolIdle = try args.integer("http-pool-idle", in: 0...100_000)
        if let grace = try args.decimal("shutdown-grace", in: 0...3600) { shutdownGrace = .milliseconds(Int64(grace * 1000)) }
        try parseGossip(args, environment: environment)
        if let mode = args.value("health-quorum") {
            guard let parsed = HealthMonitor.Quorum(rawValue: mode) else {
                throw UsageError("--health-quorum must be majority or local, got \"\(mode)\"")
            }
            healthQuorum = parsed
        }
        if let text = args.value("advertise") {
            guard let ip = IPAddress(text), !ip.isUnspecified else {
                throw UsageError("--advertise: expected a specific IP address such as 192.0.2.10, got \"\(text)\"")
            }
            advertise = ip
        }
        if let gossip, gossip.ip.isUnspecified, advertise == nil {
            throw UsageError("--gossip \(gossip) listens on every address: set --advertise IP so peers are told one they can reach")
        }
        try parseGeo(args)
        try parseTLS(args)
    }

    /// The address this node is answered with in proxy mode, when it has one: --advertise, else
    /// the first specific address among --http, --https and --gossip.
    var advertisedAddress: IPAddress? {
        if let advertise { return advertise }
        for address in [http, https, gossip].compactMap({ $0 }) where !address.ip.isUnspecified { return address.ip }
        return nil
    }

    /// --geoip, --geo-cidr-map, --trusted-proxies, --location. The files are only named here; the
    /// agent loads them at start (and refuses to start on a bad one) and then watches them.
    private mutating func parseGeo(_ args: Arguments) throws(UsageError) {
        for (flag, path) in [("geoip", args.value("geoip")), ("geo-cidr-map", args.value("geo-cidr-map"))] {
            guard let path else { continue }
            guard !path.isEmpty else { throw UsageError("--\(flag) must name a file") }
            if flag == "geoip" { geoDatabase = path } else { geoCIDRMap = path }
        }
        for text in args.list("trusted-proxies") {
            let parts = text.split(separator: "/", maxSplits: 1)
            guard let address = IPAddress(String(parts.first ?? "")) else {
                throw UsageError("--trusted-proxies: expected networks such as 10.0.0.0/8 or 192.0.2.10, got \"\(text)\"")
            }
            let width: UInt8 = address.isIPv4 ? 32 : 128
            guard let prefix = parts.count == 2 ? UInt8(parts[1]) : width, prefix <= width else {
                throw UsageError("--trusted-proxies: \"\(text)\" has a bad prefix length (0-\(width))")
            }
            trustedProxies.append((address.masked(toPrefix: Int(prefix)), prefix))
        }
        if let text = args.value("location") {
            let parts = text.split(separator: ",", maxSplits: 1).map { Double(String($0.trimmingSpaces)) }
            guard parts.count == 2, let latitude = parts[0], let longitude = parts[1], (-90...90).contains(latitude),
                  (-180...180).contains(longitude) else {
                throw UsageError("--location: expected LAT,LONG in degrees such as 53.35,-6.26, got \"\(text)\"")
            }
            location = (latitude, longitude)
        }
    }

    /// --https, --certs and --upstream-ca. Only what can be checked without loading: the
    /// certificates themselves are loaded (and refused with every reason) when the agent starts.
    private mutating func parseTLS(_ args: Arguments) throws(UsageError) {
        https = try Self.address(args, "https")
        certificates = args.value("certs")
        switch (https, certificates) {
        case (nil, nil): break
        case (_?, nil): throw UsageError("--https needs --certs DIR (or GLB_CERTS): the directory of PEM certificates to serve")
        case (nil, _?): throw UsageError("--certs is only used with --https ADDR:PORT (or GLB_HTTPS)")
        case (_?, let directory?):
            var info = stat()
            guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw UsageError("--certs: \(directory) is not a directory")
            }
        }
        if let file = args.value("upstream-ca") {
            guard FileManager.default.isReadableFile(atPath: file) else { throw UsageError("--upstream-ca: cannot read \(file)") }
            upstreamCA = file
        }
    }

    /// --gossip, --join and the key. Without a key every gossip address must be loopback:
    /// plaintext membership and config on a real network would let anyone
    /// who can send a datagram rewrite the routing table.
    private mutating func parseGossip(_ args: Arguments, environment: [String: String]) throws(UsageError) {
        gossip = try Self.address(args, "gossip")
        for text in args.list("join") {
            guard let address = SocketAddress(parsing: text) else {
                throw UsageError("--join: expected HOST:PORT such as 10.0.0.2:7946, got \"\(text)\"")
            }
            join.append(address)
        }
        if !join.isEmpty, gossip == nil { throw UsageError("--join needs --gossip ADDR:PORT: this node must gossip to join others") }
        let envKey = environment[Self.gossipKeyVariable].flatMap { $0.isEmpty ? nil : $0 }
        if let path = args.value("gossip-key-file") {
            guard envKey == nil else {
                throw UsageError("--gossip-key-file and \(Self.gossipKeyVariable) are both set: keep one")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                let reason = access(path, R_OK) == 0 ? "not a readable file" : String(cString: strerror(errno))
                throw UsageError("--gossip-key-file: cannot read \(path): \(reason)")
            }
            let text = String(decoding: data, as: UTF8.self)
            do { gossipKeyring = try Keyring(parsing: text) } catch {
                throw UsageError("--gossip-key-file \(path): \(error) (make one with: openssl rand -base64 32)")
            }
        } else if let envKey {
            do { gossipKeyring = try Keyring(parsing: envKey) } catch {
                throw UsageError("\(Self.gossipKeyVariable): \(error) (make one with: openssl rand -base64 32)")
            }
        }
        if gossipKeyring == nil, let gossip {
            if !gossip.ip.isLoopback {
                throw UsageError("--gossip \(gossip) is not a loopback address: set --gossip-key-file or \(Self.gossipKeyVariable) so gossip is encrypted")
            }
            if let outside = join.first(where: { !$0.ip.isLoopback }) {
                throw UsageError("--join \(outside) is not a loopback address: set --gossip-key-file or \(Self.gossipKeyVariable) so gossip is encrypted")
            }
        }
    }

    static func address(_ args: Arguments, _ flag: String) throws(UsageError) -> SocketAddress? {
        guard let text = args.value(flag) else { return nil }
        guard let address = SocketAddress(parsing: text) else {
            throw UsageError("--\(flag): expected ADDR:PORT such as 127.0.0.1:9090 or [::1]:53, got \"\(text)\"")
        }
        return address
    }

    /// Lower-cases and adds the trailing dot; nil unless every label is 1-63 of [a-z0-9-_].
    static func normalizedZone(_ text: String) -> String? {
        var name = text.lowercased()
        if !name.hasSuffix(".") { name += "." }
        let labels = name.dropLast().split(separator: ".", omittingEmptySubsequences: false)
        guard !labels.isEmpty, name.utf8.count <= 254 else { return nil }
        for label in labels {
            guard (1...63).contains(label.utf8.count),
                  label.utf8.allSatisfy({ $0 == 0x2D || $0 == 0x5F || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) })
            else { return nil }
        }
        return name
    }

    static func isName(_ text: String) -> Bool {
        (1...63).contains(text.utf8.count)
            && text.utf8.allSatisfy { $0 == 0x2D || $0 == 0x5F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }

    static var hostname: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "glb" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let short = String(name.split(separator: ".").first ?? "glb")
        return isName(short) ? short : "glb"
    }
}
