package import GLBCore

/// The authoritative answer to one query, sans IO: bytes in, bytes out (RFC 1035, 2308, 3596, 6891,
/// 7871, 8020, 8482). One per event loop; it owns its scratch (the question name, the response
/// buffer's capacity, the Router), so answering allocates nothing once warm.
///
/// Decisions, in order:
/// - fewer than 12 bytes, or QR set: drop (nil), never answer a response;
/// - opcode other than QUERY: NOTIMP, header only;
/// - malformed (see `DNSParseError`): FORMERR, header only;
/// - EDNS version above 0: BADVERS with OPT (RFC 6891 §6.1.3);
/// - class other than IN, AXFR/IXFR: REFUSED (no CHAOS, no zone transfers: nodes sync by gossip);
/// - a name in no zone: REFUSED, never recursion, RA clear;
/// - a name under a zone but not in it: NXDOMAIN + SOA (RFC 2308 §2.1);
/// - a known name without the type (including an empty non-terminal, RFC 8020): NODATA + SOA;
/// - SOA/NS at the apex (glue for in-zone NS in additional), A/AAAA from the Router or glue;
/// - ANY (RFC 8482 §4.1): one RRset, the first that exists of A, AAAA, SOA; else NODATA.
/// A response over the client's UDP limit is cut to its question with TC set (RFC 2181 §9).
package struct DNSResponder {
    /// The question's name as the client spelled it, `nameLength` bytes in `buffers.name`.
    private var nameLength = 0
    private var writer = DNSWriter(UnsafeMutableRawBufferPointer(start: nil, count: 0))
    /// The Router (its scratch is reused; `explain` uses its own).
    private var router = Router()
    private let buffers = Buffers()
    /// `buffers.name`, held here too: reading a pointer costs no retain of `buffers`.
    private let nameMemory: UnsafeMutableRawBufferPointer

    /// The responder's own memory, freed with it: the question name, and a largest-message buffer
    /// for the array-returning `respond`, made on its first use.
    private final class Buffers {
        let name = UnsafeMutableRawBufferPointer.allocate(byteCount: DNSLimits.maxName, alignment: 8)
        var message: UnsafeMutableRawBufferPointer?
        deinit {
            name.deallocate()
            message?.deallocate()
        }
    }

    /// The question's name, valid while answering.
    private var name: UnsafeRawBufferPointer {
        @inline(__always) get { UnsafeRawBufferPointer(rebasing: nameMemory[0..<nameLength]) }
    }

    /// A responder with its buffers reserved.
    package init() { nameMemory = buffers.name }

    /// Answers `query` into `response`, replacing its contents (and growing it once to the
    /// largest message, keeping that capacity); returns the length, nil to drop the packet. For
    /// tests, tools and the fuzzer; the servers write into their own memory.
    package mutating func respond(to query: UnsafeRawBufferPointer, client: IPAddress, overTCP: Bool,
                                  snapshot: RoutingSnapshot, rng: inout some RandomNumberGenerator,
                                  into response: inout [UInt8]) -> Int? {
        let message = buffers.message ?? {
            let made = UnsafeMutableRawBufferPointer.allocate(byteCount: DNSLimits.maxTCPSize, alignment: 8)
            buffers.message = made
            return made
        }()
        let n = respond(to: query, client: client, overTCP: overTCP, snapshot: snapshot, rng: &rng, into: message)
        response.removeAll(keepingCapacity: true)
        if let n { response.append(contentsOf: UnsafeRawBufferPointer(rebasing: message[0..<n])) }
        return n
    }

    /// Answers `query` from `client`. Writes the message (without the TCP length prefix) into
    /// `memory` and returns its length; nil means drop the packet silently. `memory` should hold
    /// at least `DNSLimits.advertisedUDPSize` bytes for UDP and `DNSLimits.maxTCPSize` for TCP:
    /// an answer that does not fit is truncated with TC, like one over the client's limit.
    package mutating func respond(to query: UnsafeRawBufferPointer, client: IPAddress, overTCP: Bool,
                                  snapshot: RoutingSnapshot, rng: inout some RandomNumberGenerator,
                                  into memory: UnsafeMutableRawBufferPointer) -> Int? {
        guard query.count >= DNSLimits.headerSize else { return nil }
        let flags = UInt16(query[2]) << 8 | UInt16(query[3])
        guard flags & DNSFlags.qr == 0 else { return nil }
        writer = DNSWriter(memory)
        defer { writer = DNSWriter(UnsafeMutableRawBufferPointer(start: nil, count: 0)) }
        let id = UInt16(query[0]) << 8 | UInt16(query[1])
        // QR, the opcode, RD and CD are copied into every response (RFC 1035 §4.1.1, RFC 4035 §3.2.2).
        let echoed = DNSFlags.qr | (flags & (0x7800 | DNSFlags.rd | 0x0010))
        guard (flags >> 11) & 0xF == DNSOpcode.query.rawValue else {
            writer.header(id: id, flags: echoed | DNSRCode.notImp.rawValue, questions: 0)
            return writer.count
        }
        var reader = DNSReader(query)
        let q: DNSQuery
        // `do throws(...)`: a plain `do` catches `any Error`, which boxes the error: one allocation.
        do throws(DNSParseError) {
            q = try reader.parseQuery(name: nameMemory, nameLength: &nameLength)
        } catch {
            writer.header(id: id, flags: echoed | DNSRCode.formErr.rawValue, questions: 0)
            return writer.count
        }
        var limit = DNSLimits.maxTCPSize
        if !overTCP {
            // RFC 6891 §6.2.5: values below 512 mean 512; never more than we advertise.
            limit = q.edns.map { Swift.min(Swift.max(Int($0.udpPayloadSize), DNSLimits.classicUDPSize), DNSLimits.advertisedUDPSize) }
                ?? DNSLimits.classicUDPSize
        }
        var answer = Answer(flags: echoed, rcode: .noError, scope: 0)
        writer.header(id: id, flags: 0, questions: 1)
        writer.append(name)
        writer.u16(q.type.rawValue)
        writer.u16(q.qclass.rawValue)
        let questionEnd = writer.count

        if let edns = q.edns, edns.version > 0 {
            answer.rcode = .badVers
        } else if q.qclass != .in || q.type == .axfr || q.type == .ixfr {
            answer.rcode = .refused
        } else {
            answerQuestion(q, client: client, snapshot: snapshot, rng: &rng, answer: &answer)
        }
        finish(q, answer: answer)
        if writer.overflowed || writer.count > limit {
            writer.truncate(to: questionEnd)
            writer.set16(0, at: 6); writer.set16(0, at: 8); writer.set16(0, at: 10)
            answer.flags |= DNSFlags.tc
            finish(q, answer: answer)
        }
        return writer.count
    }

    /// What goes in the header and OPT once the sections are written.
    private struct Answer {
        var flags: UInt16
        var rcode: DNSRCode
        var scope: UInt8
        var answers: UInt16 = 0
        var authority: UInt16 = 0
        var additional: UInt16 = 0
    }

    /// Appends OPT if the query had one and patches the header.
    private mutating func finish(_ q: DNSQuery, answer: Answer) {
        var additional = answer.additional
        if answer.flags & DNSFlags.tc != 0 { additional = 0 }
        if let edns = q.edns {
            writer.opt(rcode: answer.rcode, dnssecOK: edns.dnssecOK, clientSubnet: edns.version == 0 ? edns.clientSubnet : nil,
                       scope: answer.scope)
            additional += 1
        }
        writer.set16(answer.flags | (answer.rcode.rawValue & 0xF), at: 2)
        if answer.flags & DNSFlags.tc == 0 {
            writer.set16(answer.answers, at: 6)
            writer.set16(answer.authority, at: 8)
        }
        writer.set16(additional, at: 10)
    }

    /// Looks the name up and writes the answer, authority and additional sections.
    private mutating func answerQuestion(_ q: DNSQuery, client: IPAddress, snapshot: RoutingSnapshot,
                                         rng: inout some RandomNumberGenerator, answer: inout Answer) {
        let found = snapshot.names.lookup(name)
        guard let node = found else {
            // Not an owner name: NXDOMAIN if an ancestor is in one of our zones, else not ours.
            guard let zone = closestZone(snapshot) else { answer.rcode = .refused; return }
            answer.flags |= DNSFlags.aa
            answer.rcode = .nxDomain
            writeNegativeSOA(snapshot.zones[Int(zone)], answer: &answer)
            return
        }
        answer.flags |= DNSFlags.aa
        // The snapshot keeps its zones alive while we answer: no retain per query.
        unowned(unsafe) let zone = snapshot.zones[Int(node.zone)]
        var type = q.type
        if type == .any { type = anyType(node, snapshot) }
        switch type {
        case .a, .aaaa:
            let family: AddressFamily = type == .a ? .v4 : .v6
            if node.service >= 0 {
                let svc = snapshot.services[Int(node.service)]
                let key = ClientKey(client: client, subnet: q.edns?.clientSubnet)
                let decision = router.route(service: Int(node.service), family: family, client: key, snapshot: snapshot, rng: &rng)
                // RFC 7871 §7.2.1: the scope is the prefix the answer depended on (canary hash, location).
                answer.scope = decision.ecsScope(for: key)
                var k = 0
                // Stops at the first record that does not fit: the answer is then cut to TC, and
                // the count (a UInt16) cannot overflow however many addresses a service has.
                while k < router.chosen.count, !writer.overflowed {
                    writeAddressRecord(snapshot.endpoints[Int(router.chosen[k])].address, ttl: svc.ttl)
                    answer.answers &+= 1
                    k += 1
                }
            } else if node.host >= 0 {
                let host = snapshot.hosts[Int(node.host)]
                for address in family == .v4 ? host.v4 : host.v6 {
                    writeAddressRecord(address, ttl: zone.ttl)
                    answer.answers += 1
                }
            }
        case .soa where node.isApex:
            writer.pointer(to: DNSLimits.headerSize)
            let length = writer.beginRecord(type: .soa, ttl: zone.ttl)
            writer.append(zone.soaRData)
            writer.endRData(lengthAt: length)
            answer.answers = 1
        case .ns where node.isApex:
            writeNameservers(zone, snapshot, answer: &answer)
        default:
            break
        }
        if answer.answers == 0 { writeNegativeSOA(zone, answer: &answer) }
    }

    /// RFC 8482 §4.1: answer ANY with one RRset that exists, preferring addresses.
    private func anyType(_ node: NameNode, _ snapshot: RoutingSnapshot) -> DNSType {
        if node.service >= 0 {
            let svc = snapshot.services[Int(node.service)]
            if !svc.v4.isEmpty { return .a }
            if !svc.v6.isEmpty { return .aaaa }
        }
        if node.host >= 0 { return snapshot.hosts[Int(node.host)].v4.isEmpty ? .aaaa : .a }
        return node.isApex ? .soa : .any
    }

    /// An A or AAAA record owned by the question name (a pointer to offset 12).
    @inline(__always)
    private mutating func writeAddressRecord(_ address: IPAddress, ttl: UInt32) {
        writer.pointer(to: DNSLimits.headerSize)
        let length = writer.beginRecord(type: address.isIPv4 ? .a : .aaaa, ttl: ttl)
        writer.address(address)
        writer.endRData(lengthAt: length)
    }

    /// The apex NS RRset, and in-zone glue in additional with owners pointing into the NS RDATA.
    private mutating func writeNameservers(_ zone: Zone, _ snapshot: RoutingSnapshot, answer: inout Answer) {
        // Index loops throughout: see `Router.draw` on iterators and debug-build lifetimes.
        let glueStart = writer.count + 12
        var k = 0
        while k < zone.nameservers.count {
            writer.pointer(to: DNSLimits.headerSize)
            let length = writer.beginRecord(type: .ns, ttl: zone.ttl)
            zone.nameservers[k].wire.withUnsafeBytes { writer.append($0) }
            writer.endRData(lengthAt: length)
            answer.answers += 1
            k += 1
        }
        // Offsets of each NS name, recomputed from the fixed layout: each record is a 2-byte owner
        // pointer, 10 bytes of TYPE/CLASS/TTL/RDLENGTH, then the name.
        var offset = glueStart
        k = 0
        while k < zone.nameservers.count {
            let host = zone.glue[k]
            if host >= 0, offset < 0x4000 {
                let glue = snapshot.hosts[Int(host)]
                var a = 0
                while a < glue.v4.count { writeGlue(glue.v4[a], owner: offset, ttl: zone.ttl, answer: &answer); a += 1 }
                a = 0
                while a < glue.v6.count { writeGlue(glue.v6[a], owner: offset, ttl: zone.ttl, answer: &answer); a += 1 }
            }
            offset += zone.nameservers[k].wire.count + 12
            k += 1
        }
    }

    private mutating func writeGlue(_ address: IPAddress, owner: Int, ttl: UInt32, answer: inout Answer) {
        writer.pointer(to: owner)
        let length = writer.beginRecord(type: address.isIPv4 ? .a : .aaaa, ttl: ttl)
        writer.address(address)
        writer.endRData(lengthAt: length)
        answer.additional += 1
    }

    /// The SOA in authority for NXDOMAIN and NODATA, TTL min(SOA TTL, MINIMUM) (RFC 2308 §3). Its
    /// owner, the apex, is a suffix of the question name, so it is a pointer into the question.
    private mutating func writeNegativeSOA(_ zone: Zone, answer: inout Answer) {
        writer.pointer(to: DNSLimits.headerSize + name.count - zone.name.wire.count)
        let length = writer.beginRecord(type: .soa, ttl: zone.negativeAnswerTTL)
        writer.append(zone.soaRData)
        writer.endRData(lengthAt: length)
        answer.authority += 1
    }

    /// The zone of the closest ancestor of the question name that is in the snapshot, if any.
    private func closestZone(_ snapshot: RoutingSnapshot) -> Int32? {
        let raw = name
        var offset = 0
        while raw[offset] != 0 {
            offset += 1 + Int(raw[offset])
            if let node = snapshot.names.lookup(UnsafeRawBufferPointer(rebasing: raw[offset...])) { return node.zone }
        }
        return nil
    }
}
