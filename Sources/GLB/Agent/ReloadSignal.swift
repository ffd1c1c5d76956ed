@preconcurrency import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// SIGHUP as an async sequence: the conventional "re-read your files" signal, here for the geo
/// database and CIDR map (which are also polled, so the signal only makes a reload immediate).
enum ReloadSignal {
    /// Yields once per SIGHUP until the consuming task is cancelled.
    static func events() -> AsyncStream<Void> {
        AsyncStream { continuation in
            signal(SIGHUP, SIG_IGN)                  // let Dispatch see it instead of the default (exit)
            let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
            source.setEventHandler { continuation.yield() }
            source.resume()
            continuation.onTermination = { _ in source.cancel() }
        }
    }
}
