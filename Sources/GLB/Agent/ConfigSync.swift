import FoundationEssentials
import GLBCore
import HealthProber
import Store

/// Push-pull anti-entropy over TCP (memberlist's `pushPullNode`): two nodes trade
/// their per-writer versions and send each other every row the other lacks, whole, however
/// large. It backs up the UDP path, whose payloads must fit one packet: a row too large for gossip
/// (a cluster with dozens of IPv6 addresses) and a node back from a long absence both catch up here.
///
///     A ── POST /v1/sync {node A, versions A} ─────────────────────────▶ B
///     A ◀─ {node B, versions B, rows B has newer than versions A} ───── B   A applies them
///     A ── POST /v1/sync {node A, versions A, rows A has newer than B} ─▶ B   (only if any)
///
/// It listens on TCP at the gossip address and port. Bodies are sealed with the gossip keyring
/// (AES-256-GCM, the same envelope as gossip packets); a body that does not open is refused
/// with 403 and counted. Without a keyring (loopback only) bodies travel as plain JSON.
struct ConfigSync: Sendable {
    /// One side of an exchange. Versions are HLC raw values by writer (`Store.originVersions`).
    struct Message: Codable, Sendable, Equatable {
        var node: String
        var versions: [String: UInt64]
        var rows: [ReplicatedRow]
    }

    enum Failure: Error, CustomStringConvertible {
        case unreachable(String)
        case refused(Int)
        case undecodable(String)

        var description: String {
            switch self {
            case .unreachable(let why): "unreachable: \(why)"
            case .refused(let status): "refused with HTTP \(status)"
            case .undecodable(let why): "undecodable answer: \(why)"
            }
        }
    }

    static let path = "/v1/sync"
    /// A whole config fits: 32 MiB is about 100k cluster rows.
    static let maxBodyBytes = 32 << 20

    let keyring: Keyring?

    func seal(_ message: Message) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let plain = Array(try encoder.encode(message))
        guard let keyring else { return plain }
        return PacketCipher().seal(plain, with: keyring)
    }

    func open(_ body: [UInt8]) throws -> Message {
        let plain = if let keyring { try PacketCipher().open(body, with: keyring) } else { body }
        return try JSONDecoder().decode(Message.self, from: Data(plain))
    }

    /// One request to a peer's sync endpoint, off the cooperative pool.
    func send(_ message: Message, to peer: SocketAddress, timeout: Duration = .seconds(10)) async throws(Failure) -> Message {
        let body: [UInt8]
        do { body = try seal(message) } catch { throw .undecodable("cannot encode our side: \(error)") }
        let request = HTTPRequest(method: "POST", target: Self.path, headers: [("Content-Type", "application/octet-stream")], body: body)
        let response: HTTPResponse
        do {
            response = try await offPool { try BlockingHTTPClient(timeout: timeout, maxResponseBytes: Self.maxBodyBytes).send(request, to: peer) }
        } catch {
            throw .unreachable("\(error)")
        }
        guard response.status == 200 else { throw .refused(response.status) }
        do { return try open(response.body) } catch { throw .undecodable("\(error)") }
    }
}

/// The sync endpoint on the gossip port: hands each opened message to the replicator and
/// seals its answer.
struct ConfigSyncEndpoint: HTTPHandler {
    let sync: ConfigSync
    let replicator: Replicator
    let logger: Logger

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.path == ConfigSync.path else { return HTTPResponse(status: 404, contentType: "text/plain", body: "not found\n") }
        guard request.method == "POST" else {
            return HTTPResponse(status: 405, headers: [("Allow", "POST"), ("Content-Type", "text/plain")], body: Array("POST only\n".utf8))
        }
        let message: ConfigSync.Message
        do { message = try sync.open(request.body) } catch {
            await replicator.countSync("refused")
            logger.warning("refused a config sync that does not open under our keyring", ["from": request.remote.map { "\($0)" } ?? "-"])
            return HTTPResponse(status: 403, contentType: "text/plain", body: "does not open under this cluster's key\n")
        }
        let answer = await replicator.answerSync(message)
        do {
            return HTTPResponse(status: 200, headers: [("Content-Type", "application/octet-stream")], body: try sync.seal(answer))
        } catch {
            return HTTPResponse(status: 500, contentType: "text/plain", body: "cannot encode the answer\n")
        }
    }
}
