import GLBCore

/// How the CLI reaches a node's admin API. The socket implementation is `HTTPAdminTransport`;
/// tests substitute a fake that answers from a table.
protocol AdminTransport {
    func send(method: String, path: String, body: JSONValue?) throws(AdminClientError) -> (status: Int, body: [UInt8])
}

/// The node could not be asked at all (as opposed to answering with an error).
struct AdminClientError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A thin typed layer over the transport: JSON in, JSON out, HTTP errors turned into the API's
/// own message and a meaningful exit code.
struct AdminClient {
    let transport: any AdminTransport

    struct Failure: Error {
        let code: ExitCode
        let message: String
    }

    func request(_ method: String, _ path: String, body: JSONValue? = nil) throws(Failure) -> JSONValue {
        let answer: (status: Int, body: [UInt8])
        do {
            answer = try transport.send(method: method, path: path, body: body)
        } catch {
            throw Failure(code: .unreachable, message: error.message)
        }
        let parsed = try? JSONParser.parse(answer.body)
        guard (200..<300).contains(answer.status) else {
            let message = parsed?["error"]?.stringValue ?? "HTTP \(answer.status)"
            let field = parsed?["field"]?.stringValue.map { " (field \($0))" } ?? ""
            let code: ExitCode = answer.status == 404 ? .notFound : (answer.status < 500 ? .rejected : .failure)
            throw Failure(code: code, message: message + field)
        }
        if answer.body.isEmpty { return .null }
        guard let parsed else { throw Failure(code: .failure, message: "the node answered with something that is not JSON") }
        return parsed
    }

    /// Percent-encodes one path segment (service and cluster names are plain, but be safe).
    static func segment(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}
