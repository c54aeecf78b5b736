// ScratchFolder.swift — a test helper: a scratch folder that removes itself. (PNG decoding
// is public in Charts: `PNGImage`.)

import Charts
import Foundation

/// A fresh folder under the system temp folder, removed when the value is released.
final class ScratchFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "charts-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func path(_ name: String) -> String { path + "/" + name }

    func entries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }
}
