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
}
