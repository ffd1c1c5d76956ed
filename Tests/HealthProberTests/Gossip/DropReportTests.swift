import GLBCore
import HealthProber
import Testing

/// Dropped gossip packets become at most one log line per reason every interval, with the
/// count of those left unsaid carried into the next line.
@Suite struct DropReportTests {
    static let peer = SocketAddress(ip: .v4(0x7F00_0002), port: 7946)

    @Test func oneLinePerReasonPerIntervalAndTheRestCounted() {
        var report = DropReport(interval: .seconds(10))
        let t0 = Instant.zero
        // (reason, seconds after t0, logged, more_since_last_line)
        let steps: [(String, Int, Bool, String?)] = [
            ("unknown_key", 0, true, nil),
            ("unknown_key", 1, false, nil),
            ("unknown_key", 9, false, nil),
            ("malformed", 9, true, nil),          // another reason has its own budget
            ("unknown_key", 10, true, "2"),       // 10 s after the last line: the two dropped since
            ("unknown_key", 11, false, nil),
            ("unknown_key", 25, true, "1"),
        ]
        for (reason, second, logged, more) in steps {
            let line = report.dropped(reason, from: Self.peer, now: t0 + .seconds(second))
            #expect((line != nil) == logged, "\(reason) at \(second) s")
            #expect(line?.fields["more_since_last_line"] == more, "\(reason) at \(second) s")
            if let line {
                #expect(line.fields["from"] == "127.0.0.2:7946" && line.fields["reason"] == reason)
            }
        }
    }

    @Test(arguments: ["unknown_key", "auth", "plaintext", "version", "malformed", "too_short"])
    func everyReasonIsExplained(_ reason: String) {
        #expect(DropReport.explanation(reason).count > 20)
    }
}
