/// A wait that ends: a test that waits for its server's handler to see a request fails, naming
/// the wait, when the request never comes, instead of holding the whole run until CI stops it.
package struct WaitTimedOut: Error, CustomStringConvertible {
    package let description: String
}

extension AsyncStream where Element: Sendable {
    /// The stream's next element, waiting at most `limit` (of real time: a bound on a failure,
    /// not a way to synchronise). Call it from one task at a time, as any AsyncStream iteration.
    package func next(within limit: Duration = .seconds(10), _ what: String = "the next element") async throws -> Element {
        try await withThrowingTaskGroup(of: Element?.self) { group in
            group.addTask {
                var iterator = self.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try await Task.sleep(for: limit)
                throw WaitTimedOut(description: "timed out after \(limit) waiting for \(what)")
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let element = first else {
                throw WaitTimedOut(description: "the stream ended while waiting for \(what)")
            }
            return element
        }
    }
}
