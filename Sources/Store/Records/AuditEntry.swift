/// One line of the append-only audit log: who changed what, when, from where, and the record
/// before and after as JSON. Local to a node: not replicated.
package struct AuditEntry: Sendable, Equatable, Codable {
    /// Increases with every entry on this node.
    package var id: Int64
    /// Wall time in ms since the epoch.
    package var atMS: Int64
    /// Who: `token:admin`, `anonymous`, `node:eu-1`.
    package var actor: String
    /// From where: the remote address of the request.
    package var source: String
    /// `put`, `patch` or `delete` (and `promote`, `clear` for canaries, `seed` for zones the agent made).
    package var action: String
    /// `zone`, `service`, `cluster`, `canary` or `node`.
    package var entity: String
    /// The record's key: `glb.example.`, `www`, `www/eu`.
    package var key: String
    /// The record before the change, as sorted-key JSON; nil when it did not exist (or was a tombstone).
    package var oldValue: String?
    /// The record after the change, as sorted-key JSON; nil for a delete.
    package var newValue: String?

    /// An audit entry.
    package init(id: Int64, atMS: Int64, actor: String, source: String, action: String, entity: String, key: String,
                 oldValue: String?, newValue: String?) {
        self.id = id
        self.atMS = atMS
        self.actor = actor
        self.source = source
        self.action = action
        self.entity = entity
        self.key = key
        self.oldValue = oldValue
        self.newValue = newValue
    }

    enum CodingKeys: String, CodingKey {
        case id, atMS = "at_ms", actor, source, action, entity, key, oldValue = "old_value", newValue = "new_value"
    }
}
