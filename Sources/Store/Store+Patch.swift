/// Partial updates (the admin API's PATCH): the current record is read, changed and written back
/// in one turn of the actor, so no other write can land between the read and the write and be
/// lost. `change` gets the live record and returns it as it should be; it runs inside the actor
/// and must not block. A change is audited as `patch`, with the old and the new record; a patch
/// that changes nothing writes nothing (no new version, no audit entry).
extension Store {
    /// Nil when there is no live zone `name`.
    package func patchZone(named name: String, context: WriteContext,
                           _ change: @Sendable (Zone) throws(StoreError) -> Zone) throws(StoreError) -> WriteOutcome<Zone>? {
        guard let current = try zone(named: name) else { return nil }
        let changed = try validate(try change(current))
        try Self.sameKey(changed.name == current.name, "name")
        guard !changed.hasSameContent(as: current) else { return WriteOutcome(record: current, created: false, previous: current) }
        return try putZone(changed, context: context, action: "patch")
    }

    /// Nil when there is no live service `name`.
    package func patchService(named name: String, context: WriteContext,
                              _ change: @Sendable (Service) throws(StoreError) -> Service) throws(StoreError) -> WriteOutcome<Service>? {
        guard let current = try service(named: name) else { return nil }
        let changed = try validate(try change(current))
        try Self.sameKey(changed.name == current.name, "name")
        guard !changed.hasSameContent(as: current) else { return WriteOutcome(record: current, created: false, previous: current) }
        return try putService(changed, context: context, action: "patch")
    }

    /// Nil when `service` has no live cluster `name`.
    package func patchCluster(service: String, name: String, context: WriteContext,
                              _ change: @Sendable (Cluster) throws(StoreError) -> Cluster) throws(StoreError) -> WriteOutcome<Cluster>? {
        guard let current = try cluster(service: service, name: name) else { return nil }
        let changed = try validate(try change(current))
        try Self.sameKey(changed.service == current.service && changed.name == current.name, "name")
        guard !changed.hasSameContent(as: current) else { return WriteOutcome(record: current, created: false, previous: current) }
        return try putCluster(changed, context: context, action: "patch")
    }

    /// A patch changes a record, never which record it is.
    private static func sameKey(_ same: Bool, _ field: String) throws(StoreError) {
        guard same else { throw StoreError(kind: .inconsistent, message: "a patch cannot rename a record; create the new one and delete the old", field: field) }
    }
}
