import GLBCore
import HealthProber
import Testing

/// The health report's wire format: round trips, parts that fit a packet, and hostile bytes.
@Suite struct ObservationReportTests {
    static let report = ObservationReport(sequence: 1_764_000_000_123, entries: [
        .init(target: "www/eu", up: true, rtt: .microseconds(1234)),
        .init(target: "www/us", up: false),
        .init(target: "api/ap-south", up: true, rtt: .milliseconds(250)),
    ])

    @Test func roundTrips() throws {
        let parts = Self.report.encoded(budget: 1000)
        #expect(parts.count == 1)
        #expect(try ObservationReport(decoding: parts[0]) == Self.report)
    }

    @Test func aLargeViewSplitsIntoPartsThatEachFitAndTogetherHoldEverything() throws {
        let entries = (0..<200).map { ObservationReport.Entry(target: "service-\($0)/cluster-\($0)", up: $0 % 3 != 0, rtt: .microseconds(Int64($0))) }
        let report = ObservationReport(sequence: 7, entries: entries)
        let parts = report.encoded(budget: 300)
        #expect(parts.count > 1)
        var decoded: [ObservationReport.Entry] = []
        for part in parts {
            #expect(part.count <= 300)
            let piece = try ObservationReport(decoding: part)
            #expect(piece.sequence == 7)
            decoded += piece.entries
        }
        #expect(decoded == entries)
    }

    @Test func anEmptyViewIsOnePartWithNoEntries() throws {
        let parts = ObservationReport(sequence: 1, entries: []).encoded(budget: 300)
        #expect(parts.count == 1)
        #expect(try ObservationReport(decoding: parts[0]).entries.isEmpty)
    }

    @Test func hostileBytesAreErrors() {
        let good = Self.report.encoded(budget: 1000)[0]
        #expect(throws: ObservationReport.DecodeError.unsupportedVersion(9)) { try ObservationReport(decoding: [9] + good.dropFirst()) }
        #expect(throws: ObservationReport.DecodeError.trailingBytes) { try ObservationReport(decoding: good + [0]) }
        #expect(throws: ObservationReport.DecodeError.invalidTarget) {
            try ObservationReport(decoding: [1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1])        // a zero-length target
        }
        // Every truncation of a valid payload is an error, never a trap.
        for cut in 0..<good.count {
            #expect(throws: (any Error).self) { try ObservationReport(decoding: Array(good.prefix(cut))) }
        }
        // Random bytes: decoded or refused, never a crash.
        var rng = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            let bytes = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? ObservationReport(decoding: bytes)
        }
    }
}
