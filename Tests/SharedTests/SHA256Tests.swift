// SHA256Tests.swift — the hash against FIPS 180-4's published test vectors.

import Testing
@testable import Shared

@Suite("SHA-256")
struct SHA256Tests {
    @Test("FIPS 180-4 vectors: empty, \"abc\", the 448-bit message, one million a's", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func vectors(message: String, expected: String) {
        #expect(SHA256.hexDigest(Array(message.utf8)) == expected)
    }

    @Test("one million a's (multi-block) and every padding length around a block boundary")
    func longMessages() {
        #expect(SHA256.hexDigest(Array(repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // 55 bytes is the longest message whose padding fits in its one block; 56 and 63 need a
        // second block of padding; 64 fills a block exactly; 65 spills one byte into a second.
        // The digests of "a" × n come from Python's hashlib (`hashlib.sha256(b'a' * n).hexdigest()`).
        let expected = [
            55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            63: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            65: "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
        ]
        for (count, digest) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(SHA256.hexDigest(Array(repeating: 0x61, count: count)) == digest, "\(count) a's")
        }
    }
}
