// SplitFuzzTests.swift — seeded mutations of an images file and its labels file together,
// through the whole loading path (gunzip, IDX header, the pair's counts, labels, image size):
// every case ends in a thrown `NeuralLevelsError.badData` naming one of the two files, or in a
// data set that is internally consistent. Never a trap.
//
// Teaches: fuzzing the checks that span two files (counts that disagree, labels out of range),
// which the single-file fuzz tests (SharedTests) cannot reach.
// Leaves out: coverage guidance; the mutations are chosen by hand and seeded, so every run
// tests the same 3,000 cases and a failure names its round. The second test runs the loader the
// executables use (it streams the images file from disk) against the in-memory one.

import Foundation
import TestSupport
import Testing
@testable import Shared

@Suite("Reliability: Fuzz of an images + labels pair")
struct SplitFuzzTests {
    @Test("2,000 mutated image/label pairs (plain and gzip) load consistently or throw badData")
    func fuzzPairs() throws {
        var generator = SplitMix64(state: 0x5EED_0F_DA7A)
        func random(_ bound: Int) -> Int { Int(generator.next() % UInt64(max(bound, 1))) }
        let count = 12, side: UInt32 = 4
        let validImages = makeIDX([UInt32(count), side, side], (0..<(count * 16)).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let validLabels = makeIDX([UInt32(count)], (0..<count).map { UInt8($0 % 10) })
        var outcomes = (loaded: 0, refused: 0)

        for round in 0..<2_000 {
            var images = validImages, labels = validLabels
            let mutateImages = random(2) == 0
            var target = mutateImages ? images : labels
            switch random(6) {
            case 0:  // truncate
                target = Array(target.prefix(random(target.count + 1)))
            case 1:  // flip one to four bytes
                for _ in 0...random(4) { target[random(target.count)] ^= UInt8(truncatingIfNeeded: generator.next() | 1) }
            case 2:  // a huge dimension
                let dimension = random(Int(target[3]))
                target.replaceSubrange((4 + 4 * dimension)..<(8 + 4 * dimension), with: [0xFF, 0xFF, 0xFF, 0xFF])
            case 3:  // a count that disagrees with the other file (payload adjusted to match)
                let newCount = random(2 * count + 1)
                let perSample = mutateImages ? 16 : 1
                let header = mutateImages ? makeIDX([UInt32(newCount), side, side], []) : makeIDX([UInt32(newCount)], [])
                let payload = (0..<(newCount * perSample)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                target = header + payload
            case 4:  // labels out of range (or a pixel changed)
                target[target.count - 1 - random(count)] = UInt8(truncatingIfNeeded: generator.next())
            default:  // append garbage
                target += (0..<(1 + random(8))).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            }
            if random(3) == 0 { target = Gzip.compress(target) }
            if random(10) == 0 { target = Array(target.dropLast(1 + random(5))) }   // also cut the gzip trailer
            if mutateImages { images = target } else { labels = target }

            do {
                func contents(_ bytes: [UInt8], _ file: String) throws -> IDX.Contents {
                    let plain = Gzip.isCompressed(bytes) ? try Gzip.decompress(bytes, file: file, maximumSize: 1 << 20) : bytes
                    return try IDX.parseContents(plain, file: file)
                }
                let split = try MNISTFiles.makeSplit(
                    images: contents(images, "images"), imagesFile: "images", labels: contents(labels, "labels"),
                    labelsFile: "labels", limit: random(4) == 0 ? random(count + 2) : nil, expectedFeatures: 16)
                let data = split.dataset
                #expect(data.featureCount == 16 && data.inputs.rows == data.count && data.labels.count == data.count)
                #expect(data.labels.allSatisfy { (0..<10).contains($0) })
                #expect(data.inputs.storage.allSatisfy { (0...1).contains($0) })
                outcomes.loaded += 1
            } catch let error as NeuralLevelsError {
                guard case let .badData(file, reason) = error else {
                    Issue.record("round \(round): unexpected error \(error)")
                    continue
                }
                #expect(["images", "labels"].contains(file) && !reason.isEmpty, "round \(round)")
                outcomes.refused += 1
            }
        }
        #expect(outcomes.refused > 700 && outcomes.loaded > 100, "\(outcomes)")
    }

    @Test("1,000 mutated pairs on disk: the streaming loader agrees with the in-memory one, case by case")
    func fuzzStreamingLoader() throws {
        var generator = SplitMix64(state: 0x57_4EA3)
        func random(_ bound: Int) -> Int { Int(generator.next() % UInt64(max(bound, 1))) }
        let scratch = try ScratchFolder()
        let count = 20, side: UInt32 = 4
        let validImages = makeIDX([UInt32(count), side, side], (0..<(count * 16)).map { UInt8(truncatingIfNeeded: $0 * 13) })
        let validLabels = makeIDX([UInt32(count)], (0..<count).map { UInt8($0 % 10) })
        var outcomes = (loaded: 0, refused: 0)

        for round in 0..<1_000 {
            var images = validImages
            switch random(5) {
            case 0: images = Array(images.prefix(random(images.count + 1)))
            case 1: for _ in 0...random(4) { images[random(images.count)] ^= UInt8(truncatingIfNeeded: generator.next() | 1) }
            case 2:
                let dimension = random(3)
                images.replaceSubrange((4 + 4 * dimension)..<(8 + 4 * dimension), with: [0xFF, 0xFF, 0xFF, 0xFF])
            case 3: images += (0..<(1 + random(8))).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            default: break
            }
            if random(2) == 0 {
                images = Gzip.compress(images)
                if random(4) == 0 { images = Array(images.prefix(random(images.count))) }
                else if random(4) == 0 { images[10 + random(images.count - 10)] ^= 0x24 }
            }
            let imagesPath = try scratch.write(images, to: "round\(round % 8)/images")
            let labelsPath = try scratch.write(validLabels, to: "round\(round % 8)/labels")
            let limit = random(3) == 0 ? random(count + 2) : nil

            let streamed = Result { try MNISTFiles.loadSplit(imagesPath: imagesPath, labelsPath: labelsPath,
                                                              limit: limit, expectedFeatures: 16) }
            let inMemory = Result {
                try MNISTFiles.makeSplit(images: IDX.readContents(path: imagesPath), imagesFile: imagesPath,
                                         labels: IDX.readContents(path: labelsPath), labelsFile: labelsPath,
                                         limit: limit, expectedFeatures: 16)
            }
            switch (streamed, inMemory) {
            case let (.success(a), .success(b)):
                #expect(a.dataset.inputs.storage == b.dataset.inputs.storage && a.dataset.labels == b.dataset.labels,
                        "round \(round): the two loaders read different values")
                outcomes.loaded += 1
            case let (.failure(a), .failure(b)):
                #expect(a is NeuralLevelsError && b is NeuralLevelsError, "round \(round): \(a) / \(b)")
                // Both name the images file (the messages may differ: the streaming loader reads
                // the header before it reaches a gzip error at the end of the stream).
                for error in [a, b] {
                    if case .badData(let file, _)? = error as? NeuralLevelsError {
                        #expect(file == imagesPath, "round \(round): \(error)")
                    } else {
                        Issue.record("round \(round): not badData: \(error)")
                    }
                }
                outcomes.refused += 1
            default:
                Issue.record("round \(round): streaming \(streamed), in memory \(inMemory)")
            }
        }
        #expect(outcomes.refused > 300 && outcomes.loaded > 100, "\(outcomes)")
    }
}
