import Foundation

/// Runs blocking work (a socket exchange, a subprocess wait) on a thread of its own and awaits
/// its result, so it never holds one of the few cooperative-pool threads the actors need.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.start()
    }
}
