// MNISTMirror.swift — the four files of the original MNIST and the SHA-256 each must have.
//
// Teaches: a download is only as trustworthy as the checksum it is checked against. The digests
// are of the `.gz` files exactly as published, so a file is verified before it is unpacked, and
// a mirror that serves anything else (a truncated file, an HTML error page, another data set)
// is refused by name.
// Leaves out: signatures (MNIST has none) and mirrors that re-compress the files (their
// digests differ: pass `--checksums` for those).

import ArgumentParser
import Foundation
import Shared

/// One file to fetch: its name on the mirror and in the data folder, and its SHA-256.
struct ExpectedFile: Equatable, Sendable {
    /// E.g. `train-images-idx3-ubyte.gz`: the name on the mirror and in the data folder.
    var name: String
    /// 64 lower-case hex digits.
    var sha256: String
}

enum MNISTMirror {
    /// PyTorch's mirror, the first one `torchvision.datasets.MNIST` tries.
    static let defaultBaseURL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

    /// The original MNIST files (LeCun, Cortes & Burges), as published and as mirrored
    /// byte for byte by PyTorch (`https://ossci-datasets.s3.amazonaws.com/mnist/`) and TensorFlow
    /// (`https://storage.googleapis.com/cvdf-datasets/mnist/`).
    ///
    /// Where the digests come from: the SHA-256 values that many projects pin for these four files
    /// (e.g. torch.rb's `TorchVision::Datasets::MNIST`, Bazel `http_file` rules, Guild AI's MNIST
    /// package), cross-checked against the MD5s in torchvision's `torchvision/datasets/mnist.py`
    /// (f68b3c2dcbeaaa9fbdd348bbdeb94873, d53e105ee54ea40749a09fcbcd1e9432,
    /// 9fb629c4189551a2d022fa330f9573f3, ec29112dd5afa0611ce80d1b7f02629c). Sizes: 9,912,422,
    /// 28,881, 1,648,877 and 4,542 bytes.
    static let files = [
        ExpectedFile(name: MNISTFiles.trainImages + ".gz",
                     sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        ExpectedFile(name: MNISTFiles.trainLabels + ".gz",
                     sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        ExpectedFile(name: MNISTFiles.testImages + ".gz",
                     sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        ExpectedFile(name: MNISTFiles.testLabels + ".gz",
                     sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    ]

    /// The largest `--checksums` file read: 1 MiB (`sha256sum` writes 100 bytes a line).
    static let maximumChecksumsBytes = 1 << 20

    /// The four files with the digests listed in a `sha256sum`-style file (`<64 hex>  <name>`,
    /// one per line, ending in `\n` or `\r\n`, perhaps after a byte-order mark; `*name` and blank
    /// or `#` lines allowed), for
    /// another mirror or data set with the same file names (Fashion-MNIST, say).
    ///
    /// - Throws: `ValidationError` (exit status 64) `"--checksums: …"` for a file that cannot be
    ///   read (Shared's `readRegularFile` says why), is larger than ``maximumChecksumsBytes`` or
    ///   is not UTF-8, a malformed line, or one of the four names missing.
    static func files(checksumsFile path: String) throws -> [ExpectedFile] {
        // A checksums file is a few lines: a large one is refused before it is read into memory.
        let bytes: [UInt8]
        do {
            bytes = try readRegularFile(atPath: path, maximumSize: maximumChecksumsBytes)
        } catch NeuralLevelsError.badData(let file, let reason) {
            throw ValidationError("--checksums: \(file): \(reason)")
        }
        guard var text = String(validating: bytes, as: UTF8.self) else {
            throw ValidationError("--checksums: \(path): is not UTF-8 text")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }          // the byte-order mark Notepad writes
        var digests: [String: String] = [:]
        // Not split(separator: "\n"): in a Swift String, "\r\n" is one Character, not "\r" and "\n".
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let digest = fields[0].lowercased()
            guard fields.count == 2, digest.count == 64, digest.allSatisfy(\.isHexDigit) else {
                throw ValidationError("--checksums: \(path) line \(index + 1) is not '<64 hex digits>  <file name>': \(trimmed)")
            }
            let name = fields[1].hasPrefix("*") ? String(fields[1].dropFirst()) : fields[1]
            digests[name] = digest
        }
        return try self.files.map { file in
            guard let digest = digests[file.name] else {
                throw ValidationError("--checksums: \(path) has no line for \(file.name)")
            }
            return ExpectedFile(name: file.name, sha256: digest)
        }
    }
}

