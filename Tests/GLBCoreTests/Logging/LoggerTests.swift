import GLBCore
import GLBTestSupport
import Synchronization
import Testing

/// Collects finished log lines instead of writing them to standard error.
final class LineCollector: Sendable {
    private let storage = Mutex<[String]>([])
    var lines: [String] { storage.withLock { $0 } }
    var sink: @Sendable (String) -> Void { { line in self.storage.withLock { $0.append(line) } } }
}

@Suite struct LoggerTests {
    @Test func eachLineIsOneJSONObjectWithSortedFields() throws {
        let collector = LineCollector()
        let clock = ManualClock(wallMilliseconds: 1_767_225_600_123)
        let logger = Logger(component: "prober", clock: clock, sink: collector.sink)
        logger.info("endpoint down", ["endpoint": "10.0.0.1:443", "after": "3 failures"])

        let line = try #require(collector.lines.first)
        #expect(collector.lines.count == 1)
        #expect(line == #"{"ts_ms":1767225600123,"level":"info","component":"prober","msg":"endpoint down","after":"3 failures","endpoint":"10.0.0.1:443"}"# + "\n")
        let value = try JSONParser.parse(line)
        #expect(value["ts_ms"]?.intValue == 1_767_225_600_123)
        #expect(value["level"]?.stringValue == "info")
        #expect(value["component"]?.stringValue == "prober")
        #expect(value["msg"]?.stringValue == "endpoint down")
        #expect(value["endpoint"]?.stringValue == "10.0.0.1:443")
    }

    @Test(arguments: [
        #"say "hi""#,
        "back\\slash",
        "two\nlines",
        "cr\rlf\n",
        "tab\there",
        "bell\u{07} nul\u{00} unit\u{1F} esc\u{1B}",
        "del\u{7F} é 😀 \u{2028}",
        "",
        #"{"not":"a field"}"#,
    ])
    func messagesAndFieldsSurviveEscaping(text: String) throws {
        let collector = LineCollector()
        let logger = Logger(component: text, clock: ManualClock(), sink: collector.sink)
        logger.error(text, [text: text])
        let line = try #require(collector.lines.first)
        // Exactly one line: the only raw control character is the final newline.
        #expect(line.utf8.dropLast().allSatisfy { $0 >= 0x20 })
        #expect(line.utf8.last == 0x0A)
        let value = try JSONParser.parse(line)
        #expect(value["msg"]?.stringValue == text)
        #expect(value["component"]?.stringValue == text)
        #expect(value[text]?.stringValue == text)
    }

    @Test(arguments: [
        (JSONText.quote("a\u{01}"), #""a\u0001""#),
        (JSONText.quote("\u{1F}"), #""\u001f""#),
        (JSONText.quote("\"\\\n\r\t"), #""\"\\\n\r\t""#),
        (JSONText.quote("/"), #""/""#),
    ])
    func quoteUsesTheShortEscapesAndUnicodeEscapesForOtherControls(quoted: String, expected: String) {
        #expect(quoted == expected)
    }

    @Test(arguments: [
        (Logger.Level.debug, [true, true, true, true]),
        (.info, [false, true, true, true]),
        (.warning, [false, false, true, true]),
        (.error, [false, false, false, true]),
    ])
    func linesBelowTheMinimumLevelAreDropped(minimum: Logger.Level, emitted: [Bool]) throws {
        let collector = LineCollector()
        let logger = Logger(component: "t", minimum: minimum, clock: ManualClock(), sink: collector.sink)
        logger.debug("debug")
        logger.info("info")
        logger.warning("warning")
        logger.error("error")
        let expected = zip(["debug", "info", "warning", "error"], emitted).filter(\.1).map(\.0)
        let levels = try collector.lines.map { try JSONParser.parse($0)["level"]?.stringValue }
        #expect(levels == expected)
    }

    @Test func aNamedLoggerKeepsTheSinkAndLevel() throws {
        let collector = LineCollector()
        let logger = Logger(component: "agent", minimum: .warning, clock: ManualClock(), sink: collector.sink)
        let child = logger.named("store")
        child.info("dropped")
        child.warning("kept")
        #expect(collector.lines.count == 1)
        #expect(try JSONParser.parse(collector.lines[0])["component"]?.stringValue == "store")
    }
}
