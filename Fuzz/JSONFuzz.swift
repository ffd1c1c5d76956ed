// libFuzzer target for the JSON parser, the serializer and merge patches (RFC 8259, RFC 7396):
// the admin API reads every request body with them. Built by scripts/fuzz-json.sh together with
// the GLBCore JSON sources and Logger.swift (JSONText.quote, which the serializer uses) as one
// module, so `package` symbols are visible; not by SwiftPM.
//
// Oracles beyond "no crash, no ASan report", for every input that parses:
//  - round trip: `serialized()` parses back to an equal value, and serializing that gives the
//    same text byte for byte; the same with `sortedKeys`, against the value with its members sorted;
//  - merge patch: a document patched with itself is the document without its null members, the
//    same as patching `null` with it, and applying a patch twice changes nothing the second time;
//  - with a NUL byte in the input, the text before it is a document and the text after it a patch:
//    patching twice equals patching once, and each member the patch names is removed (null) or
//    is the document's old member patched with the patch's.

/// `precondition` drops its message in -O builds; this keeps it in the crash report.
private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}

/// `value` with every object's members sorted by name, as `serialized(sortedKeys: true)` orders them.
private func sortingKeys(_ value: JSONValue) -> JSONValue {
    switch value {
    case .array(let items): .array(items.map(sortingKeys))
    case .object(let members): .object(members.sorted { $0.key < $1.key }.map { ($0.key, sortingKeys($0.value)) })
    default: value
    }
}

/// `value` without members whose value is null, in objects at any depth; arrays keep their nulls
/// (a merge patch replaces arrays whole).
private func droppingNullMembers(_ value: JSONValue) -> JSONValue {
    guard case .object(let members) = value else { return value }
    return .object(members.filter { $0.value != .null }.map { ($0.key, droppingNullMembers($0.value)) })
}

private func reparse(_ text: String) -> JSONValue {
    do {
        return try JSONParser.parse(text)
    } catch {
        fatalError("serialized JSON does not parse (\(error)): \(text)")
    }
}

/// The round-trip and self-patch oracles for one parsed document.
private func check(_ value: JSONValue) {
    require(value == value, "a parsed value is not equal to itself")

    let text = value.serialized()
    let again = reparse(text)
    require(again == value, "serialized() parses back to a different value: \(text)")
    require(again.serialized() == text, "serializing twice gives different text: \(text)")

    let sortedText = value.serialized(sortedKeys: true)
    let sorted = reparse(sortedText)
    require(sorted == sortingKeys(value), "serialized(sortedKeys:) parses back to a different value: \(sortedText)")
    require(sorted.serialized() == sortedText, "sorted serialization is not stable: \(sortedText)")

    let merged = value.applyingMergePatch(value)
    let stripped = droppingNullMembers(value)
    require(merged == stripped, "patching a document with itself did more than drop its null members")
    require(JSONValue.null.applyingMergePatch(value) == stripped, "patching null did more than drop null members")
    require(merged.applyingMergePatch(value) == merged, "a merge patch applied twice changed the document again")
}

/// The input is one document, or a document and a patch separated by a NUL byte (which no JSON
/// text contains outside a string, and a string cannot hold it raw either).
@_cdecl("LLVMFuzzerTestOneInput")
public func jsonFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    let split = input.firstIndex(of: 0) ?? size
    let document = try? JSONParser.parse(input[..<split])
    let patch = split < size ? try? JSONParser.parse(input[(split + 1)...]) : nil
    if let document { check(document) }
    if let patch { check(patch) }
    if let document, let patch {
        let once = document.applyingMergePatch(patch)
        require(once.applyingMergePatch(patch) == once, "a merge patch applied twice changed the document again")
        if case .object(let changes) = patch {
            for (key, change) in changes {
                if change == .null {
                    require(once[key] == nil, "a null in the patch did not remove member \(key)")
                } else {
                    let expected = (document[key] ?? .null).applyingMergePatch(change)
                    require(once[key] == expected, "member \(key) is not its old value patched with the change")
                }
            }
        } else {
            require(once == patch, "a patch that is not an object did not replace the document")
        }
    }
    return 0
}
