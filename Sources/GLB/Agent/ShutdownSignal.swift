@preconcurrency import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT as an async event (after swift-service-lifecycle's `UnixSignalsSequence`).
/// The default action is replaced by Dispatch sources, so the agent can finish in-flight requests
/// instead of dying mid-write.
enum ShutdownSignal {
    /// Returns the signal number once SIGTERM or SIGINT arrives.
    static func wait() async -> CInt {
        let stream = AsyncStream<CInt> { continuation in
            let sources = [SIGTERM, SIGINT].map { signo in
                signal(signo, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
                source.setEventHandler { continuation.yield(signo) }
                source.resume()
                return source
            }
            continuation.onTermination = { _ in sources.forEach { $0.cancel() } }
        }
        for await signo in stream { return signo }
        return 0
    }
}
