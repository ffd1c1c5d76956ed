import GLBCore
import Testing

/// RFC 7396 Appendix A, every example, plus the order of members.
@Suite struct JSONMergePatchTests {
    static let appendixA: [(target: String, patch: String, result: String)] = [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, #"null"#, #"null"#),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ]

    @Test(arguments: appendixA.indices)
    func theRFCsExamplesGiveTheRFCsResults(_ i: Int) throws {
        let example = Self.appendixA[i]
        let result = try JSONParser.parse(example.target).applyingMergePatch(try JSONParser.parse(example.patch))
        #expect(result == (try JSONParser.parse(example.result)))
    }

    @Test func membersKeepTheTargetsOrderAndNewOnesComeLast() throws {
        let result = try JSONParser.parse(#"{"z":1,"a":2,"m":3}"#).applyingMergePatch(try JSONParser.parse(#"{"b":4,"a":5}"#))
        #expect(result.serialized() == #"{"z":1,"a":5,"m":3,"b":4}"#)
    }
}
