#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking work (a socket exchange, a subprocess wait) on a detached thread of its own and
/// awaits its result, so it never holds one of the few cooperative-pool threads the actors need.
/// A plain pthread, so the agent needs no Foundation `Thread` (and so no full Foundation).
package func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let job = Unmanaged.passRetained(Job {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        })
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, job.toOpaque())
        guard rc == 0 else {
            job.release()
            continuation.resume(throwing: SystemError(call: "pthread_create", errno: rc))
            return
        }
        pthread_detach(thread)
    }
}

/// The closure a new thread runs, boxed so it can cross `pthread_create`'s `void *`.
private final class Job {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
