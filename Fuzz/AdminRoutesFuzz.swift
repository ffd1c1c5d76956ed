// libFuzzer target for how the admin API reads a request target: `HTTPRequest.path`,
// `pathSegments` (split on "/", each segment percent-decoded), `query` (split on "&" and "=",
// "+" as space, percent-decoded) and `AdminRoute.match`, the dispatcher's table. Built by
// scripts/fuzz-admin.sh: GLBCore's HTTPMessage.swift and the address sources it mentions, and the
// GLB executable's AdminRoutes.swift, compiled with this file as one module; not by SwiftPM.
//
// The input is the request target. The HTTP parser only lets visible ASCII (0x21-0x7E) through;
// the other bytes are fed anyway, since the checks below must hold for any string.
//
// Oracles beyond "no crash, no ASan report":
//  - `path` is the target up to the first "?";
//  - routing: a match has one parameter per `{name}` in its template, the template filled with
//    them gives back the segments, and no other route matches the same segments;
//  - round trip: the segments and the query, percent-encoded again into a fresh target, decode to
//    the same segments and the same query.

/// `precondition` drops its message in -O builds; this keeps it in the crash report.
private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}

/// RFC 3986 §2.3 unreserved characters stay; every other byte becomes %XX.
private func percentEncode(_ text: String) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            out.append(byte)
        default:
            out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// Whether `route`'s template matches `segments`, checked apart from `AdminRoute.match`.
private func fits(_ route: AdminRoute, _ segments: [String]) -> Bool {
    let pattern = route.template.split(separator: "/")
    return pattern.count == segments.count && zip(pattern, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func adminRoutesFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let target = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let request = HTTPRequest(method: "GET", target: target)
    let path = request.path
    require(target.hasPrefix(path) && !path.contains { $0 == "?" } && (path.count == target.count || target.dropFirst(path.count).hasPrefix("?")),
            "path \(path) is not the target \(target) up to its first ?")
    let query = request.query
    guard let segments = request.pathSegments else { return 0 }

    if let (route, parameters) = AdminRoute.match(segments) {
        let pattern = route.template.split(separator: "/")
        require(parameters.count == pattern.count(where: { $0.hasPrefix("{") }), "\(route) matched with \(parameters.count) parameters")
        var rest = parameters[...]
        let filled = pattern.map { $0.hasPrefix("{") ? rest.popFirst()! : String($0) }
        require(filled == segments, "\(route.template) filled with \(parameters) is not \(segments)")
        require(route.methods.contains("GET") || route.methods.contains("POST"), "\(route) allows no method")
        require(AdminRoute.allCases.filter { fits($0, segments) } == [route], "\(segments) fits several routes")
    } else {
        require(!AdminRoute.allCases.contains { fits($0, segments) }, "\(segments) fits a route but matched none")
    }

    var rebuilt = "/" + segments.map(percentEncode).joined(separator: "/")
    if !query.isEmpty {
        rebuilt += "?" + query.map { "\(percentEncode($0.key))=\(percentEncode($0.value))" }.joined(separator: "&")
    }
    let again = HTTPRequest(method: "GET", target: rebuilt)
    require(again.pathSegments == segments, "\(target): segments \(segments), re-encoded as \(rebuilt), decode to \(again.pathSegments as Any)")
    require(again.query == query, "\(target): query \(query), re-encoded as \(rebuilt), decodes to \(again.query)")
    return 0
}
