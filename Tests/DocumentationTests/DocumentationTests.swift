// DocumentationTests.swift — the DocC articles' code excerpts are the real code.
//
// Every line of every ```swift block in the documentation catalogs (Sources/*/*.docc) must
// appear, whitespace-trimmed, in some .swift file under Sources/, as the README's excerpts must
// (Tests/CommandLineTests/ReadmeTests.swift). An article cannot quote code that has changed or
// gone: the test names the article and the line.

import Foundation
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

    @Test("every line of every swift block appears in a source file")
    func excerptsMatchSources() throws {
        var sourceLines = Set<String>()
        for file in Self.files(under: Self.sources, endingWith: ".swift") {
            let text = try String(contentsOf: file, encoding: .utf8)
            for line in text.components(separatedBy: "\n") { sourceLines.insert(line.trimmingCharacters(in: .whitespaces)) }
        }
        var checked = 0
        for article in Self.articles {
            let name = article.path.dropFirst(Self.root.path.count + 1)
            for block in Self.codeBlocks(in: try String(contentsOf: article, encoding: .utf8)) where block.language == "swift" {
                for line in block.lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                    let found = sourceLines.contains(line.trimmingCharacters(in: .whitespaces))
                    #expect(found, "\(name) quotes a line no file under Sources/ has: \(line)")
                    checked += 1
                }
            }
        }
        #expect(checked >= 100, "checked only \(checked) lines")
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
