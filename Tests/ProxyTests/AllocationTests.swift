import CGLBAllocCounter
import GLBCore
import GLBTestSupport
import Proxy
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The query path must not allocate (DESIGN: "no allocation on the request path"). The counter
/// interposes malloc/calloc/realloc/posix_memalign/aligned_alloc for the whole test process and
/// counts per thread, so it sees every allocation the Swift runtime makes on this thread, including
/// ones freed again within the loop (which a heap-size comparison such as mallinfo would miss).
@Suite struct AllocationTests {
    @Test func counterSeesAllocations() {
        let before = cglb_thread_allocations()
        let array = blackHole(Array(repeating: UInt8(1), count: 100))
        #expect(cglb_thread_allocations() > before, "the interposer must be active, or the next test proves nothing")
        _ = array
    }

    @Test func respondAllocatesNothingOnceWarm() {
        let queries: [[UInt8]] = [
            QueryBuilder(name: "www.glb.example.").bytes,
            QueryBuilder(name: "WWW.glb.example.", type: 28).bytes,
            QueryBuilder(name: "api.v2.glb.example.", edns: (1232, 0, true, [])).bytes,
            QueryBuilder(name: "canary.glb.example.", edns: (1232, 0, false, [QueryBuilder.ecs(source: 24, address: [198, 51, 100])])).bytes,
            QueryBuilder(name: "glb.example.", type: 2).bytes,
            QueryBuilder(name: "glb.example.", type: 6).bytes,
            QueryBuilder(name: "nope.glb.example.").bytes,
            QueryBuilder(name: "www.example.com.").bytes,
            QueryBuilder(name: "big.glb.example.").bytes,                        // TC
            QueryBuilder(name: "www.glb.example.", type: 255).bytes,
            QueryBuilder(name: "www.glb.example.", edns: (1232, 1, false, [])).bytes, // BADVERS
            QueryBuilder(flags: 0x2000).bytes,                                     // NOTIMP
            QueryBuilder(trailing: [1]).bytes,                                     // FORMERR
            QueryBuilder(name: "closed.glb.example.").bytes,
        ]
        var responder = DNSResponder()
        var rng = SplitMix64(seed: 3)
        var out: [UInt8] = []
        let snapshot = testSnapshot
        var total = 0
        func run(_ rounds: Int) {
            for _ in 0..<rounds {
                for i in 0..<queries.count {       // indices: `for q in queries` allocated per element in debug
                    for tcp in 0..<2 {
                        total &+= queries[i].withUnsafeBytes { responder.respond(to: $0, client: .v4(0xC000_0201), overTCP: tcp == 1, snapshot: snapshot, rng: &rng, into: &out) } ?? 0
                    }
                }
            }
        }
        run(1)                                   // warm-up: buffers grow to their working size
        var perQuery = [UInt64](repeating: 0, count: queries.count)
        let allocations = withoutThrowHooks { () -> UInt64 in
            let before = cglb_thread_allocations()
            run(1000)
            let allocations = cglb_thread_allocations() - before
            for i in 0..<queries.count {           // which query, if any, allocates
                let b = cglb_thread_allocations()
                _ = queries[i].withUnsafeBytes { responder.respond(to: $0, client: .v4(0xC000_0201), overTCP: false, snapshot: snapshot, rng: &rng, into: &out) }
                _ = queries[i].withUnsafeBytes { responder.respond(to: $0, client: .v4(0xC000_0201), overTCP: true, snapshot: snapshot, rng: &rng, into: &out) }
                perQuery[i] = cglb_thread_allocations() - b
            }
            return allocations
        }
        #expect(allocations == 0, "\(allocations) allocations in \(1000 * queries.count * 2) queries; per query: \(perQuery)")
        #expect(total > 0)
    }
}

/// Runs `body` with the Swift runtime's throw hooks cleared. Swift Testing installs them to record a
/// backtrace for every thrown error, and the typed-throw hook boxes the error: one allocation per
/// FORMERR that production (no hooks) never makes. The hooks are process-wide, so a test running in
/// parallel may miss a backtrace during `body`; nothing else changes.
func withoutThrowHooks<T>(_ body: () -> T) -> T {
    let names: [String] = ["_swift_willThrow", "_swift_willThrowTypedImpl"]
    let hooks = names.compactMap { name in dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) }
    let saved = hooks.map { $0.load(as: UnsafeRawPointer?.self) }
    for hook in hooks { hook.storeBytes(of: UnsafeRawPointer?.none, as: UnsafeRawPointer?.self) }
    defer { for (hook, value) in zip(hooks, saved) { hook.storeBytes(of: value, as: UnsafeRawPointer?.self) } }
    return body()
}

@inline(never) func blackHole<T>(_ value: T) -> T { value }
