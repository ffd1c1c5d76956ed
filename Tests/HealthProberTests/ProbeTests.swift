import GLBCore
import GLBTestSupport
import HealthProber
import Testing

/// One probe attempt at a time against real loopback origins, on a loop ticked by the test with a
/// manual clock: every failure reason the issue names, each with its cause.
@Suite struct ProbeTests {
    let tls: TLSContext

    init() throws {
        tls = try TLSContext()
    }

    @Test func http200IsASuccessAndTheRequestCarriesTheProbeHeaders() throws {
        let harness = try ManualLoop()
        let origin = try LoopbackOrigin(loop: harness.loop, behaviour: .respond(status: 200, body: "ok"))
        defer { origin.close() }
        let result = harness.probe(.loopback(.http, port: origin.address.port) { $0.host = "www.example" }, tls: tls)
        #expect(result == .success(rtt: .zero), "the manual clock did not move, so the round trip reads zero")
        let request = try #require(origin.requests.first)
        #expect(request.hasPrefix("GET /healthz HTTP/1.1\r\n"))
        #expect(request.contains("Host: www.example:\(origin.address.port)\r\n"))
        #expect(request.contains("Connection: close\r\n"))
        #expect(request.contains("User-Agent: glb-health/1\r\n"))
        #expect(harness.loop.registeredCount == 1, "only the origin's listener is left: the probe closed its socket")
    }

    @Test func statusOutsideTheExpectedRangeIsBadStatus() throws {
        let harness = try ManualLoop()
        let origin = try LoopbackOrigin(loop: harness.loop, behaviour: .respond(status: 500, body: "boom"))
        defer { origin.close() }
        let result = harness.probe(.loopback(.http, port: origin.address.port), tls: tls)
        #expect(result?.failure?.reason == .badStatus(500))
        #expect(result?.label == "bad_status")
    }

    @Test func theExpectedRangeIsTheSpecs() throws {
        let harness = try ManualLoop()
        let origin = try LoopbackOrigin(loop: harness.loop, behaviour: .respond(status: 503, body: ""))
        defer { origin.close() }
        let result = harness.probe(.loopback(.http, port: origin.address.port) { $0.expectedStatus = 500...503 }, tls: tls)
        #expect(result?.isSuccess == true)
    }

    @Test(arguments: [("all systems go", true), ("go", true), ("degraded", false)])
    func bodySubstringDecides(expected: String, passes: Bool) throws {
        let harness = try ManualLoop()
        let origin = try LoopbackOrigin(loop: harness.loop, behaviour: .respond(status: 200, body: "status: all systems go"))
        defer { origin.close() }
        let result = harness.probe(.loopback(.http, port: origin.address.port) { $0.bodyContains = expected }, tls: tls)
        if passes {
            #expect(result?.isSuccess == true)
        } else {
            #expect(result?.failure?.reason == .bodyMismatch)
        }
    }

    @Test func anOriginThatNeverAnswersIsCutAtTheTimeout() throws {
        let harness = try ManualLoop()
        let origin = try LoopbackOrigin(loop: harness.loop, behaviour: .hang)
        defer { origin.close() }
        // Once the origin holds the request, only time can end the attempt: 499 ms is not enough…
        let result = harness.probe(.loopback(.http, port: origin.address.port), tls: tls, origin: origin) {
            harness.clock.advance(by: .milliseconds(499))
            harness.loop.tick(maxWait: .zero)
            harness.clock.advance(by: .milliseconds(1))      // …500 ms is.
        }
        #expect(result?.failure?.reason == .timeout)
        #expect(result?.failure?.detail.contains("waiting for the response") == true)
    }

    @Test func aClosedPortIsRefused() throws {
        let harness = try ManualLoop()
        for kind in ProbeSpec.Kind.allCases {
            let result = harness.probe(.loopback(kind, port: try closedPort()), tls: tls)
            #expect(result?.failure?.reason == .refused, "\(kind)")
        }
        #expect(harness.loop.registeredCount == 0)
    }

    @Test func anOriginThatResetsIsReset() throws {
        let harness = try ManualLoop()
        let origin = try LoopbackOrigin(loop: harness.loop, behaviour: .reset)
        defer { origin.close() }
        let result = harness.probe(.loopback(.http, port: origin.address.port), tls: tls)
        #expect(result?.failure?.reason == .reset)
    }

    @Test func anOriginThatClosesWithoutAnsweringIsClosedEarly() throws {
        let harness = try ManualLoop()
        let origin = try LoopbackOrigin(loop: harness.loop, behaviour: .closeAfterRequest)
        defer { origin.close() }
        let result = harness.probe(.loopback(.http, port: origin.address.port), tls: tls)
        #expect(result?.failure?.reason == .closedEarly)
    }

    @Test func tcpSucceedsAtConnectWithoutSendingAByte() throws {
        let harness = try ManualLoop()
        let origin = try LoopbackOrigin(loop: harness.loop, behaviour: .hang)
        defer { origin.close() }
        let result = harness.probe(.loopback(.tcp, port: origin.address.port), tls: tls)
        #expect(result?.isSuccess == true)
        #expect(origin.requests.isEmpty)
    }

    @Test func portAndAddressOverridesChooseWhatIsProbed() throws {
        let harness = try ManualLoop()
        let origin = try LoopbackOrigin(loop: harness.loop, behaviour: .respond(status: 200, body: ""))
        defer { origin.close() }
        // The answered address is TEST-NET-1 (unroutable); the check goes to the origin instead.
        var spec = ProbeSpec(kind: .http, port: origin.address.port, address: .v4(0x7F00_0001), timeout: .milliseconds(500))
        spec.path = "/ready"
        let target = ProbeTarget(id: "www/eu", address: .v4(0xC000_0201), port: 80, spec: spec)
        #expect(harness.probe(target, tls: tls)?.isSuccess == true)
        #expect(origin.requests.first?.hasPrefix("GET /ready ") == true)
    }

    @Test func anInvalidPathIsMisconfiguredAndOpensNoSocket() throws {
        let harness = try ManualLoop()
        let result = harness.probe(.loopback(.http, port: 1) { $0.path = "/a b" }, tls: tls)
        #expect(result?.failure?.reason == .misconfigured)
        #expect(harness.loop.registeredCount == 0)
    }

    @Test func cancelClosesTheSocketAndReportsNothing() throws {
        let harness = try ManualLoop()
        let origin = try LoopbackOrigin(loop: harness.loop, behaviour: .hang)
        defer { origin.close() }
        var reported = false
        let probe = Probe(target: .loopback(.http, port: origin.address.port), loop: harness.loop, tls: tls) { _ in reported = true }
        probe.start()
        #expect(harness.run { origin.requests.count == 1 })
        probe.cancel()
        harness.clock.advance(by: .seconds(5))
        harness.loop.tick(maxWait: .zero)
        #expect(!reported && probe.isFinished)
        #expect(harness.loop.registeredCount == 1, "only the listener: the origin saw the probe's close and closed its side")
    }
}
