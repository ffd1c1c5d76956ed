#if canImport(Glibc)
import Glibc
#endif

/// A plain pthread. Not Foundation's `Thread`, so the agent links no full Foundation.
package struct SystemThread: Sendable {
    private let handle: pthread_t

    /// Starts a thread that runs `body`. `body` is `sending`: whatever it captures belongs to the
    /// new thread from here on. The caller must `join()` or `detach()` it.
    package init(_ body: sending @escaping () -> Void) throws(SystemError) {
        let box = Unmanaged.passRetained(Body(body))
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            throw SystemError(call: "pthread_create", errno: rc)
        }
        handle = thread
    }

    /// Waits for the thread to end.
    package func join() { pthread_join(handle, nil) }

    /// Lets the thread end on its own, unjoined.
    package func detach() { pthread_detach(handle) }

    /// The closure a new thread runs, boxed so it can cross `pthread_create`'s `void *`.
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }
}
