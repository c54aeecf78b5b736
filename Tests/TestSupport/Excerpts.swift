// Excerpts.swift — checking that code quoted in the documentation is the real code, in order.
//
// Teaches: an excerpt may leave lines out (an article shows the lines that matter), but each line
// it shows must be in the source, after the one shown before it: a quote that reorders lines
// teaches a program that does not exist.
// Leaves out: parsing Markdown (each test reads its own fences).

import Foundation

/// The first non-blank line of `excerpt` that does not appear in `source` after the previous
/// excerpt line's match, compared whitespace-trimmed; nil when all of them appear in order.
public func firstLineOutOfOrder(_ excerpt: [String], in source: [String]) -> String? {
    var next = source.startIndex
    for line in excerpt {
        let wanted = line.trimmingCharacters(in: .whitespaces)
        if wanted.isEmpty { continue }
        guard let match = source[next...].firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == wanted }) else {
            return line
        }
        next = match + 1
    }
    return nil
}
