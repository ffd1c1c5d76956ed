/// Why a query could not be parsed. Every case becomes FORMERR (RFC 1035 §4.1.1).
package enum DNSParseError: Error, Equatable, Sendable {
    /// The packet ends inside a field.
    case truncated
    /// A label length byte uses the reserved 0x40/0x80 prefixes (RFC 6891 §5 retired them).
    case badLabel
    /// A name is longer than 255 bytes in wire form (RFC 1035 §2.3.4).
    case nameTooLong
    /// A compression pointer points at or after itself, into the header, or a chain is too long.
    case badPointer
    /// QDCOUNT is not 1, or ANCOUNT/NSCOUNT is not 0 in a query.
    case badCounts
    /// The question asks for a pseudo type (OPT) that cannot be queried.
    case badQuestion
    /// An OPT record that is not at the root, or a second one (RFC 6891 §6.1.1).
    case badOPT
    /// An EDNS option runs past the RDATA.
    case badOption
    /// A malformed or duplicated Client Subnet option (RFC 7871 §7.1.1).
    case badClientSubnet
    /// Bytes after the last record the header counts. GLB's policy: FORMERR, not silently ignored,
    /// because a well-formed query never has them and over TCP they would desynchronise framing.
    case trailingBytes
}

/// A parsed query: the header fields GLB echoes and the single question (RFC 1035 §4.1.1, §4.1.2).
/// The question's name is not here: `DNSReader.parseQuery` copies it, with the client's case, into
/// a buffer the caller owns.
package struct DNSQuery: Sendable {
    /// The ID to echo.
    package var id: UInt16
    /// The raw flags word of the query (RD is copied from it).
    package var flags: UInt16
    /// QTYPE.
    package var type: DNSType
    /// QCLASS.
    package var qclass: DNSClass
    /// The OPT record, if the query had one.
    package var edns: EDNSOptions?
}

/// Reads a query in place from the packet bytes (after gdnsd's `dnspacket.c`): no copies beyond
/// the question name, which goes into a caller-owned buffer whose capacity is reused.
package struct DNSReader {
    private let bytes: UnsafeRawBufferPointer
    /// The next byte to read.
    package private(set) var index: Int

    /// Most compression pointers one name may follow. Pointers must point strictly backwards, so
    /// loops are already impossible; this only bounds the work a hostile chain can cause.
    package static let maxPointers = 32

    /// A reader over `bytes`, starting at the first byte.
    package init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.index = 0
    }

    /// Parses a whole query: header, exactly one question, no answer or authority records, and an
    /// additional section in which at most one OPT is parsed and anything else is skipped.
    /// The caller has checked that there are at least 12 bytes, QR is 0 and the opcode is QUERY.
    /// The question's name goes into `name` (at least `DNSLimits.maxName` bytes), uncompressed, in
    /// the client's case; its length into `nameLength`.
    package mutating func parseQuery(name: UnsafeMutableRawBufferPointer, nameLength: inout Int) throws(DNSParseError) -> DNSQuery {
        precondition(name.count >= DNSLimits.maxName, "the name buffer must hold the longest name")
        guard bytes.count >= DNSLimits.headerSize else { throw .truncated }
        let id = u16(0), flags = u16(2)
        guard u16(4) == 1, u16(6) == 0, u16(8) == 0 else { throw .badCounts }
        let additional = Int(u16(10))
        index = DNSLimits.headerSize
        nameLength = try walkName(into: name.baseAddress)
        guard index + 4 <= bytes.count else { throw .truncated }
        let type = DNSType(rawValue: u16(index)), qclass = DNSClass(rawValue: u16(index + 2))
        index += 4
        guard type != .opt else { throw .badQuestion }
        var edns: EDNSOptions? = nil
        for _ in 0..<additional {
            let isRoot = index < bytes.count && bytes[index] == 0
            try skipName()
            guard index + 10 <= bytes.count else { throw .truncated }
            let rrType = DNSType(rawValue: u16(index)), rrClass = u16(index + 2)
            let ttl = UInt32(u16(index + 4)) << 16 | UInt32(u16(index + 6))
            let length = Int(u16(index + 8))
            index += 10
            guard index + length <= bytes.count else { throw .truncated }
            if rrType == .opt {
                // RFC 6891 §6.1.1: the owner is the root, and more than one OPT is FORMERR.
                guard isRoot, edns == nil else { throw .badOPT }
                edns = try EDNS.parse(udpSize: rrClass, ttl: ttl,
                                      rdata: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + length)]))
            }
            index += length
        }
        guard index == bytes.count else { throw .trailingBytes }
        return DNSQuery(id: id, flags: flags, type: type, qclass: qclass, edns: edns)
    }

    /// `parseQuery` into an array, for tests and tools.
    package mutating func parseQuery(name: inout [UInt8]) throws(DNSParseError) -> DNSQuery {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: DNSLimits.maxName, alignment: 1)
        defer { buffer.deallocate() }
        var length = 0
        let query = try parseQuery(name: buffer, nameLength: &length)
        name.removeAll(keepingCapacity: true)
        name.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<length]))
        return query
    }

    /// Moves `index` past the name there (RFC 1035 §4.1.4 compression), checking it like the
    /// question's name.
    package mutating func skipName() throws(DNSParseError) {
        _ = try walkName(into: nil)
    }

    /// Checks the name at `index`, copies it uncompressed to `out` (which holds `maxName` bytes)
    /// unless `out` is nil, moves `index` past it, and returns its length. Bytes are copied a run
    /// at a time, a run being the labels between two pointers: a query's name has no pointer, so
    /// that is one copy.
    private mutating func walkName(into out: UnsafeMutableRawPointer?) throws(DNSParseError) -> Int {
        var cursor = index, jumps = 0, resumeAt = -1, length = 0
        var runStart = cursor, written = 0
        while true {
            guard cursor < bytes.count else { throw .truncated }
            let byte = Int(bytes[cursor])
            switch byte & 0xC0 {
            case 0x00 where byte == 0:
                length += 1
                if let out { copyRun(runStart..<(cursor + 1), to: out, at: &written) }
                index = resumeAt >= 0 ? resumeAt : cursor + 1
                return length
            case 0x00:
                guard cursor + 1 + byte <= bytes.count else { throw .truncated }
                // The label, its length byte and the root byte still to come must fit in 255.
                length += 1 + byte
                guard length + 1 <= DNSLimits.maxName else { throw .nameTooLong }
                cursor += 1 + byte
            case 0xC0:
                guard cursor + 1 < bytes.count else { throw .truncated }
                let target = (byte & 0x3F) << 8 | Int(bytes[cursor + 1])
                jumps += 1
                // Strictly backwards and past the header: no loops, no pointer to itself or forward.
                guard target < cursor, target >= DNSLimits.headerSize, jumps <= DNSReader.maxPointers else { throw .badPointer }
                if let out { copyRun(runStart..<cursor, to: out, at: &written) }
                if resumeAt < 0 { resumeAt = cursor + 2 }
                cursor = target
                runStart = cursor
            default:
                throw .badLabel
            }
        }
    }

    /// Copies `bytes[run]` to `out + written`; the length checks in `walkName` keep it in bounds.
    @inline(__always)
    private func copyRun(_ run: Range<Int>, to out: UnsafeMutableRawPointer, at written: inout Int) {
        guard !run.isEmpty else { return }
        (out + written).copyMemory(from: bytes.baseAddress.unsafelyUnwrapped + run.lowerBound, byteCount: run.count)
        written += run.count
    }

    @inline(__always)
    private func u16(_ at: Int) -> UInt16 {
        UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])
    }
}
