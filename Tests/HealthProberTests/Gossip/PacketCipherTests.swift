import HealthProber
import Testing

@Suite struct PacketCipherTests {
    static let keyA = [UInt8](repeating: 0xA5, count: 32)
    static let keyB = Array(0..<32).map { UInt8($0) }

    @Test func sealThenOpenRoundTrips() throws {
        let cipher = PacketCipher()
        let ring = try Keyring(primary: Self.keyA)
        for plaintext in [[], [1], Array(repeating: 0x42, count: 1367)] as [[UInt8]] {
            let packet = cipher.seal(plaintext, with: ring)
            #expect(packet.count == plaintext.count + PacketCipher.overhead)
            #expect(try cipher.open(packet, with: ring) == plaintext)
        }
        let twice = (cipher.seal([1, 2, 3], with: ring), cipher.seal([1, 2, 3], with: ring))
        #expect(twice.0 != twice.1, "a fresh nonce per packet")
    }

    @Test func aWrongKeyIsRefused() throws {
        let cipher = PacketCipher()
        let packet = cipher.seal([1, 2, 3], with: try Keyring(primary: Self.keyA))
        #expect(throws: CipherError.unknownKey) { try cipher.open(packet, with: try Keyring(primary: Self.keyB)) }
    }

    /// Any flipped byte, header included (it is authenticated data), fails.
    @Test func everyTamperedByteIsRefused() throws {
        let cipher = PacketCipher()
        let ring = try Keyring(primary: Self.keyA)
        let packet = cipher.seal(Array("membership".utf8), with: ring)
        for index in packet.indices {
            var tampered = packet
            tampered[index] ^= 0x01
            #expect(throws: CipherError.self) { try cipher.open(tampered, with: ring) }
        }
        #expect(throws: CipherError.tooShort) { try cipher.open(Array(packet.prefix(PacketCipher.overhead - 1)), with: ring) }
        var plaintextPacket = packet
        plaintextPacket[0] = 1
        #expect(throws: CipherError.unsupportedVersion(1)) { try cipher.open(plaintextPacket, with: ring) }
    }

    /// Rotation: install B everywhere, make it primary, remove A. Between the steps, old and new
    /// senders are both understood.
    @Test func keysRotateWithoutDowntime() throws {
        let cipher = PacketCipher()
        let old = try Keyring(primary: Self.keyA)
        var rotating = old
        try rotating.install(Self.keyB)
        let fromOld = cipher.seal([1], with: old)
        #expect(try cipher.open(fromOld, with: rotating) == [1], "installed, not yet primary: still sending with A")
        try rotating.use(Self.keyB)
        let fromNew = cipher.seal([2], with: rotating)
        #expect(try cipher.open(fromOld, with: rotating) == [1], "the old key is still accepted for receive")
        #expect(throws: CipherError.unknownKey) { try cipher.open(fromNew, with: old) }
        #expect(try Keyring(primary: Self.keyA, others: [Self.keyB]).keys.count == 2)
        #expect(throws: KeyringError.cannotRemovePrimary) { try rotating.remove(Self.keyB) }
        try rotating.remove(Self.keyA)
        #expect(throws: CipherError.unknownKey) { try cipher.open(fromOld, with: rotating) }
        #expect(try cipher.open(fromNew, with: rotating) == [2])
    }

    @Test func keyFilesParse() throws {
        // `head -c 32 /dev/urandom | base64` output for the two test keys.
        let a = "paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU="
        let b = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
        let ring = try Keyring(parsing: "# cluster key\n\n  \(b)  \n\(a)\n")
        #expect(ring.primary == (try GossipKey(Self.keyB)))
        #expect(ring.keys.count == 2)
        #expect(throws: KeyringError.noKeys) { try Keyring(parsing: "# nothing\n") }
        #expect(throws: KeyringError.notBase64(line: 2)) { try Keyring(parsing: "\(a)\nnot base64!\n") }
        #expect(throws: KeyringError.wrongLength(3)) { try Keyring(parsing: "AQID") }
        #expect(Keyring.decodeBase64("aGVsbG8=") == Array("hello".utf8))
        #expect(Keyring.decodeBase64("aGVsbG8") == Array("hello".utf8), "padding is optional")
        #expect(Keyring.decodeBase64("aG=Vs") == nil)
    }
}
