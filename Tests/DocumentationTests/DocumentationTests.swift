// DocumentationTests.swift — the DocC articles' code excerpts are the real code.
//
// Every line of every ```swift block in the documentation catalogs (Sources/*/*.docc) must
// appear, whitespace-trimmed, in some .swift file under Sources/, and each block's lines in the
// order of one such file (lines may be left out between them), as the README's excerpts must
// (Tests/CommandLineTests/ReadmeTests.swift). An article cannot quote code that has changed,
// gone, or been reordered: the test names the article and the line.

import Foundation
import TestSupport
import Testing

@Suite("DocC articles")
struct DocumentationTests {
    /// The package root, from this file's path (Tests/DocumentationTests/DocumentationTests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let sources = root.appendingPathComponent("Sources")

    /// Every file under `folder` whose name ends with `suffix`, sorted by path.
    static func files(under folder: URL, endingWith suffix: String) -> [URL] {
        guard let walk = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        return walk.compactMap { $0 as? URL }.filter { $0.lastPathComponent.hasSuffix(suffix) }
            .sorted { $0.path < $1.path }
    }

    /// The fenced code blocks of a Markdown text: the language after the opening fence (empty
    /// if none) and the lines between the fences.
    static func codeBlocks(in markdown: String) -> [(language: String, lines: [String])] {
        var blocks: [(String, [String])] = []
        var current: (language: String, lines: [String])?
        for line in markdown.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if var block = current {
                if trimmed == "```" {
                    blocks.append((block.language, block.lines))
                    current = nil
                } else {
                    block.lines.append(line)
                    current = block
                }
            } else if trimmed.hasPrefix("```") {
                current = (String(trimmed.dropFirst(3)).trimmingCharacters(in: .whitespaces), [])
            }
        }
        return blocks
    }

    /// The documentation catalogs' Markdown files (articles and root pages).
    static var articles: [URL] { files(under: sources, endingWith: ".md").filter { $0.path.contains(".docc/") } }

    @Test("every swift block's lines appear in one source file, in its order")
    func excerptsMatchSources() throws {
        var sourceLines = Set<String>()
        var files: [[String]] = []
        for file in Self.files(under: Self.sources, endingWith: ".swift") {
            let lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
                .map { $0.trimmingCharacters(in: .whitespaces) }
            files.append(lines)
            sourceLines.formUnion(lines)
        }
        var checked = 0
        for article in Self.articles {
            let name = article.path.dropFirst(Self.root.path.count + 1)
            for block in Self.codeBlocks(in: try String(contentsOf: article, encoding: .utf8)) where block.language == "swift" {
                let missing = block.lines.filter { !sourceLines.contains($0.trimmingCharacters(in: .whitespaces)) }
                for line in missing {
                    Issue.record("\(name) quotes a line no file under Sources/ has: \(line)")
                }
                checked += block.lines.count { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                guard missing.isEmpty, let first = block.lines.first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
                else { continue }
                #expect(files.contains { firstLineOutOfOrder(block.lines, in: $0) == nil },
                        "\(name) quotes lines in an order no file under Sources/ has them, in the block starting: \(first)")
            }
        }
        #expect(checked >= 100, "checked only \(checked) lines")
    }

    @Test("the order check allows left-out lines and blank lines, and finds a swapped or missing one")
    func orderCheck() {
        let source = ["let x = 1", "let y = 2", "", "print(x + y)"]
        #expect(firstLineOutOfOrder(["  let x = 1", "", "print(x + y)"], in: source) == nil)
        #expect(firstLineOutOfOrder(["print(x + y)", "let x = 1"], in: source) == "let x = 1")
        #expect(firstLineOutOfOrder(["let x = 1", "let x = 1"], in: source) == "let x = 1")
        #expect(firstLineOutOfOrder(["let z = 3"], in: source) == "let z = 3")
    }

    /// A block without a language would escape the check above; articles say ```swift (checked)
    /// or name another language (```text, ```sh) for what is not Swift source.
    @Test("every code block names its language")
    func blocksNameTheirLanguage() throws {
        #expect(Self.articles.count >= 10, "found \(Self.articles.count) articles and root pages")
        for article in Self.articles {
            for block in Self.codeBlocks(in: try String(contentsOf: article, encoding: .utf8)) {
                #expect(!block.language.isEmpty, "\(article.lastPathComponent) has a ``` block without a language")
            }
        }
    }
}
