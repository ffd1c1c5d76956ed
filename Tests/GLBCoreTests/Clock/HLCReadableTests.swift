import GLBCore
import Testing

/// The one form a config version is shown in, from the first write on.
@Suite struct HLCReadableTests {
    @Test(arguments: [
        (HLCTimestamp(wallMilliseconds: 1_796_691_225_524, logical: 0), "2026-12-08T00:53:45.524Z"),
        (HLCTimestamp(wallMilliseconds: 1_796_691_225_004, logical: 2), "2026-12-08T00:53:45.004Z+2"),
        (HLCTimestamp(wallMilliseconds: 1_796_691_225_000, logical: 0), "2026-12-08T00:53:45.000Z"),
        (HLCTimestamp.zero, "initial"),
        (HLCTimestamp(wallMilliseconds: 0, logical: 3), "initial+3"),
    ])
    func aVersionReadsAsTheWritersUTCTime(_ version: HLCTimestamp, _ text: String) {
        #expect(version.readable == text)
    }
}
