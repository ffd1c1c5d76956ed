import GLBCore
import Testing

struct MalformedCase: Sendable, CustomTestStringConvertible {
    let name: String
    let raw: String
    let error: HTTPParseError
    let status: Int
    var testDescription: String { name }
}

private let h = "Host: a\r\n"
private func post(_ fields: String, _ body: String = "") -> String { "POST / HTTP/1.1\r\n\(h)\(fields)\r\n\(body)" }
private func chunked(_ body: String) -> String { post("Transfer-Encoding: chunked\r\n", body) }

/// Every malformed, smuggling and limit case, with the status a server answers (RFC 9112 §11.2).
let malformedRequests: [MalformedCase] = [
    // RFC 9112 §6.1 / §6.3: framing ambiguity
    MalformedCase(name: "CL then TE", raw: post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), error: .contentLengthWithTransferEncoding, status: 400),
    MalformedCase(name: "TE then CL", raw: post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), error: .contentLengthWithTransferEncoding, status: 400),
    MalformedCase(name: "duplicate equal CL", raw: post("Content-Length: 5\r\nContent-Length: 5\r\n"), error: .duplicateContentLength, status: 400),
    MalformedCase(name: "duplicate different CL", raw: post("Content-Length: 5\r\nContent-Length: 6\r\n"), error: .duplicateContentLength, status: 400),
    MalformedCase(name: "CL list", raw: post("Content-Length: 5, 5\r\n"), error: .invalidContentLength, status: 400),
    MalformedCase(name: "CL non-digit", raw: post("Content-Length: abc\r\n"), error: .invalidContentLength, status: 400),
    MalformedCase(name: "CL negative", raw: post("Content-Length: -1\r\n"), error: .invalidContentLength, status: 400),
    MalformedCase(name: "CL plus sign", raw: post("Content-Length: +5\r\n"), error: .invalidContentLength, status: 400),
    MalformedCase(name: "CL hex", raw: post("Content-Length: 0x5\r\n"), error: .invalidContentLength, status: 400),
    MalformedCase(name: "CL overflow", raw: post("Content-Length: 99999999999999999999\r\n"), error: .invalidContentLength, status: 400),
    MalformedCase(name: "CL empty", raw: post("Content-Length:\r\n"), error: .invalidContentLength, status: 400),
    MalformedCase(name: "CL inner space", raw: post("Content-Length: 1 2\r\n"), error: .invalidContentLength, status: 400),
    MalformedCase(name: "TE gzip", raw: post("Transfer-Encoding: gzip\r\n"), error: .unsupportedTransferCoding, status: 501),
    MalformedCase(name: "TE gzip, chunked", raw: post("Transfer-Encoding: gzip, chunked\r\n"), error: .unsupportedTransferCoding, status: 501),
    MalformedCase(name: "TE xchunked", raw: post("Transfer-Encoding: xchunked\r\n"), error: .unsupportedTransferCoding, status: 501),
    MalformedCase(name: "TE chunked with parameter", raw: post("Transfer-Encoding: chunked;q=1\r\n"), error: .unsupportedTransferCoding, status: 501),
    MalformedCase(name: "TE chunked not last", raw: post("Transfer-Encoding: chunked, gzip\r\n"), error: .invalidTransferEncoding, status: 400),
    MalformedCase(name: "TE chunked twice in a list", raw: post("Transfer-Encoding: chunked, chunked\r\n"), error: .invalidTransferEncoding, status: 400),
    MalformedCase(name: "TE chunked in two fields", raw: post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), error: .invalidTransferEncoding, status: 400),
    MalformedCase(name: "TE empty", raw: post("Transfer-Encoding:\r\n"), error: .invalidTransferEncoding, status: 400),
    MalformedCase(name: "TE in HTTP/1.0", raw: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", error: .transferEncodingInHTTP10, status: 400),
    // RFC 9112 §2.2 and §5: line and field syntax
    MalformedCase(name: "obs-fold", raw: "GET / HTTP/1.1\r\n\(h)X-A: b\r\n c\r\n\r\n", error: .obsFold, status: 400),
    MalformedCase(name: "obs-fold with HTAB", raw: "GET / HTTP/1.1\r\n\(h)X-A: b\r\n\tc\r\n\r\n", error: .obsFold, status: 400),
    MalformedCase(name: "first field folded", raw: "GET / HTTP/1.1\r\n Host: a\r\n\r\n", error: .obsFold, status: 400),
    MalformedCase(name: "bare CR in request line", raw: "GET / HTTP/1.1\rHost: a\r\n\r\n", error: .bareCR, status: 400),
    MalformedCase(name: "bare CR in value", raw: "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", error: .bareCR, status: 400),
    MalformedCase(name: "bare LF line ends", raw: "GET / HTTP/1.1\nHost: a\n\n", error: .bareLF, status: 400),
    MalformedCase(name: "bare LF ends head", raw: "GET / HTTP/1.1\r\nHost: a\r\n\n", error: .bareLF, status: 400),
    MalformedCase(name: "leading bare LF", raw: "\nGET / HTTP/1.1\r\n\(h)\r\n", error: .bareLF, status: 400),
    MalformedCase(name: "space before colon", raw: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", error: .whitespaceBeforeColon, status: 400),
    MalformedCase(name: "tab before colon", raw: "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", error: .whitespaceBeforeColon, status: 400),
    MalformedCase(name: "non-token field name", raw: "GET / HTTP/1.1\r\n\(h)X@Y: a\r\n\r\n", error: .invalidFieldName, status: 400),
    MalformedCase(name: "empty field name", raw: "GET / HTTP/1.1\r\n\(h): a\r\n\r\n", error: .invalidFieldName, status: 400),
    MalformedCase(name: "field without colon", raw: "GET / HTTP/1.1\r\n\(h)NoColon\r\n\r\n", error: .missingColon, status: 400),
    MalformedCase(name: "NUL in value", raw: "GET / HTTP/1.1\r\n\(h)X: a\u{0}b\r\n\r\n", error: .invalidFieldValue, status: 400),
    MalformedCase(name: "control byte in value", raw: "GET / HTTP/1.1\r\n\(h)X: a\u{1}b\r\n\r\n", error: .invalidFieldValue, status: 400),
    MalformedCase(name: "DEL in value", raw: "GET / HTTP/1.1\r\n\(h)X: a\u{7F}\r\n\r\n", error: .invalidFieldValue, status: 400),
    // RFC 9112 §3: request line
    MalformedCase(name: "non-token method", raw: "G(T / HTTP/1.1\r\n\(h)\r\n", error: .invalidMethod, status: 400),
    MalformedCase(name: "empty method", raw: " / HTTP/1.1\r\n\(h)\r\n", error: .invalidMethod, status: 400),
    MalformedCase(name: "empty target", raw: "GET  HTTP/1.1\r\n\(h)\r\n", error: .invalidTarget, status: 400),
    MalformedCase(name: "space in target", raw: "GET /a b HTTP/1.1\r\n\(h)\r\n", error: .invalidTarget, status: 400),
    MalformedCase(name: "control in target", raw: "GET /a\u{1}b HTTP/1.1\r\n\(h)\r\n", error: .invalidTarget, status: 400),
    MalformedCase(name: "tab in target", raw: "GET /a\tb HTTP/1.1\r\n\(h)\r\n", error: .invalidTarget, status: 400),
    MalformedCase(name: "HTTP/0.9 style", raw: "GET /\r\n\r\n", error: .invalidVersion, status: 400),
    MalformedCase(name: "lower-case version", raw: "GET / http/1.1\r\n\(h)\r\n", error: .invalidVersion, status: 400),
    MalformedCase(name: "version with extra bytes", raw: "GET / HTTP/1.10\r\n\(h)\r\n", error: .invalidVersion, status: 400),
    MalformedCase(name: "HTTP/2.0", raw: "GET / HTTP/2.0\r\n\(h)\r\n", error: .unsupportedVersion, status: 505),
    MalformedCase(name: "HTTP/1.2", raw: "GET / HTTP/1.2\r\n\(h)\r\n", error: .unsupportedVersion, status: 505),
    MalformedCase(name: "HTTP/0.9", raw: "GET / HTTP/0.9\r\n\(h)\r\n", error: .unsupportedVersion, status: 505),
    // RFC 9112 §3.2: Host
    MalformedCase(name: "HTTP/1.1 without Host", raw: "GET / HTTP/1.1\r\n\r\n", error: .missingHost, status: 400),
    MalformedCase(name: "two Hosts", raw: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", error: .duplicateHost, status: 400),
    MalformedCase(name: "two Hosts in HTTP/1.0", raw: "GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", error: .duplicateHost, status: 400),
    // RFC 9112 §7.1: chunked coding
    MalformedCase(name: "chunk size not hex", raw: chunked("x\r\n"), error: .invalidChunkSize, status: 400),
    MalformedCase(name: "chunk size empty", raw: chunked("\r\nhello\r\n0\r\n\r\n"), error: .invalidChunkSize, status: 400),
    MalformedCase(name: "chunk size negative", raw: chunked("-5\r\nhello\r\n"), error: .invalidChunkSize, status: 400),
    MalformedCase(name: "chunk size 0x prefix", raw: chunked("0x5\r\nhello\r\n"), error: .invalidChunkSize, status: 400),
    MalformedCase(name: "chunk size leading space", raw: chunked(" 5\r\nhello\r\n"), error: .invalidChunkSize, status: 400),
    MalformedCase(name: "chunk size trailing space", raw: chunked("5 \r\nhello\r\n"), error: .invalidChunkSize, status: 400),
    MalformedCase(name: "chunk size overflows Int", raw: chunked("8000000000000000\r\n"), error: .invalidChunkSize, status: 400),
    MalformedCase(name: "chunk size 17 digits", raw: chunked("00000000000000005\r\nhello\r\n"), error: .invalidChunkSize, status: 400),
    MalformedCase(name: "chunk data without CRLF", raw: chunked("5\r\nhelloXX0\r\n\r\n"), error: .missingChunkCRLF, status: 400),
    MalformedCase(name: "chunk data with LF only", raw: chunked("5\r\nhello\n0\r\n\r\n"), error: .missingChunkCRLF, status: 400),
    MalformedCase(name: "chunk data too long", raw: chunked("3\r\nhello\r\n0\r\n\r\n"), error: .missingChunkCRLF, status: 400),
    MalformedCase(name: "chunk size line bare LF", raw: chunked("5\nhello\r\n"), error: .bareLF, status: 400),
    MalformedCase(name: "chunk extension bare CR", raw: chunked("5;a\rb\r\nhello\r\n"), error: .bareCR, status: 400),
    MalformedCase(name: "chunk extension control byte", raw: chunked("5;a=\u{1}\r\nhello\r\n"), error: .invalidChunkExtension, status: 400),
    MalformedCase(name: "chunk extension too long", raw: chunked("5;" + String(repeating: "e", count: 2000) + "\r\nhello\r\n"), error: .invalidChunkExtension, status: 400),
    MalformedCase(name: "trailer obs-fold", raw: chunked("0\r\nX: a\r\n b\r\n\r\n"), error: .obsFold, status: 400),
    MalformedCase(name: "trailer without colon", raw: chunked("0\r\nnope\r\n\r\n"), error: .missingColon, status: 400),
    MalformedCase(name: "trailer bare LF", raw: chunked("0\r\nX: a\n\r\n"), error: .bareLF, status: 400),
    MalformedCase(name: "trailers too large", raw: chunked("0\r\nX: " + String(repeating: "t", count: 9000) + "\r\n\r\n"), error: .trailersTooLarge, status: 431),
    MalformedCase(name: "too many trailers", raw: chunked("0\r\n" + String(repeating: "X: t\r\n", count: 33) + "\r\n"), error: .trailersTooLarge, status: 431),
]

@Test(arguments: malformedRequests)
func malformedRequestIsRefusedWithItsStatus(_ c: MalformedCase) {
    let error = parseError(c.raw.bytes, kind: .request)
    #expect(error == c.error)
    #expect(error?.status == c.status)
    #expect(error?.reason.isEmpty == false)
}

@Test(arguments: malformedRequests)
func malformedRequestFailsTheSameWayFedByteAtATime(_ c: MalformedCase) {
    #expect(parseError(c.raw.bytes, kind: .request, pieceSize: 1) == c.error)
}

@Test func bodyOverTheLimitIs413() {
    let limits = HTTPLimits(maxBodyBytes: 4)
    #expect(parseError(post("Content-Length: 5\r\n", "hello").bytes, kind: .request, limits: limits) == .bodyTooLarge)
    #expect(parseError(chunked("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").bytes, kind: .request, limits: limits) == .bodyTooLarge)
    #expect(parseError(chunked("4\r\nabcd\r\n0\r\n\r\n").bytes, kind: .request, limits: limits) == nil)
    #expect(HTTPParseError.bodyTooLarge.status == 413)
}
