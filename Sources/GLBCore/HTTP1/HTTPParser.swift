/// A sans-IO HTTP/1.1 parser (RFC 9112) for requests or responses: bytes in, message parts out.
///
///     next(from:) ──▶ .head(HTTPHead) ──▶ .body(bytes) … ──▶ .end ──▶ .head … (pipelined)
///
///     state:  head ─┬─▶ end ─────────────────────────────────────▶ head
///                   ├─▶ body(remaining) ─────────────────────────▶ end
///                   ├─▶ chunkSize ⇄ chunkData ─▶ chunkDataEnd ─┐
///                   │       └─(size 0)─▶ trailers ─────────────┴─▶ end
///                   ├─▶ untilClose ─(finish())──────────────────▶ end ─▶ closed
///                   └─▶ end ─▶ tunnel (101, or 2xx to CONNECT: the caller owns the bytes now)
///
/// Every message is one `.head`, zero or more `.body` slices and one `.end`, except an interim 1xx
/// response, which is a `.head` alone: the parser then reads the final response to the same
/// request, so `.end` always means the exchange is over. The parser never consumes a byte past the
/// end of the current message, so pipelined requests come out in order and bytes after a 101 stay
/// in the buffer for the tunnel. `.body` slices share the buffer's storage: drop them before
/// writing into that buffer again, or the write copies it.
///
/// After a throw the parser stays failed and rethrows the same error: the stream cannot be
/// resynchronised (RFC 9112 §11.2), so the caller answers `error.status` and closes.
package struct HTTPParser {
    /// Which start line to expect.
    package enum Kind: Sendable, Hashable {
        /// Parse requests (a server: the proxy's client side, the admin API).
        case request
        /// Parse responses (a client: the proxy's upstream side, probes, the CLI).
        case response
    }

    enum State {
        case head
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(bytes: Int, count: Int)
        case untilClose
        case end(thenTunnel: Bool)
        case tunnel
        case closed
        case failed(HTTPParseError)
    }

    /// Progress through a head that has not fully arrived, as offsets from the reader index, so
    /// byte-at-a-time input is scanned once rather than once per byte.
    struct HeadScan {
        var offset = 0
        var lineStart = 0
        var lines = 0
    }

    let kind: Kind
    let limits: HTTPLimits
    var state = State.head
    var scan = HeadScan()
    /// Readable bytes left over when the last call needed more for a head; nonzero at EOF means truncated.
    var pendingHeadBytes = 0
    /// Body bytes announced so far by chunk sizes, checked against `limits.maxBodyBytes`.
    var chunkedBodyBytes = 0
    /// Responses: the method of the request being answered.
    var requestMethod = HTTPMethod.GET
    /// Responses: an interim 1xx was read and the final response has not arrived yet.
    var awaitingFinalResponse = false
    /// The last head's bytes and field index (shared with that head), reused for the next head
    /// once the caller has dropped it: two allocations and two frees per message otherwise.
    var spareBytes: [UInt8] = []
    var spareFields: [HTTPHeaders.Field] = []

    /// The storage heads are built in, handed from a closed connection's parser to a new one's
    /// (`takeHeadStorage`, `adoptHeadStorage`): otherwise each new connection allocates and
    /// frees it for its first head.
    package struct HeadStorage {
        var bytes: [UInt8] = []
        var fields: [HTTPHeaders.Field] = []
        /// None yet: the first head allocates it.
        package init() {}
        init(bytes: [UInt8], fields: [HTTPHeaders.Field]) {
            self.bytes = bytes
            self.fields = fields
        }
    }

    /// Gives up the storage heads reuse (for a parser whose connection is closing).
    package mutating func takeHeadStorage() -> HeadStorage {
        defer { spareBytes = []; spareFields = [] }
        return HeadStorage(bytes: spareBytes, fields: spareFields)
    }

    /// Builds the next heads in `storage` (from a closed connection's parser). Still-shared
    /// storage is safe: the first head then copies out of it, as a fresh array would allocate.
    package mutating func adoptHeadStorage(_ storage: HeadStorage) {
        spareBytes = storage.bytes
        spareFields = storage.fields
    }

    /// A parser for one connection's requests or responses.
    package init(kind: Kind, limits: HTTPLimits = HTTPLimits()) {
        self.kind = kind
        self.limits = limits
    }

    /// Ready for the first message of a new stream (a pooled connection's next exchange), keeping
    /// the storage that heads reuse.
    package mutating func reset() {
        state = .head
        scan = HeadScan()
        pendingHeadBytes = 0
        chunkedBodyBytes = 0
        requestMethod = .GET
        awaitingFinalResponse = false
    }

    /// Responses only: the method of the request being answered. HEAD and CONNECT change framing
    /// (RFC 9112 §6.3), so call it before each response; the default is GET.
    package mutating func expectResponse(to method: HTTPMethod) {
        precondition(kind == .response, "expectResponse(to:) is for response parsers")
        requestMethod = method
    }

    /// True between messages: the last one ended (`.end` was returned) and no byte of the next
    /// has been seen. A proxy pools an upstream connection only in this state.
    package var isAtMessageBoundary: Bool {
        if case .head = state { return pendingHeadBytes == 0 }
        return false
    }

    /// `isAtMessageBoundary` for a parser stored in an object in another module. A getter called
    /// there is handed the parser by value, so the caller copies the whole parser (retaining and
    /// releasing its storage) to ask; a mutating method takes it by address.
    package mutating func checkMessageBoundary() -> Bool { isAtMessageBoundary }

    /// Consumes what it can from `buffer` and returns the next part, or nil when it needs more bytes
    /// (and always nil in the tunnel state after a 101).
    package mutating func next(from buffer: inout ByteBuffer) throws(HTTPParseError) -> HTTPPart? {
        do {
            return try step(&buffer)
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// At EOF: `.end` for a read-until-close response body (or an `.end` already due); throws
    /// `.truncated` if a message was cut short; nil when idle between messages.
    package mutating func finish() throws(HTTPParseError) -> HTTPPart? {
        switch state {
        case .failed(let error):
            throw error
        case .head where pendingHeadBytes > 0 || awaitingFinalResponse,
             .body, .chunkSize, .chunkData, .chunkDataEnd, .trailers:
            state = .failed(.truncated)
            throw .truncated
        case .head, .tunnel, .closed:
            return nil
        case .untilClose:
            state = .closed
            return .end
        case .end(let thenTunnel):
            state = thenTunnel ? .tunnel : .closed
            return .end
        }
    }

    private mutating func step(_ buffer: inout ByteBuffer) throws(HTTPParseError) -> HTTPPart? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .tunnel, .closed:
                return nil
            case .end(let thenTunnel):
                state = thenTunnel ? .tunnel : .head
                return .end
            case .head:
                guard let head = try readHead(&buffer) else {
                    pendingHeadBytes = buffer.readableBytes
                    return nil
                }
                pendingHeadBytes = 0
                enterBody(of: head)
                return .head(head)
            case .body(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                let slice = buffer.readSlice(length: count)!
                state = count == remaining ? .end(thenTunnel: false) : .body(remaining: remaining - count)
                return .body(slice)
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return .body(buffer.readSlice(length: buffer.readableBytes)!)
            case .chunkSize:
                guard let size = try readChunkSize(&buffer) else { return nil }
                if size == 0 {
                    state = .trailers(bytes: 0, count: 0)
                } else {
                    guard size <= limits.maxBodyBytes - chunkedBodyBytes else { throw .bodyTooLarge }
                    chunkedBodyBytes += size
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                let slice = buffer.readSlice(length: count)!
                state = count == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - count)
                return .body(slice)
            case .chunkDataEnd:
                // RFC 9112 §7.1: chunk-data is followed by CRLF; anything else is a framing error.
                guard let cr = buffer.getByte(at: buffer.readerIndex) else { return nil }
                guard cr == HTTPBytes.cr else { throw .missingChunkCRLF }
                guard let lf = buffer.getByte(at: buffer.readerIndex + 1) else { return nil }
                guard lf == HTTPBytes.lf else { throw .missingChunkCRLF }
                buffer.moveReaderIndex(forwardBy: 2)
                state = .chunkSize
            case .trailers(let bytes, let count):
                guard let done = try readTrailerLine(&buffer, bytes: bytes, count: count) else { return nil }
                if done { state = .end(thenTunnel: false) }
            }
        }
    }

    /// Chooses the state after a head (RFC 9112 §6.3).
    private mutating func enterBody(of head: HTTPHead) {
        chunkedBodyBytes = 0
        if kind == .response {
            if head.isInformational {
                awaitingFinalResponse = true       // the final response to the same request follows
                return
            }
            awaitingFinalResponse = false
            // 101 switches protocols; a 2xx to CONNECT starts a tunnel (RFC 9110 §9.3.6). Either way
            // the bytes after this head are no longer HTTP/1.1.
            if head.status == 101 || (requestMethod == .CONNECT && head.status / 100 == 2) {
                state = .end(thenTunnel: true)
                return
            }
        }
        switch head.framing {
        case .none, .contentLength(0): state = .end(thenTunnel: false)
        case .contentLength(let length): state = .body(remaining: length)
        case .chunked: state = .chunkSize
        case .untilClose: state = .untilClose
        }
    }
}

/// One part of a message, in order: head, zero or more body slices, end.
package enum HTTPPart: Sendable {
    /// The start line and fields.
    case head(HTTPHead)
    /// Body bytes, de-chunked. Shares storage with the read buffer.
    case body(ArraySlice<UInt8>)
    /// The message is complete (after any trailers, which are parsed and dropped).
    case end
}
