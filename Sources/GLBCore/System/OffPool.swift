/// Runs blocking work (a socket exchange, a subprocess wait) on a detached thread of its own and
/// awaits its result, so it never holds one of the few cooperative-pool threads the actors need.
package func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        do {
            try SystemThread {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }.detach()
        } catch {
            continuation.resume(throwing: error)
        }
    }
}
