@preconcurrency import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// SIGHUP as an async sequence: the conventional "reload your files" signal (nginx, HAProxy),
/// sent by `systemctl reload glb` (deploy/glb.service): certificates (--certs) and the geo files
/// (--geoip, --geo-cidr-map), which are also polled, so the signal only makes a reload immediate.
/// The agent always catches it, so the default action (exit) never applies.
enum ReloadSignal {
    /// Yields once per SIGHUP until the consuming task is cancelled.
    static func stream() -> AsyncStream<Void> {
        AsyncStream { continuation in
            signal(SIGHUP, SIG_IGN)                  // let Dispatch see it instead of the default (exit)
            let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
            source.setEventHandler { continuation.yield() }
            source.resume()
            continuation.onTermination = { _ in source.cancel() }
        }
    }
}
