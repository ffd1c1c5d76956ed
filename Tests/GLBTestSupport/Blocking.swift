import Foundation

/// Runs `body` on a new thread and resumes with its result.
///
/// For blocking calls in async tests (raw sockets, `BlockingHTTPClient`): Swift's cooperative pool
/// has about one thread per core, so a test that blocks one while it waits for a server whose
/// handler also needs the pool can stall the whole run.
package func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let thread = Thread {
            do {
                continuation.resume(returning: try body())
            } catch {
                continuation.resume(throwing: error)
            }
        }
        thread.start()
    }
}
