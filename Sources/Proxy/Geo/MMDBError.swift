/// Why a MaxMind DB file, or one record in it, cannot be read. A closed set on the lookup path,
/// so it is thrown typed (STYLE 8.3): no existential box, no allocation.
package enum MMDBError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file could not be opened, stat'ed or mapped (errno).
    case io(call: String, errno: Int32)
    /// No `\xAB\xCD\xEFMaxMind.com` marker in the last 128 KiB (spec "Database Metadata").
    case noMetadata
    /// The metadata map lacks a required key, or has it with the wrong type or an unsupported value.
    case badMetadata(String)
    /// The search tree and data section do not fit in the file (node_count x record size too large).
    case treeOutOfBounds
    /// A tree record points neither at a node, nor at "no data", nor inside the data section.
    case badTreeRecord(node: UInt32)
    /// A data field runs past the end of its section, or a pointer points outside it.
    case dataOutOfBounds(offset: Int)
    /// A pointer points at another pointer ("It is illegal for a pointer to point to another pointer").
    case pointerToPointer(offset: Int)
    /// Maps or arrays nested deeper than `MMDBDecoder.maxDepth`, or more values than its budget:
    /// a crafted file could otherwise recurse without end through pointers.
    case tooDeep(offset: Int)
    /// A field has a size its type cannot have (a double not 8 bytes, a uint16 over 2, ...).
    case badSize(type: UInt8, size: Int, offset: Int)
    /// A map key that is not a UTF-8 string, or an unknown type number.
    case badType(type: UInt8, offset: Int)
    /// A string that is not valid UTF-8.
    case badUTF8(offset: Int)

    package var description: String {
        switch self {
        case .io(let call, let errno): "\(call) failed (errno \(errno))"
        case .noMetadata: "not a MaxMind DB file: no metadata marker in the last 128 KiB"
        case .badMetadata(let what): "bad metadata: \(what)"
        case .treeOutOfBounds: "the search tree does not fit in the file (corrupt node_count or record_size)"
        case .badTreeRecord(let node): "search tree node \(node) has a record pointing outside the tree and data section"
        case .dataOutOfBounds(let offset): "data field at \(offset) runs outside its section"
        case .pointerToPointer(let offset): "pointer at \(offset) points at another pointer"
        case .tooDeep(let offset): "data at \(offset) nests too deeply or too often (pointer cycle?)"
        case .badSize(let type, let size, let offset): "field of type \(type) at \(offset) has impossible size \(size)"
        case .badType(let type, let offset): "unexpected type \(type) at \(offset)"
        case .badUTF8(let offset): "string at \(offset) is not UTF-8"
        }
    }
}
