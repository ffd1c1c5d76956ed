/// Runs `body` every `interval` on `clock` until the calling task is cancelled: the one loop
/// behind the agent's periodic work (digests, push-pull, tombstone collection, observation
/// reports, geo polling), so each says what it does and how often, not how to wait.
///
/// With `startingNow` the first run is at once, otherwise after one interval. The next run is
/// an interval after the previous one ended: a slow run delays the next instead of piling up
/// behind it (as a ticker would). Returns when cancelled, during a run's wait or between runs.
package func repeatEvery(_ interval: Duration, on clock: any GLBClock, startingNow: Bool = false,
                         _ body: () async -> Void) async {
    if !startingNow {
        do { try await clock.sleep(until: clock.now + interval) } catch { return }
    }
    while !Task.isCancelled {
        await body()
        do { try await clock.sleep(until: clock.now + interval) } catch { return }
    }
}
