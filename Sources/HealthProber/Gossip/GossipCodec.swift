import GLBCore

/// Why a gossip packet was rejected. Decoding never traps: every malformed input ends here.
package enum GossipDecodeError: Error, Hashable, Sendable {
    case truncated
    case unsupportedVersion(UInt8)
    case oversize(Int)
    /// A field holds a value the format does not allow (an unknown status or address family, a
    /// boolean that is not 0 or 1, metadata over its limit, a string that is not UTF-8) or bytes
    /// are left over in a message.
    case badField(String)
}

/// The compact binary format of gossip packets (big-endian, lengths before bytes).
///
///     packet  = version:u8  count:u8  frame{count}
///     frame   = type:u8  length:u16  body[length]            (type: `GossipMessageType`)
///     string  = length:u8  utf8[length]                      (valid UTF-8)
///     address = family:u8 (4 or 6)  ip[4 or 16]  port:u16
///     facts   = name:string region:string address incarnation:u32 metaLength:u16 meta
///
///     ping     seq:u32 target:string           suspect  node:string inc:u32 from:string
///     ack      seq:u32                         dead     node:string inc:u32 from:string
///     pingReq  seq:u32 target:string address   leave    node:string inc:u32
///     nack     seq:u32                         user     key:string origin:string version:u64
///     alive    facts                                    length:u16 payload
///     sync     reply:u8 count:u8 (status:u8 facts){count}
///
/// A packet is one message plus the broadcasts piggy-backed on it (memberlist's compound
/// message). Frames are encoded once, when queued, so retransmits only copy bytes.
///
/// Decoding is strict: a wrong version, a short or over-long packet, a bad field or bytes left
/// in a frame reject the whole packet. One exception, for rolling upgrades: a frame of an
/// unknown type is skipped by its length, so a node that learns a new message type later does
/// not make older nodes drop the membership updates riding in the same packet.
package enum GossipCodec {
    package static let version: UInt8 = 1
    /// `version` and `count`.
    package static let headerBytes = 2
    /// `type` and `length`.
    package static let frameOverhead = 3
    package static let maxFramesPerPacket = 255
    /// Larger datagrams are rejected before parsing (no sender produces them).
    package static let maxPacketBytes = 16 * 1024
    package static let maxMetadataBytes = 512
    package static let maxStringBytes = 255

    // MARK: Encoding

    /// `message` as one frame, ready to go into any packet.
    package static func frame(_ message: GossipMessage) -> [UInt8] {
        var body = ByteBuffer(capacity: 64)
        switch message {
        case .ping(let seq, let target):
            body.writeInteger(seq)
            writeString(target, to: &body)
        case .ack(let seq), .nack(let seq):
            body.writeInteger(seq)
        case .pingRequest(let seq, let target, let address):
            body.writeInteger(seq)
            writeString(target, to: &body)
            writeAddress(address, to: &body)
        case .alive(let facts):
            writeFacts(facts, to: &body)
        case .suspect(let node, let incarnation, let from), .dead(let node, let incarnation, let from):
            writeString(node, to: &body)
            body.writeInteger(incarnation)
            writeString(from, to: &body)
        case .leave(let node, let incarnation):
            writeString(node, to: &body)
            body.writeInteger(incarnation)
        case .user(let user):
            writeString(user.key, to: &body)
            writeString(user.origin, to: &body)
            body.writeInteger(user.version)
            body.writeInteger(UInt16(clamping: user.payload.count))
            body.writeBytes(user.payload.prefix(Int(UInt16.max)))
        case .sync(let reply, let entries):
            body.writeInteger(UInt8(reply ? 1 : 0))
            body.writeInteger(UInt8(clamping: entries.count))
            for entry in entries.prefix(255) {
                body.writeInteger(entry.status.rawValue)
                writeFacts(entry.facts, to: &body)
            }
        }
        precondition(body.readableBytes <= Int(UInt16.max), "gossip message over 64 KiB")
        var frame: [UInt8] = [message.type.rawValue, UInt8(body.readableBytes >> 8), UInt8(body.readableBytes & 0xFF)]
        frame.append(contentsOf: body.readableView)
        return frame
    }

    /// A packet of already encoded frames (at most `maxFramesPerPacket`).
    package static func packet(frames: [[UInt8]]) -> [UInt8] {
        precondition(frames.count <= maxFramesPerPacket, "too many frames for one packet")
        var bytes: [UInt8] = [version, UInt8(frames.count)]
        bytes.reserveCapacity(frames.reduce(headerBytes) { $0 + $1.count })
        for frame in frames { bytes.append(contentsOf: frame) }
        return bytes
    }

    package static func packet(_ messages: [GossipMessage]) -> [UInt8] {
        packet(frames: messages.map(frame))
    }

    /// Names and keys longer than a string field allows are truncated at a character boundary;
    /// `GossipNode` validates names up front, so this only guards the wire.
    static func writeString(_ string: String, to buffer: inout ByteBuffer) {
        var utf8 = Array(string.utf8)
        if utf8.count > maxStringBytes {
            var cut = maxStringBytes
            while cut > 0, utf8[cut] & 0xC0 == 0x80 { cut -= 1 }
            utf8 = Array(utf8[..<cut])
        }
        buffer.writeInteger(UInt8(utf8.count))
        buffer.writeBytes(utf8)
    }

    static func writeAddress(_ address: SocketAddress, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(address.ip.isIPv4 ? 4 : 6))
        buffer.writeBytes(address.ip.bytes)
        buffer.writeInteger(address.port)
    }

    static func writeFacts(_ facts: MemberFacts, to buffer: inout ByteBuffer) {
        writeString(facts.name, to: &buffer)
        writeString(facts.region, to: &buffer)
        writeAddress(facts.address, to: &buffer)
        buffer.writeInteger(facts.incarnation)
        let metadata = facts.metadata.prefix(maxMetadataBytes)
        buffer.writeInteger(UInt16(metadata.count))
        buffer.writeBytes(metadata)
    }

    // MARK: Decoding

    /// Every message in `packet`, in order.
    package static func decode(_ packet: [UInt8]) throws(GossipDecodeError) -> [GossipMessage] {
        guard packet.count <= maxPacketBytes else { throw .oversize(packet.count) }
        var buffer = ByteBuffer(bytes: packet)
        guard let version = buffer.readInteger(as: UInt8.self) else { throw .truncated }
        guard version == Self.version else { throw .unsupportedVersion(version) }
        guard let count = buffer.readInteger(as: UInt8.self) else { throw .truncated }
        var messages: [GossipMessage] = []
        messages.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let rawType = buffer.readInteger(as: UInt8.self), let length = buffer.readInteger(as: UInt16.self),
                  let body = buffer.readSlice(length: Int(length)) else { throw .truncated }
            guard let type = GossipMessageType(rawValue: rawType) else { continue }
            var reader = ByteBuffer(bytes: body)
            let message = try decodeBody(type, &reader)
            guard reader.readableBytes == 0 else { throw .badField("\(reader.readableBytes) bytes after \(type)") }
            messages.append(message)
        }
        guard buffer.readableBytes == 0 else { throw .badField("\(buffer.readableBytes) bytes after the last frame") }
        return messages
    }

    private static func decodeBody(_ type: GossipMessageType, _ body: inout ByteBuffer) throws(GossipDecodeError) -> GossipMessage {
        switch type {
        case .ping:
            return .ping(seq: try integer(&body), target: try string(&body))
        case .ack:
            return .ack(seq: try integer(&body))
        case .nack:
            return .nack(seq: try integer(&body))
        case .pingRequest:
            return .pingRequest(seq: try integer(&body), target: try string(&body), address: try address(&body))
        case .alive:
            return .alive(try facts(&body))
        case .suspect:
            return .suspect(node: try string(&body), incarnation: try integer(&body), from: try string(&body))
        case .dead:
            return .dead(node: try string(&body), incarnation: try integer(&body), from: try string(&body))
        case .leave:
            return .leave(node: try string(&body), incarnation: try integer(&body))
        case .user:
            let key = try string(&body), origin = try string(&body)
            let version: UInt64 = try integer(&body)
            let length: UInt16 = try integer(&body)
            guard let payload = body.readBytes(length: Int(length)) else { throw .truncated }
            return .user(UserPayload(key: key, origin: origin, version: version, payload: payload))
        case .sync:
            let flag: UInt8 = try integer(&body)
            guard flag <= 1 else { throw .badField("sync reply flag \(flag)") }
            let count: UInt8 = try integer(&body)
            var entries: [SyncEntry] = []
            for _ in 0..<count {
                let raw: UInt8 = try integer(&body)
                guard let status = MemberStatus(rawValue: raw) else { throw .badField("member status \(raw)") }
                entries.append(SyncEntry(facts: try facts(&body), status: status))
            }
            return .sync(reply: flag == 1, entries: entries)
        }
    }

    private static func integer<T: FixedWidthInteger>(_ body: inout ByteBuffer) throws(GossipDecodeError) -> T {
        guard let value = body.readInteger(as: T.self) else { throw .truncated }
        return value
    }

    /// Strict UTF-8, as every sender writes: repairing bad bytes to U+FFFD instead would let a name
    /// decode to up to three times its wire length, so relaying it would truncate it into another
    /// name, and distinct wire names would decode to the same member.
    private static func string(_ body: inout ByteBuffer) throws(GossipDecodeError) -> String {
        let length: UInt8 = try integer(&body)
        guard let bytes = body.readSlice(length: Int(length)) else { throw .truncated }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .badField("string is not UTF-8") }
        return text
    }

    private static func address(_ body: inout ByteBuffer) throws(GossipDecodeError) -> SocketAddress {
        let family: UInt8 = try integer(&body)
        guard family == 4 || family == 6 else { throw .badField("address family \(family)") }
        guard let bytes = body.readSlice(length: family == 4 ? 4 : 16) else { throw .truncated }
        guard let ip = IPAddress(bytes: bytes) else { throw .badField("address") }
        return SocketAddress(ip: ip, port: try integer(&body))
    }

    private static func facts(_ body: inout ByteBuffer) throws(GossipDecodeError) -> MemberFacts {
        let name = try string(&body), region = try string(&body)
        let address = try address(&body)
        let incarnation: UInt32 = try integer(&body)
        let length: UInt16 = try integer(&body)
        guard Int(length) <= maxMetadataBytes else { throw .badField("metadata of \(length) bytes") }
        guard let metadata = body.readBytes(length: Int(length)) else { throw .truncated }
        return MemberFacts(name: name, region: region, address: address, incarnation: incarnation, metadata: metadata)
    }
}
