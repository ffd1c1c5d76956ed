import GLBCore
import Testing

/// The limits the fuzz target (Fuzz/HTTPParserFuzz.swift) uses, so its findings replay exactly.
private let fuzzLimits = HTTPLimits(maxRequestLineBytes: 512, maxHeadBytes: 2048, maxHeaderCount: 16,
                                    maxChunkExtensionBytes: 64, maxTrailerBytes: 256, maxTrailerCount: 4)

private func hexBytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.utf8).map { $0 <= 0x39 ? $0 - 0x30 : $0 - 0x61 + 10 }
    return stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
}

/// Found by libFuzzer: a request line without CR whose bare LF lay past maxRequestLineBytes gave
/// 400 (bare LF) all at once but 414 when split before the LF. The 414 check is now by position.
private let crash1 = hexBytes("31544a502f2e474554202f312048542c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c54502f312e31c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c29494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494948c94949494949494949494c2474554202f312048542c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c542d203230305375627374722c2c2c5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c54502f312e31c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c29494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494949494948c94949494949494949494c2c2c2c2c22c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c0ac2c2c2c2c2c62ec2c2c2c2c2c2c220c2c2c26b650d0a0d0a4f4b0d0a0d0a75")

@Test(arguments: [nil, 1, 532])
func overlongRequestLineIs414HoweverTheBytesArrive(pieceSize: Int?) {
    #expect(parseError(crash1, kind: .request, pieceSize: pieceSize, limits: fuzzLimits) == .requestLineTooLong)
    let synthetic = ("GET /" + String(repeating: "a", count: 600) + "\n").bytes
    #expect(parseError(synthetic, kind: .request, pieceSize: pieceSize, limits: fuzzLimits) == .requestLineTooLong)
}
