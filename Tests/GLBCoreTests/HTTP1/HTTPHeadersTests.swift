import GLBCore
import Testing

private func head(_ fields: String) throws -> HTTPHead {
    var parser = HTTPParser(kind: .request)
    var buffer = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n")
    guard case .head(let head)? = try parser.next(from: &buffer) else { throw HTTPParseError.truncated }
    return head
}

@Test func lookupIgnoresCaseAndKeepsOrderAndDuplicates() throws {
    let headers = try head("Accept: text/html\r\nX-Forwarded-For: 1.1.1.1\r\nx-forwarded-for: 2.2.2.2\r\n").headers
    #expect(headers.count == 4)
    #expect(headers.first("ACCEPT").map(Array.init) == "text/html".bytes)
    #expect(headers.first("x-forwarded-for".bytes).map(Array.init) == "1.1.1.1".bytes)
    #expect(headers.values(for: "X-Forwarded-For").map { String(decoding: $0, as: UTF8.self) } == ["1.1.1.1", "2.2.2.2"])
    #expect(headers.contains("host"))
    #expect(!headers.contains("hos"))
    #expect(headers.first("missing") == nil)
    #expect(headers.firstString("Accept") == "text/html")
    #expect(headers.map { String(decoding: $0.name, as: UTF8.self) } == ["Host", "Accept", "X-Forwarded-For", "x-forwarded-for"])
}

@Test func connectionTokensSplitListsAcrossFields() throws {
    let parsed = try head("Connection: keep-alive , ,X-A\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n")
    #expect(parsed.connectionTokens.map { String(decoding: $0, as: UTF8.self) } == ["keep-alive", "X-A", "Upgrade"])
    #expect(parsed.connectionTokens.contains("upgrade"))
    #expect(!parsed.connectionTokens.contains("close"))
    #expect(parsed.isUpgrade)
}

@Test func upgradeNeedsBothConnectionTokenAndUpgradeField() throws {
    #expect(try !head("Upgrade: websocket\r\n").isUpgrade)
    #expect(try !head("Connection: upgrade\r\n").isUpgrade)
}

@Test func expectContinueIsIgnoredForHTTP10() throws {
    var parser = HTTPParser(kind: .request)
    var buffer = ByteBuffer(string: "PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx")
    guard case .head(let head)? = try parser.next(from: &buffer) else { Issue.record("no head"); return }
    #expect(!head.expectsContinue)
}

@Test func removeDropsEveryFieldWithTheName() throws {
    var headers = try HTTPHeaders([("A", "1"), ("b", "2"), ("a", "3")])
    headers.remove("A")
    #expect(headers.count == 1)
    #expect(headers.first("B").map(Array.init) == "2".bytes)
}

@Test func addTrimsOptionalWhitespace() throws {
    var headers = HTTPHeaders()
    try headers.add(name: "X", value: " \tv v\t ")
    #expect(headers.first("x").map(Array.init) == "v v".bytes)
}

@Test func methodsAreCaseSensitiveAndKnowIdempotence() {
    #expect(HTTPMethod("GET") == .GET)
    #expect(HTTPMethod("get") != .GET)
    #expect(HTTPMethod("get")?.description == "get")
    #expect(HTTPMethod("G T") == nil)
    #expect(HTTPMethod("") == nil)
    #expect(HTTPMethod.PUT.isIdempotent && HTTPMethod.DELETE.isIdempotent && HTTPMethod.GET.isIdempotent)
    #expect(!HTTPMethod.POST.isIdempotent && !HTTPMethod.PATCH.isIdempotent && HTTPMethod("PURGE")?.isIdempotent == false)
    #expect(HTTPMethod.GET.isSafe && !HTTPMethod.PUT.isSafe)
}
