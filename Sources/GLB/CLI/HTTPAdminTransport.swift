import GLBCore

/// The CLI's real transport: one blocking HTTP request per command to the node's admin API.
struct HTTPAdminTransport: AdminTransport {
    let address: String
    let token: String?
    /// PEM roots for an `https://` admin URL; nil: the system's.
    var trustRoots: String?
    var client = BlockingHTTPClient(timeout: .seconds(10))

    func send(method: String, path: String, body: JSONValue?) throws(AdminClientError) -> (status: Int, body: [UInt8]) {
        let endpoint: AdminEndpoint
        do { endpoint = try AdminEndpoint(parsing: address) } catch { throw AdminClientError(message: error.message) }
        let socketAddress = try endpoint.resolve()
        var tls: BlockingHTTPClient.TLS?
        if endpoint.secure {
            do {
                tls = .init(context: try TLSContext(trustRootsFile: trustRoots), serverName: IPAddress(endpoint.host) == nil ? endpoint.host : nil)
            } catch {
                throw AdminClientError(message: "cannot set up TLS for \(endpoint): \(error)")
            }
        }
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        var bytes: [UInt8] = []
        if let body {
            headers.append(("Content-Type", "application/json"))
            bytes = Array(body.serialized().utf8)
        }
        do {
            let response = try client.send(HTTPRequest(method: method, target: path, headers: headers, body: bytes), to: socketAddress, tls: tls)
            return (response.status, response.body)
        } catch {
            throw AdminClientError(message: "cannot reach the GLB admin API at \(endpoint) (is 'glb agent' running? set --admin or GLB_ADMIN): \(error.message)")
        }
    }
}
