import CGLBLinux
import GLBCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM, SIGINT and SIGHUP, forwarded by a signal handler to a pipe and read by a thread of
/// their own (the self-pipe trick, as HAProxy and nginx's event loops take signals).
///
/// `install()` arms the handlers at once, first thing in main, so no signal is lost however
/// early it comes. (Dispatch signal sources, used before, are armed asynchronously, and needed
/// the disposition SIG_IGN meanwhile: a SIGHUP sent right after "ready" could be dropped. A test
/// caught it. Blocking the signals and taking them with sigwait(2) does not work here: Swift's
/// async main parks the main thread in sigsuspend(2) with an empty mask.)
///
/// Until a command claims them, the signals do what their default action does, end the process
/// (with 128 + the signal's number), so Ctrl-C still stops `glb service list`. `glb agent`
/// claims SIGTERM and SIGINT (drain, then exit 0) and, before it reports ready, SIGHUP (reload).
/// The reading thread lives as long as the process: it is the process's signal handler.
enum ProcessSignals {
    private struct Claims {
        var terminations: AsyncStream<CInt>.Continuation?
        var hangups: AsyncStream<Void>.Continuation?
    }
    private static let claims = Mutex(Claims())
    private static let installed = Atomic<Bool>(false)

    /// Arms the handlers and starts the thread that reads the pipe. Call first thing in main.
    static func install() {
        guard !installed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var ends: [CInt] = [-1, -1]
        guard pipe(&ends) == 0 else { return }                  // the defaults stay
        let (readEnd, writeEnd) = (ends[0], ends[1])
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(writeEnd, F_SETFL, fcntl(writeEnd, F_GETFL) | O_NONBLOCK)   // a handler never blocks
        do {
            try SystemThread {
                var byte: UInt8 = 0
                while true {
                    let n = read(readEnd, &byte, 1)
                    if n == 1 { deliver(CInt(byte)) } else if n == 0 || cglb_errno() != EINTR { return }
                }
            }.detach()
        } catch {
            return
        }
        for signo in [SIGTERM, SIGINT, SIGHUP] { _ = cglb_signal_forward(writeEnd, signo) }
    }

    /// SIGTERM and SIGINT from now on, each as its number. Without `install()` (an agent inside
    /// the test process) nothing is ever yielded.
    static func claimTerminations() -> AsyncStream<CInt> {
        let (stream, continuation) = AsyncStream<CInt>.makeStream()
        if installed.load(ordering: .acquiring) { claims.withLock { $0.terminations = continuation } }
        return stream
    }

    /// SIGHUP from now on (see `claimTerminations`).
    static func claimHangups() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        if installed.load(ordering: .acquiring) { claims.withLock { $0.hangups = continuation } }
        return stream
    }

    private static func deliver(_ signo: CInt) {
        let claimed = claims.withLock { claims -> Bool in
            if signo == SIGHUP, let hangups = claims.hangups {
                hangups.yield()
                return true
            }
            if signo != SIGHUP, let terminations = claims.terminations {
                terminations.yield(signo)
                return true
            }
            return false
        }
        if !claimed { _exit(128 + signo) }
    }
}
