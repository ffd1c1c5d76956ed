import GLBCore
import GLBTestSupport
import Proxy
import Testing

/// Which client the HTTP proxy locates: the rightmost untrusted X-Forwarded-For hop behind a
/// trusted peer, else the peer.
@Suite struct ForwardedForTests {
    static let trusted: [ForwardedFor.Network] = [(ip("10.0.0.0"), 8), (ip("2001:db8::"), 32)]

    static func headers(_ values: [String]) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for value in values { try! headers.add(name: Array("X-Forwarded-For".utf8), value: Array(value.utf8)) }
        return headers
    }

    @Test(arguments: [
        // (peer, X-Forwarded-For fields, expected client)
        ("198.51.100.1", ["81.2.69.160"], "198.51.100.1"),                      // an untrusted peer's header is ignored
        ("10.0.0.5", [], "10.0.0.5"),                                          // trusted, but no header
        ("10.0.0.5", ["81.2.69.160"], "81.2.69.160"),
        ("10.0.0.5", ["203.0.113.9, 81.2.69.160"], "81.2.69.160"),             // the rightmost untrusted hop, not the first
        ("10.0.0.5", ["81.2.69.160, 10.1.1.1"], "81.2.69.160"),                // through a trusted inner hop
        ("10.0.0.5", ["81.2.69.160", "10.1.1.1"], "81.2.69.160"),              // across repeated fields
        ("10.0.0.5", ["10.2.2.2, 10.1.1.1"], "10.2.2.2"),                      // all trusted: the leftmost
        ("10.0.0.5", ["81.2.69.160, garbage"], "10.0.0.5"),                    // a bad hop stops the walk
        ("10.0.0.5", [" 2001:218::1 "], "2001:218::1"),
        ("2001:db8::7", ["2001:218::1, 2001:db8::9"], "2001:218::1"),
    ])
    func theClientIsTheRightmostUntrustedHop(_ peer: String, _ fields: [String], _ expected: String) {
        #expect(ForwardedFor.client(peer: ip(peer), headers: Self.headers(fields), trusted: Self.trusted) == ip(expected))
    }

    @Test func withNoTrustedProxiesThePeerIsTheClient() {
        #expect(ForwardedFor.client(peer: ip("10.0.0.5"), headers: Self.headers(["81.2.69.160"]), trusted: []) == ip("10.0.0.5"))
    }
}
