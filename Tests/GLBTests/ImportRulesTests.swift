import Foundation
import Testing

/// The binary's memory budget depends on what it links: full Foundation brings ICU, which made
/// the static `glb` 81.7 MB and its idle resident set 21 MB against the 20 MB budget (one
/// `ISO8601DateFormatter` in the admin API had pulled it back in after it had been removed once).
/// Sources may import `FoundationEssentials`, never `Foundation` itself.
@Suite struct ImportRulesTests {
    @Test func noSourceImportsFullFoundation() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()   // Tests/GLBTests
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        #expect(files.count > 50, "found the sources")
        var offenders: [String] = []
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                guard let at = words.firstIndex(of: "import"), words.index(after: at) < words.endIndex else { continue }
                if words[words.index(after: at)] == "Foundation" { offenders.append("\(file): \(line)") }
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }
}
