extension JSONValue {
    /// This document with a JSON merge patch applied (RFC 7396 §2): a patch object's members
    /// replace the target's of the same name, recursively for objects, and a member whose value
    /// is `null` removes that member; any patch that is not an object replaces the target whole.
    /// Members keep the target's order; new ones are appended in the patch's order.
    package func applyingMergePatch(_ patch: JSONValue) -> JSONValue {
        guard case .object(let changes) = patch else { return patch }
        var members = objectValue ?? []
        for (key, change) in changes {
            let index = members.firstIndex { $0.key == key }
            if change == .null {
                if let index { members.remove(at: index) }
            } else if let index {
                members[index].value = members[index].value.applyingMergePatch(change)
            } else {
                members.append((key, JSONValue.null.applyingMergePatch(change)))
            }
        }
        return .object(members)
    }
}
