import GLBCore

/// Whether a failed upstream attempt may be tried again elsewhere (sans-IO, table-tested).
///
/// A retry is safe when the origin cannot have acted on the request: nothing was written to the
/// upstream socket, so any method may go again; or, once bytes were written, only an idempotent
/// method (RFC 9110 §9.2.2: "the intended effect … of multiple identical requests … is the same as
/// for a single such request") whose whole body GLB still holds. A response that has begun is
/// never retried: its bytes may already be with the client.
package enum RetryPolicy {
    /// How an attempt failed.
    package enum Failure: Sendable, Hashable {
        /// connect(2) failed, or the connection was reset or closed before the request was written.
        case connectFailed
        /// The connect did not complete within `upstreamConnectTimeout`.
        case connectTimeout
        /// The connection was reset or closed after the request was (partly) written and before
        /// any response byte.
        case closedBeforeResponse
    }

    /// The facts about one request that decide.
    package struct Attempt: Sendable, Hashable {
        /// Retries already made.
        package var retriesMade: Int
        /// The configured limit (`retryAttempts`).
        package var maxRetries: Int
        /// Any request byte reached the upstream socket.
        package var sentUpstream: Bool
        /// The request's method is idempotent.
        package var idempotent: Bool
        /// GLB still holds every body byte sent so far (the body is complete and small, or absent).
        package var replayable: Bool
        /// The request deadline has passed.
        package var deadlinePassed: Bool

        /// Memberwise.
        package init(retriesMade: Int, maxRetries: Int, sentUpstream: Bool, idempotent: Bool, replayable: Bool, deadlinePassed: Bool = false) {
            self.retriesMade = retriesMade
            self.maxRetries = maxRetries
            self.sentUpstream = sentUpstream
            self.idempotent = idempotent
            self.replayable = replayable
            self.deadlinePassed = deadlinePassed
        }
    }

    /// What to do.
    package enum Decision: Sendable, Hashable {
        /// Try another endpoint (another healthy cluster if there is one).
        case retry
        /// Give up and answer with this status: 502, or 504 for a timeout.
        case fail(status: Int)
    }

    /// Decides after `failure`.
    package static func decide(_ failure: Failure, _ attempt: Attempt) -> Decision {
        let giveUp = Decision.fail(status: failure == .connectTimeout || attempt.deadlinePassed ? 504 : 502)
        guard !attempt.deadlinePassed, attempt.retriesMade < attempt.maxRetries, attempt.replayable else { return giveUp }
        if !attempt.sentUpstream || failure != .closedBeforeResponse { return .retry }
        return attempt.idempotent ? .retry : giveUp
    }
}
