/// A value that belongs to one event loop, carried across a `@Sendable` boundary so that work
/// finished elsewhere (an actor, a task) can hop back and touch it on its own thread.
///
/// After NIO's `NIOLoopBound`. `@unchecked Sendable` is sound because the value is only reachable
/// through `withValue`, which runs on the owning loop (via `execute`).
package struct LoopBound<Value: AnyObject>: @unchecked Sendable {
    package let loop: EventLoop
    private let value: Value

    package init(_ value: Value, loop: EventLoop) {
        self.value = value
        self.loop = loop
    }

    /// Runs `body` with the value on its loop's thread, soon.
    package func withValue(_ body: @escaping @Sendable (Value) -> Void) {
        let value = self
        loop.execute { body(value.value) }
    }

    /// Runs `body` with the value on its loop's thread and waits for it to finish.
    package func run(_ body: @escaping @Sendable (Value) -> Void) async {
        let value = self
        await loop.submit { body(value.value) }
    }
}

extension EventLoop {
    /// Runs `body` on this loop and returns its result to the awaiting caller: how the control
    /// plane sets up or tears down loop-confined state (listeners, per-loop server state).
    package func submit<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { done in
            execute {
                do throws(E) { done.resume(returning: .success(try body())) } catch { done.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }
}
