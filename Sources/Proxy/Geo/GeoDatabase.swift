#if canImport(Glibc)
import Glibc
#endif
package import GLBCore

/// A MaxMind DB (`.mmdb`) file, memory-mapped read-only, and its binary search tree
/// (MaxMind-DB-spec.md v2.0). Written for GLB from the public spec.
///
///     file:  | search tree: node_count nodes | 16 zero bytes | data section | \xAB\xCD\xEFMaxMind.com | metadata map |
///     node:  left record | right record      (24, 28 or 32 bits each; 28 packs both top nibbles in the middle byte)
///     walk:  bit 0 → left, 1 → right; record < node_count: next node; == node_count: no data;
///            > node_count: data at (record - node_count) + tree size in the file
///
/// Opened on the control plane (`init(path:)` validates the metadata and every tree record once,
/// O(node_count)), then shared read-only by every event loop through the routing snapshot: the
/// class is immutable after `init`, which is the invariant behind `@unchecked Sendable` (the raw
/// pointer to the mapping is what Swift cannot check). `lookup` and `location` allocate nothing.
///
/// Replace the file by renaming a new one over it (`mv`), never by writing in place: a mapped file
/// truncated underneath its readers faults them (SIGBUS). The agent's reload maps the new inode and
/// the old mapping lives until the last snapshot holding it is released.
package final class GeoDatabase: @unchecked Sendable {
    private let bytes: UnsafeRawBufferPointer
    private let mapped: Bool
    /// The file it was opened from, or nil for an in-memory image.
    package let path: String?
    /// The whole metadata map, for `explain` and tests.
    package let metadata: MMDBValue
    /// `database_type`, e.g. `GeoIP2-Country`.
    package let databaseType: String
    /// `build_epoch`: seconds since 1970 when the file was built (0 if absent).
    package let buildEpoch: UInt64
    /// `ip_version`: 4 (IPv4 tree only) or 6.
    package let ipVersion: Int
    /// `node_count`.
    package let nodeCount: UInt32
    /// `record_size` in bits: 24, 28 or 32.
    package let recordSize: Int
    private let nodeBytes: Int
    private let treeSize: Int
    private let dataEnd: Int
    /// Where IPv4 lookups start in an IPv6 tree: the record reached by 96 zero bits (the spec's
    /// "IPv4 addresses in an IPv6 tree": stored as-is, i.e. under ::/96), and its depth.
    private let ipv4Start: UInt32

    /// The longest suffix of the file searched for the metadata marker: the spec caps metadata
    /// at 128 KiB.
    static let metadataWindow = 128 * 1024
    static let marker: [UInt8] = [0xAB, 0xCD, 0xEF] + Array("MaxMind.com".utf8)

    /// Maps and validates the file at `path`.
    package convenience init(path: String) throws(MMDBError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(call: "open", errno: errno) }
        defer { close(fd) }                       // the mapping keeps the file, not the descriptor
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(call: "fstat", errno: errno) }
        let size = Int(info.st_size)
        guard size > 0 else { throw .noMetadata }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw .io(call: "mmap", errno: errno)
        }
        let view = UnsafeRawBufferPointer(start: base, count: size)
        do {
            try self.init(bytes: view, mapped: true, path: path)
        } catch {
            munmap(base, size)
            throw error
        }
    }

    /// An in-memory image (tests and the fuzz target); the bytes are copied.
    package convenience init(image: [UInt8]) throws(MMDBError) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, image.count), alignment: 16)
        image.withUnsafeBytes { copy.copyMemory(from: $0) }
        do {
            try self.init(bytes: UnsafeRawBufferPointer(start: copy.baseAddress, count: image.count), mapped: false, path: nil)
        } catch {
            copy.deallocate()
            throw error
        }
    }

    /// Everything that can throw happens before the first stored property is set: a class whose
    /// init throws after full initialisation runs `deinit`, which would unmap (or free) memory the
    /// convenience initialisers release again on the error path.
    private init(bytes: UnsafeRawBufferPointer, mapped: Bool, path: String?) throws(MMDBError) {
        guard let markerAt = Self.findMarker(bytes) else { throw .noMetadata }
        let metadataDecoder = MMDBDecoder(bytes: bytes, start: markerAt + Self.marker.count, end: bytes.count)
        let metadata = try metadataDecoder.decode(at: markerAt + Self.marker.count)
        guard case .map = metadata else { throw .badMetadata("the metadata is not a map") }
        guard let major = metadata["binary_format_major_version"]?.integerValue, major == 2 else {
            throw .badMetadata("binary_format_major_version must be 2")
        }
        guard let nodes = metadata["node_count"]?.integerValue, nodes > 0, nodes < UInt64(UInt32.max) else {
            throw .badMetadata("node_count is missing or out of range")
        }
        guard let recordBits = metadata["record_size"]?.integerValue, [24, 28, 32].contains(recordBits) else {
            throw .badMetadata("record_size must be 24, 28 or 32")
        }
        guard let version = metadata["ip_version"]?.integerValue, version == 4 || version == 6 else {
            throw .badMetadata("ip_version must be 4 or 6")
        }
        let nodeCount = UInt32(nodes), recordSize = Int(recordBits)
        let (tree, overflow) = Int(nodes).multipliedReportingOverflow(by: recordSize / 4)
        // The tree, the 16-byte separator and the marker must fit, in that order.
        guard !overflow, tree + 16 <= markerAt else { throw .treeOutOfBounds }
        try Self.validateTree(bytes, recordSize: recordSize, nodeCount: nodeCount, dataSize: markerAt - tree - 16)
        try Self.validateShape(bytes, recordSize: recordSize, nodeCount: nodeCount, maxHeight: version == 6 ? 128 : 32)
        var ipv4Start: UInt32 = 0
        if version == 6 {
            var depth = 0
            while depth < 96 && ipv4Start < nodeCount {
                ipv4Start = Self.record(bytes, recordSize, ipv4Start, bit: 0)
                depth += 1
            }
        }
        self.bytes = bytes
        self.mapped = mapped
        self.path = path
        self.metadata = metadata
        self.nodeCount = nodeCount
        self.recordSize = recordSize
        self.ipVersion = Int(version)
        self.databaseType = metadata["database_type"]?.stringValue ?? ""
        self.buildEpoch = metadata["build_epoch"]?.integerValue ?? 0
        self.nodeBytes = recordSize / 4
        self.treeSize = tree
        self.dataEnd = markerAt
        self.ipv4Start = ipv4Start
    }

    deinit {
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
        } else {
            UnsafeMutableRawPointer(mutating: bytes.baseAddress)?.deallocate()
        }
    }

    private static func findMarker(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let count = marker.count
        guard bytes.count >= count else { return nil }
        let lowest = max(0, bytes.count - metadataWindow)
        var at = bytes.count - count
        // The last occurrence: the marker could appear by chance in the data section too.
        while at >= lowest {
            if bytes[at] == 0xAB && bytes[at + 1] == 0xCD && bytes[at + 2] == 0xEF {
                var k = 3
                while k < count && bytes[at + k] == marker[k] { k += 1 }
                if k == count { return at }
            }
            at -= 1
        }
        return nil
    }

    /// Every record of every node must be a node, "no data", or inside the data section. Checked
    /// once here, so a lookup never reads outside the file however the tree was corrupted.
    private static func validateTree(_ bytes: UnsafeRawBufferPointer, recordSize: Int, nodeCount: UInt32, dataSize: Int) throws(MMDBError) {
        let dataSize = UInt64(dataSize)
        var node: UInt32 = 0
        while node < nodeCount {
            for bit in 0..<2 {
                let r = record(bytes, recordSize, node, bit: bit)
                guard r > nodeCount else { continue }
                // Data records start at node_count + 16 ("the 16 is the size of the separator").
                guard UInt64(r) >= UInt64(nodeCount) + 16, UInt64(r) - UInt64(nodeCount) - 16 < dataSize else {
                    throw .badTreeRecord(node: node)
                }
            }
            node += 1
        }
    }

    /// The tree must be a DAG no taller than the address: a record that points back up (a cycle)
    /// or a chain deeper than 32/128 bits would make a lookup run out of address bits while still
    /// on a node. Lookups stop at the address width anyway, so this cannot hang them; it makes
    /// such a file an error at open instead of silently wrong answers. One memoised depth-first
    /// walk, O(node_count), recursion bounded by `maxHeight` (libmaxminddb instead reports
    /// MMDB_CORRUPT_SEARCH_TREE_ERROR per lookup).
    private static func validateShape(_ bytes: UnsafeRawBufferPointer, recordSize: Int, nodeCount: UInt32, maxHeight: Int) throws(MMDBError) {
        // 0: not seen; 1...129: height + 1; 255: on the current path.
        var heights = [UInt8](repeating: 0, count: Int(nodeCount))
        func height(_ node: UInt32, depth: Int) throws(MMDBError) -> Int {
            guard node < nodeCount else { return 0 }
            let mark = heights[Int(node)]
            if mark == 255 { throw .badTreeRecord(node: node) }          // a cycle
            if mark != 0 { return Int(mark) - 1 }
            guard depth < maxHeight else { throw .badTreeRecord(node: node) }
            heights[Int(node)] = 255
            let h = 1 + max(try height(record(bytes, recordSize, node, bit: 0), depth: depth + 1),
                            try height(record(bytes, recordSize, node, bit: 1), depth: depth + 1))
            guard depth + h <= maxHeight else { throw .badTreeRecord(node: node) }
            heights[Int(node)] = UInt8(h + 1)
            return h
        }
        _ = try height(0, depth: 0)
    }

    /// The left (`bit` 0) or right record of `node` (spec "Search Tree Section" layouts).
    @inline(__always)
    private func record(_ node: UInt32, bit: Int) -> UInt32 {
        Self.record(bytes, recordSize, node, bit: bit)
    }

    @inline(__always)
    private static func record(_ bytes: UnsafeRawBufferPointer, _ recordSize: Int, _ node: UInt32, bit: Int) -> UInt32 {
        let base = Int(node) * (recordSize / 4)
        switch recordSize {
        case 24:
            let o = base + 3 * bit
            return UInt32(bytes[o]) << 16 | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2])
        case 28:
            // | 23..0 | 27..24 | 27..24 | 23..0 |: the middle byte's high nibble tops the left
            // record, its low nibble the right one.
            let middle = UInt32(bytes[base + 3])
            if bit == 0 {
                return (middle & 0xF0) << 20 | UInt32(bytes[base]) << 16 | UInt32(bytes[base + 1]) << 8 | UInt32(bytes[base + 2])
            }
            return (middle & 0x0F) << 24 | UInt32(bytes[base + 4]) << 16 | UInt32(bytes[base + 5]) << 8 | UInt32(bytes[base + 6])
        default:
            let o = base + 4 * bit
            return UInt32(bytes[o]) << 24 | UInt32(bytes[o + 1]) << 16 | UInt32(bytes[o + 2]) << 8 | UInt32(bytes[o + 3])
        }
    }

    /// Walks the tree for `address`. `record` is the data offset in the file, or nil when the
    /// database has no data for it; `prefix` is how many leading bits of the address decided that
    /// (the matched network's prefix length, in the address's own family: an IPv4 address in an
    /// IPv6 tree counts from the ::/96 start). Allocation-free; cannot fail after `init`.
    @inline(__always)
    package func lookup(_ address: IPAddress) -> (record: Int?, prefix: UInt8) {
        var node: UInt32
        var depth = 0
        let bitCount: Int
        let high: UInt64, low: UInt64
        switch address {
        case .v4(let a):
            bitCount = 32
            high = UInt64(a) << 32
            low = 0
            if ipVersion == 6 {
                node = ipv4Start
                // The ::/96 walk may already have ended in data or "no data": every IPv4 address
                // then shares that answer, decided by zero bits of its own.
                if node >= nodeCount { return (dataOffset(node), 0) }
            } else {
                node = 0
            }
        case .v6(let h, let l):
            guard ipVersion == 6 else { return (nil, 0) }
            bitCount = 128
            high = h
            low = l
            node = 0
        }
        while depth < bitCount && node < nodeCount {
            let bit = depth < 64 ? (high >> UInt64(63 - depth)) & 1 : (low >> UInt64(127 - depth)) & 1
            node = record(node, bit: Int(bit))
            depth += 1
        }
        return (node > nodeCount ? dataOffset(node) : nil, UInt8(depth))
    }

    @inline(__always)
    private func dataOffset(_ record: UInt32) -> Int? {
        record > nodeCount ? Int(record - nodeCount) + treeSize : nil
    }

    /// A decoder over the data section.
    var data: MMDBDecoder { MMDBDecoder(bytes: bytes, start: treeSize + 16, end: dataEnd) }

    /// The whole record at a data offset `lookup` returned (tests, `glb explain`).
    package func record(at offset: Int) throws(MMDBError) -> MMDBValue {
        try data.decode(at: offset)
    }

    /// What routing needs from the record at `offset`: country (else registered country),
    /// continent, and location, read in place (GeoIP2/GeoLite2 layout: `country.iso_code`,
    /// `registered_country.iso_code`, `continent.code`, `location.latitude/longitude`).
    /// Allocation-free; a record that is not shaped so yields unknown fields, a corrupt one throws.
    /// One pass over the top-level map: a City record's big `city` and `subdivisions` values are
    /// skipped once, not once per wanted key (measured: 3.4 µs a query before, see geo.sh).
    @inline(__always)
    package func location(at offset: Int) throws(MMDBError) -> GeoLocation {
        let d = data
        var result = GeoLocation()
        var registered = GeoCode.unknown
        let (map, _) = try d.resolved(at: offset)
        guard map.type == MMDBDecoder.Kind.map else { return result }
        var cursor = map.payload
        for _ in 0..<map.size {
            let (key, valueOffset) = try d.key(at: cursor)
            switch key {
            case .country:
                if let iso = try d.value(inMapAt: valueOffset, key: "iso_code") { result.country = try d.code(at: iso) ?? .unknown }
            case .registeredCountry:
                if let iso = try d.value(inMapAt: valueOffset, key: "iso_code") { registered = try d.code(at: iso) ?? .unknown }
            case .continent:
                if let code = try d.value(inMapAt: valueOffset, key: "code") { result.continent = try d.code(at: code) ?? .unknown }
            case .location:
                if let lat = try d.value(inMapAt: valueOffset, key: "latitude"), let long = try d.value(inMapAt: valueOffset, key: "longitude"),
                   let latitude = try d.double(at: lat), let longitude = try d.double(at: long),
                   (-90...90).contains(latitude), (-180...180).contains(longitude) {
                    result.latitude = latitude
                    result.longitude = longitude
                }
            case .other:
                break
            }
            cursor = try d.skip(valueOffset, depth: 1)
        }
        if !result.country.isKnown { result.country = registered }
        return result
    }
}
