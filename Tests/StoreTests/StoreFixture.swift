import GLBCore
import GLBTestSupport
@testable import Store

/// A store on a fresh file in its own temp directory, with a manual clock.
struct StoreFixture {
    let directory: TempDirectory
    let clock: ManualClock
    let store: Store
    var path: String { directory.file("glb.sqlite") }

    static let admin = WriteContext(actor: "token:admin", source: "127.0.0.1")

    init(nodeID: String = "eu-1") throws {
        directory = try TempDirectory(prefix: "glb-store")
        clock = ManualClock()
        store = try Store(path: directory.file("glb.sqlite"), nodeID: nodeID, clock: clock)
    }

    /// Opens the same file again (after `store.close()`), as a restart would.
    func reopen(nodeID: String = "eu-1") throws(StoreError) -> Store {
        try Store(path: path, nodeID: nodeID, clock: clock)
    }

    func tearDown() async {
        await store.close()
        directory.remove()
    }

    /// Zone `glb.example.`, service `www` and clusters `eu` and `us`.
    func seed() async throws {
        _ = try await store.putZone(Zone(name: "glb.example."), context: Self.admin)
        _ = try await store.putService(Service(name: "www", zone: "glb.example."), context: Self.admin)
        _ = try await store.putCluster(Cluster(service: "www", name: "eu", region: "eu-west", addresses: ["127.0.0.11"], port: 18081),
                                       context: Self.admin)
        _ = try await store.putCluster(Cluster(service: "www", name: "us", region: "us-east", addresses: ["127.0.0.12"], port: 18082),
                                       context: Self.admin)
    }
}

/// Runs `body` with a fresh fixture and always closes the store and removes the directory.
func withStore(_ body: (StoreFixture) async throws -> Void) async throws {
    let fixture = try StoreFixture()
    do {
        try await body(fixture)
    } catch {
        await fixture.tearDown()
        throw error
    }
    await fixture.tearDown()
}

/// The `StoreError` a call threw, or nil when it did not throw.
func storeError<T>(_ body: () async throws(StoreError) -> T) async -> StoreError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}
