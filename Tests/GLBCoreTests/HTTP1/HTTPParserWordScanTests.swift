import GLBCore
import Testing

// The head scans test eight bytes at a time: a byte that matters must be found at every position
// of a word and in the byte-at-a-time tail, and bytes around it must not hide it.

/// A request whose one extra field value is `value`, padded so `value` starts at `offset`.
private func request(value: [UInt8], offset: Int) -> [UInt8] {
    Array("GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ".utf8) + [UInt8](repeating: UInt8(ascii: "p"), count: offset) + value + Array("\r\n\r\n".utf8)
}

@Test(arguments: 0..<24)
func aControlByteOrDELAnywhereInAValueIsRefused(offset: Int) {
    for bad: UInt8 in [0x00, 0x01, 0x0B, 0x1F, 0x7F] {
        #expect(parseError(request(value: Array("abcdefghijklmnop".utf8) + [bad] + Array("xyz".utf8), offset: offset), kind: .request)
                    == .invalidFieldValue, "byte \(bad)")
    }
}

@Test(arguments: 0..<24)
func tabsAndObsTextAnywhereInAValueAreKept(offset: Int) throws {
    let value: [UInt8] = Array("ab\tcd".utf8) + [0x80, 0xFF, 0xC3, 0xA9] + Array("\tend".utf8)
    let events = try parse(request(value: value, offset: offset), kind: .request)
    let padding = String(repeating: "p", count: offset)
    #expect(events == [.head("GET / HTTP/1.1 ka framing=none | Host: a | X-Pad: \(padding)" + String(decoding: value, as: UTF8.self)), .end])
}

@Test(arguments: 0..<24)
func aBareLFOrCRAnywhereInAHeadIsRefused(offset: Int) {
    #expect(parseError(request(value: Array("abcdefghijkl\nmnop".utf8), offset: offset), kind: .request) == .bareLF)
    #expect(parseError(request(value: Array("abcdefghijkl\rmnop".utf8), offset: offset), kind: .request) == .bareCR)
    for piece in [1, 3, 8] {
        #expect(parseError(request(value: Array("abcdefghijkl\nmnop".utf8), offset: offset), kind: .request, pieceSize: piece) == .bareLF)
    }
}

@Test func aFieldWithoutAColonIsRefusedAsMissingColon() {
    #expect(parseError(Array("GET / HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n".utf8), kind: .request) == .missingColon)
    #expect(parseError(Array("GET / HTTP/1.1\r\nHost: a\r\nNo Colon\r\n\r\n".utf8), kind: .request) == .whitespaceBeforeColon)
    #expect(parseError(Array("GET / HTTP/1.1\r\nHost: a\r\nNo@Colon\r\n\r\n".utf8), kind: .request) == .invalidFieldName)
}
