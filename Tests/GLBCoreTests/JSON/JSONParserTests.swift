import GLBCore
import Testing

/// The admin API reads every request body through `JSONParser`, so it is tested as a hostile-input
/// boundary: what it accepts, what it refuses (and where), and that no prefix of a document crashes it.
@Suite struct JSONParserTests {
    @Test(arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        (" \t\r\n false \n", .bool(false)),
        ("[]", .array([])),
        ("{}", .object([])),
        ("[1,[2,[3,[]]]]", .array([.number("1"), .array([.number("2"), .array([.number("3"), .array([])])])])),
        (#"{"a":[1,{"b":null}],"c":{"d":"e"}}"#,
         .object([("a", .array([.number("1"), .object([("b", .null)])])), ("c", .object([("d", .string("e"))]))])),
        (#" { "z" : 1 , "a" : 2 } "#, .object([("z", .number("1")), ("a", .number("2"))])),
        (#""\"\\\/\b\f\n\r\t""#, .string("\"\\/\u{08}\u{0C}\n\r\t")),
        (#""\u00e9\u00C9\u0000""#, .string("éÉ\u{0}")),
        (#""\ud83d\ude00 \uD83D\uDE00""#, .string("😀 😀")),     // surrogate pairs, either case of hex
        (#""\udbff\udfff""#, .string("\u{10FFFF}")),               // the last code point
        ("\"é😀\"", .string("é😀")),                               // raw UTF-8 passes through
    ] as [(String, JSONValue)])
    func validDocumentsParseToTheExpectedValue(text: String, expected: JSONValue) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test(arguments: ["0", "-0", "9007199254740993", "-12.50", "1e400", "0.1", "6.02E+23", "1E-7", "123456789012345678901234567890"])
    func numbersKeepTheirTextExactly(text: String) throws {
        // Compared as text: `JSONValue.==` treats numbers equal when their Doubles are, which would
        // hide 9007199254740993 turning into ...992.
        guard case .number(let kept) = try JSONParser.parse(text) else {
            Issue.record("\(text) did not parse as a number")
            return
        }
        #expect(kept == text)
    }

    @Test(arguments: [
        ("", "empty input"),
        ("[1,]", "trailing comma in array"),
        (#"{"a":1,}"#, "trailing comma in object"),
        ("[,1]", "leading comma"),
        ("[1 2]", "missing comma"),
        (#"{"a" 1}"#, "missing colon"),
        ("{a:1}", "unquoted member name"),
        ("01", "leading zero"),
        ("-01", "leading zero after minus"),
        ("+1", "plus sign"),
        ("1.", "fraction without digits"),
        (".5", "fraction without integer part"),
        ("1e", "exponent without digits"),
        ("1e+", "signed exponent without digits"),
        ("-", "lone minus"),
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
        ("tru", "truncated literal"),
        ("nul", "truncated null"),
        ("True", "capitalised literal"),
        ("'a'", "single quotes"),
        (#""\ud800""#, "lone high surrogate"),
        (#""\udc00""#, "lone low surrogate"),
        (#""\ud800\u0041""#, "high surrogate followed by a non-surrogate"),
        (#""\ud800x""#, "high surrogate followed by text"),
        (#""\x41""#, "unknown escape"),
        (#""\u12G4""#, "bad hex in a \\u escape"),
        (#""\u12""#, "short \\u escape"),
        ("\"a\u{01}b\"", "raw control character in string"),
        ("\"a\nb\"", "raw newline in string"),
        ("\"a\tb\"", "raw tab in string"),
        ("\"abc", "unterminated string"),
        (#"{"a":1,"a":2}"#, "duplicate member"),
        (#"{"a":{"b":1,"b":1}}"#, "duplicate member in a nested object"),
        ("[1] x", "trailing garbage"),
        ("{} {}", "two documents"),
        ("/* c */ 1", "comment"),
        ("[1]]", "extra close bracket"),
    ])
    func invalidDocumentsAreRejected(text: String, why: String) {
        #expect(throws: JSONParser.Failure.self, "\(why): \(text)") { try JSONParser.parse(text) }
    }

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, 7),       // points at the second "a", not at the end of the object
        ("[1] x", 4),
        ("[1,]", 3),
        ("01", 1),
    ])
    func failuresReportTheByteOffsetOfTheProblem(text: String, offset: Int) {
        do {
            _ = try JSONParser.parse(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.offset == offset, "\(error)")
        }
    }

    @Test(arguments: [(64, true), (65, false)])
    func nestingIsLimitedToMaxDepth(arrays: Int, accepted: Bool) {
        let text = String(repeating: "[", count: arrays) + String(repeating: "]", count: arrays)
        let parsed = try? JSONParser.parse(text)            // default maxDepth: 64
        #expect((parsed != nil) == accepted)
        let nestedObjects = String(repeating: #"{"a":"#, count: arrays) + "1" + String(repeating: "}", count: arrays)
        // Objects nest one level deeper than arrays here: the innermost `1` is a value too.
        #expect((try? JSONParser.parse(Array(nestedObjects.utf8), maxDepth: arrays + 1)) != nil)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(nestedObjects.utf8), maxDepth: arrays) }
    }

    @Test func everyTruncationOfAValidDocumentIsRejectedWithoutCrashing() throws {
        let document = Array(#"{"name":"www \"é\" \ud83d\ude00\n","weights":[1,-2.5e+3,0],"on":true,"x":null,"o":{"k":false}}"#.utf8)
        _ = try JSONParser.parse(document)
        // The document is an object, so no proper prefix of it is a complete value.
        for length in 0..<document.count {
            #expect(throws: JSONParser.Failure.self, "prefix of \(length) bytes") {
                try JSONParser.parse(document[..<length])
            }
        }
    }

    @Test(arguments: [
        #"{"b":1,"a":[true,false,null],"c":{"z":"\"q\"\\\n","y":-0.5e3}}"#,
        #"["\u0001\u001f",0,"😀é",{}]"#,
        #"{}"#,
        #""""#,
    ])
    func serializedTextParsesBackToTheSameValue(text: String) throws {
        let value = try JSONParser.parse(text)
        #expect(try JSONParser.parse(value.serialized()) == value)
        #expect(try JSONParser.parse(value.serialized(sortedKeys: true)).serialized(sortedKeys: true) == value.serialized(sortedKeys: true))
    }

    @Test func compactDocumentsSerializeByteForByte() throws {
        let text = #"{"z":[1,2.50,"a\"b\\c\n"],"a":{"y":null,"x":true}}"#
        #expect(try JSONParser.parse(text).serialized() == text)
    }

    @Test func sortedKeysOrdersMembersAtEveryLevel() throws {
        let value = try JSONParser.parse(#"{"b":1,"a":{"d":2,"c":[{"f":0,"e":0}]}}"#)
        #expect(value.serialized(sortedKeys: true) == #"{"a":{"c":[{"e":0,"f":0}],"d":2},"b":1}"#)
        #expect(value.serialized() == #"{"b":1,"a":{"d":2,"c":[{"f":0,"e":0}]}}"#, "document order without sortedKeys")
    }

    @Test func accessorsReadTypedValues() throws {
        let value = try JSONParser.parse(#"{"n":42,"d":0.25,"s":"x","b":true,"a":[1],"o":{}}"#)
        #expect(value["n"]?.intValue == 42)
        #expect(value["d"]?.doubleValue == 0.25)
        #expect(value["d"]?.intValue == nil)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["b"]?.boolValue == true)
        #expect(value["a"]?.arrayValue?.count == 1)
        #expect(value["o"]?.objectValue?.isEmpty == true)
        #expect(value["missing"] == nil)
        #expect(value["s"]?.typeName == "a string")
    }
}
