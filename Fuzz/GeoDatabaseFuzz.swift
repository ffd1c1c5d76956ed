// libFuzzer entry for the MaxMind DB reader: arbitrary bytes are opened as a database image and,
// if they open, looked up at addresses spread over both families, with every record found read
// in place (as the data path does) and decoded whole (as explain does). The same bytes are also
// parsed as an operator CIDR map. Built by scripts/fuzz-geo.sh, not by SwiftPM (compiled into one
// module with the Proxy sources, so it sees their `package` symbols). Seeds are the test
// databases in Tests/Fixtures/geo, so mutations start from valid trees and data sections.
//
// Oracles beyond "no crash, no ASan report, no hang (-timeout)": a lookup's prefix never exceeds
// the address width, and a record offset is inside the image.
import GLBCore

private let addresses: [IPAddress] = [
    .v4(0), .v4(0x0101_0101), .v4(0x0101_0110), .v4(0x5102_45A0), .v4(0x59A0_1470), .v4(0xFFFF_FFFF),
    .v6(high: 0, low: 0), .v6(high: 0, low: 0x1_FFFF_FFFF), .v6(high: 0x2001_0218_0000_0000, low: 0),
    .v6(high: 0, low: 0xFFFF_5102_45A0), .v6(high: 0x2002_0101_0101_0000, low: 0), .v6(high: UInt64.max, low: UInt64.max),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let image = Array(UnsafeBufferPointer(start: data, count: size))
    if let database = try? GeoDatabase(image: image) {
        for address in addresses {
            let (record, prefix) = database.lookup(address)
            precondition(Int(prefix) <= (address.isIPv4 ? 32 : 128), "prefix past the address width")
            guard let record else { continue }
            precondition(record >= 0 && record < size, "record offset outside the image")
            _ = try? database.location(at: record)
            _ = try? database.record(at: record)
        }
    }
    _ = try? CIDRMap.parse(String(decoding: image.prefix(4096), as: UTF8.self))
    return 0
}
