import GLBCore

/// What a non-blocking step on a probe's transport (plain socket or `TLSSession`) did.
enum IOStep {
    /// The step is done (handshake complete, everything written, or `n` bytes read).
    case done(Int)
    /// Wait for the descriptor to become readable, then retry the same step.
    case wantRead
    /// Wait for the descriptor to become writable, then retry the same step.
    case wantWrite
    /// The peer closed its side (reads only).
    case endOfStream
    case failed(ProbeFailure)

    /// A TLS step as a probe outcome: certificate failures and handshake failures keep their
    /// own failure kinds, so `glb status` says which.
    init(_ step: TLSStep, during phase: String) {
        switch step {
        case .done(let n): self = .done(n)
        case .wantRead: self = .wantRead
        case .wantWrite: self = .wantWrite
        case .endOfStream: self = .endOfStream
        case .failed(let failure):
            switch failure.kind {
            case .certificate: self = .failed(ProbeFailure(.certificate, failure.message))
            case .handshake: self = .failed(ProbeFailure(.tlsHandshake, failure.message))
            case .system(let code): self = .failed(ProbeFailure.fromErrno(code, during: phase))
            case .record: self = .failed(ProbeFailure(.malformedResponse, "\(phase): \(failure.message)"))
            }
        }
    }
}
