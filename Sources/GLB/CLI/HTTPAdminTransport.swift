import GLBCore

/// The CLI's real transport: one blocking HTTP request per command to the node's admin API.
struct HTTPAdminTransport: AdminTransport {
    let address: String
    let token: String?
    var client = BlockingHTTPClient(timeout: .seconds(10))

    func send(method: String, path: String, body: JSONValue?) throws(AdminClientError) -> (status: Int, body: [UInt8]) {
        guard let socketAddress = SocketAddress(parsing: address) else {
            throw AdminClientError(message: "--admin: expected ADDR:PORT such as 127.0.0.1:9090, got \"\(address)\"")
        }
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        var bytes: [UInt8] = []
        if let body {
            headers.append(("Content-Type", "application/json"))
            bytes = Array(body.serialized().utf8)
        }
        do {
            let response = try client.send(HTTPRequest(method: method, target: path, headers: headers, body: bytes), to: socketAddress)
            return (response.status, response.body)
        } catch {
            throw AdminClientError(message: "cannot reach the GLB admin API at \(address) (is 'glb agent' running? set --admin or GLB_ADMIN): \(error.message)")
        }
    }
}
