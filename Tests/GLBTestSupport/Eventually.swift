/// Polls `condition` every 20 ms for at most `timeout`; true as soon as it holds. For
/// integration tests on real sockets and real time, where the event awaited has no signal to
/// wait on (a gossip view, a log line): a bounded poll, never a fixed sleep standing in for
/// "long enough".
package func eventually(within timeout: Duration = .seconds(10), _ condition: @Sendable () async throws -> Bool) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
