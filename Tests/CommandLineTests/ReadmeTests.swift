// ReadmeTests.swift — the README's code excerpts are the real code: every line of every excerpt
// marked `<!-- from PATH -->` must still appear in that file, in the file's order (an excerpt may
// leave lines out between them).

import Foundation
import TestSupport
import Testing

@Suite("README excerpts")
struct ReadmeTests {
    /// The package root, from this file's path (Tests/CommandLineTests/ReadmeTests.swift).
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `(path, lines)` for every marked excerpt of the README.
    func excerpts() throws -> [(path: String, lines: [String])] {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        var result: [(String, [String])] = []
        var pending: String?
        var current: [String]?
        for line in readme.components(separatedBy: "\n") {
            if let body = current {
                if line.hasPrefix("```") {
                    result.append((pending ?? "", body))
                    (pending, current) = (nil, nil)
                } else {
                    current = body + [line]
                }
            } else if line.hasPrefix("<!-- from "), line.hasSuffix(" -->") {
                pending = String(line.dropFirst("<!-- from ".count).dropLast(" -->".count))
            } else if line.hasPrefix("```"), pending != nil {
                current = []
            }
        }
        return result
    }

    @Test("every excerpt line appears in its source file, in the file's order")
    func excerptsMatchSources() throws {
        let all = try excerpts()
        #expect(all.count >= 8, "found \(all.count) marked excerpts")
        for (path, lines) in all {
            let source = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
                .components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            let sourceLines = Set(source)
            for line in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                let found = sourceLines.contains(line.trimmingCharacters(in: .whitespaces))
                #expect(found, "README excerpt from \(path) has a line the file no longer has: \(line)")
            }
            if let line = firstLineOutOfOrder(lines, in: source), sourceLines.contains(line.trimmingCharacters(in: .whitespaces)) {
                Issue.record("README excerpt from \(path) has this line out of the file's order: \(line)")
            }
        }
    }
}
