/// What a non-blocking TLS step did.
package enum TLSStep {
    /// The step is done (handshake complete, everything written, or `n` bytes read).
    case done(Int)
    /// Wait for the descriptor to become readable, then retry the same step.
    case wantRead
    /// Wait for the descriptor to become writable, then retry the same step.
    case wantWrite
    /// The peer closed its side (reads only).
    case endOfStream
    case failed(TLSFailure)
}
