// libFuzzer target for what a gossip socket receives: the packet codec (GossipCodec) and the
// sealed-packet layer (PacketCipher, Keyring). Built by scripts/fuzz-gossip.sh, not by SwiftPM:
// GLBCore's Buffer and address sources as module GLBCore, then these HealthProber Gossip sources
// and this file as one module (so `package` symbols are visible), linked with OpenSSL.
//
// Every input goes through three paths:
//  - plaintext: `GossipCodec.decode`, as for a cluster without a key. Oracle: a packet that
//    decodes re-encodes into one that decodes to the same messages.
//  - sealed: `PacketCipher.open` with a fixed two-key keyring, as for an encrypted cluster; what
//    opens is decoded like a plaintext packet. Oracle: the error names the first check that fails
//    (length, version byte, key id, tag). Random bytes almost never pass the tag, so the decoder
//    behind a successful open is fuzzed by the plaintext path, which is the same function.
//  - the input as plaintext, sealed with the primary key and opened again: it comes back
//    unchanged, and the sealed packet with one bit flipped (anywhere, header included) is refused.
// The input is also parsed as a key file (`Keyring(parsing:)`, the format of GLB_GOSSIP_KEY).

/// `precondition` drops its message in -O builds; this keeps it in the crash report.
private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}

/// Fixed test keys: the primary is the bytes 0 to 31 (the sealed seed in fuzz-gossip.sh was made
/// with it); the second is installed for receiving only, as during a key rotation.
private let keyring = try! Keyring(primary: Array(0..<32), others: [[UInt8](repeating: 0x5A, count: 32)])
nonisolated(unsafe) private let cipher = PacketCipher()

private func checkDecode(_ packet: [UInt8]) {
    guard let messages = try? GossipCodec.decode(packet) else { return }
    require(messages.count <= Int(packet[1]), "more messages than the packet's frame count")
    let reencoded = GossipCodec.packet(messages)
    let again: [GossipMessage]
    do {
        again = try GossipCodec.decode(reencoded)
    } catch {
        fatalError("a decoded packet re-encodes into one that does not decode: \(error)")
    }
    require(again == messages, "decode, encode, decode changed the messages: \(messages) became \(again)")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func gossipFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))

    checkDecode(input)

    do {
        checkDecode(try cipher.open(input, with: keyring))
    } catch {
        switch error {
        case .tooShort:
            require(size < PacketCipher.overhead, "a packet long enough was refused as too short")
        case .unsupportedVersion(let version):
            require(size >= PacketCipher.overhead && version == input[0] && version != PacketCipher.version, "wrong version verdict")
        case .unknownKey:
            let id = input[1..<5].reduce(0) { $0 << 8 | UInt32($1) }
            require(input[0] == PacketCipher.version && keyring.keys(withID: id).isEmpty, "an installed key id was called unknown")
        case .authenticationFailed:
            require(input[0] == PacketCipher.version, "authentication tried on a packet of another version")
        }
    }

    let sealed = cipher.seal(input, with: keyring)
    require(sealed.count == size + PacketCipher.overhead, "a sealed packet is not plaintext + overhead long")
    require((try? cipher.open(sealed, with: keyring)) == input, "seal then open did not give the plaintext back")
    var tampered = sealed
    let bit = size &* 31 &+ Int(input.first ?? 0)
    tampered[(bit / 8) % tampered.count] ^= 1 << UInt8(bit % 8)
    require((try? cipher.open(tampered, with: keyring)) == nil, "a sealed packet with a flipped bit was accepted")

    _ = try? Keyring(parsing: String(decoding: input, as: UTF8.self))
    return 0
}
