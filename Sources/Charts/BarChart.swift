// BarChart.swift — one value per category (samples per second per level), with its number
// printed on the bar and an optional reference line such as the BLAS ceiling.
//
// Teaches: bars start at zero (a bar's length *is* its value, so a truncated axis would lie),
// and a reference line turns absolute numbers into "how close to the best possible".
// Leaves out: grouped and stacked bars, horizontal bars, and error bars.

import Foundation

/// One bar of a ``BarChart``.
public struct Bar: Sendable, Hashable {
    /// The category, written under the bar (wrapped onto two lines if long).
    public var label: String
    public var value: Double
    /// nil: `Color.palette(index)`.
    public var color: Color?
    /// The text written above the bar; nil: the value, formatted (e.g. "48,213" or "0.00215").
    public var valueText: String?

    public init(label: String, value: Double, color: Color? = nil, valueText: String? = nil) {
        self.label = label
        self.value = value
        self.color = color
        self.valueText = valueText
    }
}

/// A vertical bar chart on a linear axis that always includes 0.
///
/// ```swift
/// let chart = BarChart(
///     title: "Training throughput", yLabel: "samples / s",
///     bars: [Bar(label: "Level 1", value: 41_000), Bar(label: "Level 4", value: 52_000)],
///     referenceLine: ReferenceLine(value: 90_000, label: "BLAS ceiling 90,000"))
/// try chart.renderPNG(to: "Reports/throughput.png")
/// ```
public struct BarChart: Sendable {
    public var title: String
    public var yLabel: String
    public var bars: [Bar]
    /// A dashed horizontal line with its label (drawn across all bars); the axis includes it.
    public var referenceLine: ReferenceLine?

    public init(title: String, yLabel: String, bars: [Bar], referenceLine: ReferenceLine? = nil) {
        self.title = title
        self.yLabel = yLabel
        self.bars = bars
        self.referenceLine = referenceLine
    }

    /// Renders the chart and writes it to `path` as a PNG, atomically (temp file + rename).
    /// - Throws: ``ChartError`` naming `path` if the size is invalid or the file cannot be written.
    public func renderPNG(to path: String, width: Int = 1200, height: Int = 750) throws {
        let canvas = try Canvas(width: width, height: height)
        draw(on: canvas)
        try canvas.writePNG(to: path)
    }

    /// Lines of text under each bar for its category.
    private static let labelLines = 2.0

    /// The y axis, and the plot area it leaves on `canvas`.
    func frame(on canvas: Canvas) -> (yAxis: Scale, plot: Rect) {
        let values = bars.map(\.value).filter(\.isFinite) + [referenceLine?.value].compactMap { $0 }.filter(\.isFinite)
        // Headroom above the tallest value for the value labels (and, with a reference line, for
        // its label above them).
        let high = max(0, values.max() ?? 1), low = min(0, values.min() ?? 0)
        let headroom = referenceLine == nil ? 0.1 : 0.16
        let yAxis = Scale.linear(
            low - (low < 0 ? (high - low) * 0.08 : 0), high + (high - low) * headroom,
            targetTicks: max(4, (canvas.height - 150) / 75), loose: true)
        let plot = Frame.plotArea(
            on: canvas, yTickLabels: yAxis.ticks.map(\.label), hasYLabel: !yLabel.isEmpty,
            bottom: Self.labelLines * (FontSize.label + 4) + 12)
        return (yAxis, plot)
    }

    /// The pixel row of `value` in `plot`.
    private static func y(_ value: Double, _ yAxis: Scale, _ plot: Rect) -> Double {
        plot.maxY - (yAxis.fraction(value) ?? 0) * plot.height
    }

    func draw(on canvas: Canvas) {
        let (yAxis, plot) = frame(on: canvas)
        let low = yAxis.lower
        Frame.drawTitle(title, on: canvas)
        Frame.drawYAxis(yAxis, plot: plot, on: canvas)
        if !yLabel.isEmpty { Frame.drawYLabel(yLabel, plot: plot, on: canvas) }
        func y(_ value: Double) -> Double { Self.y(value, yAxis, plot) }

        let slot = plot.width / Double(max(bars.count, 1))
        let barWidth = min(slot * 0.62, 170)
        let labelLines = Self.labelLines
        let layout = labelLayout(yAxis: yAxis, plot: plot, on: canvas)
        for (index, bar) in bars.enumerated() {
            let center = plot.x + slot * (Double(index) + 0.5)
            let lines = canvas.wrap(bar.label, maxWidth: slot - 8, size: FontSize.label)
            for (row, line) in lines.prefix(Int(labelLines)).enumerated() {
                canvas.text(
                    line, x: center, y: plot.maxY + 10 + Double(row) * (FontSize.label + 4), size: FontSize.label,
                    align: .center, vertical: .top)
            }
            guard bar.value.isFinite else { continue }
            let top = y(max(bar.value, 0)), bottom = y(min(bar.value, 0))
            canvas.setColor(bar.color ?? Color.palette(index))
            canvas.fillRectangle(x: center - barWidth / 2, y: top, width: barWidth, height: max(bottom - top, 1))
        }
        if bars.isEmpty { Frame.drawNoData(plot: plot, on: canvas) }

        if let line = referenceLine, line.value.isFinite, let box = layout.referenceLabel {
            let ly = y(line.value)
            canvas.setColor(line.color)
            canvas.setLine(width: 2, dash: line.dash)
            canvas.line(from: (plot.x, ly), to: (plot.maxX, ly))
            drawLabel(line.label, in: box, color: line.color, on: canvas)
        }
        // Value labels last, each in a white box, so neither the line nor its label hides one.
        for (index, bar) in bars.enumerated() {
            let text = bar.value.isFinite ? bar.valueText ?? formatValue(bar.value) : bar.valueText ?? "n/a"
            drawLabel(text, in: layout.valueLabels[index], color: bar.value.isFinite ? .darkGray : .gray,
                      italic: !bar.value.isFinite, on: canvas)
        }
        Frame.drawAxisLines(plot: plot, on: canvas)
        if low < 0 {
            canvas.setColor(.darkGray)
            canvas.setLine(width: 1)
            canvas.line(from: (plot.x, Canvas.crisp(y(0))), to: (plot.maxX, Canvas.crisp(y(0))))
        }
    }

    /// Where the labels go (in pixels): each bar's value just beyond the end of the bar, and the
    /// reference line's label in the first of these places that covers no value label (or, when
    /// all do, the one that covers least): above the line at the right, at the left, below it at
    /// the right, at the left, then above the value labels it would cover, at the right or left.
    struct LabelLayout {
        var valueLabels: [Rect]
        var referenceLabel: Rect?
    }

    func labelLayout(yAxis: Scale, plot: Rect, on canvas: Canvas) -> LabelLayout {
        func y(_ value: Double) -> Double { Self.y(value, yAxis, plot) }
        let slot = plot.width / Double(max(bars.count, 1))
        let height = FontSize.label + 9
        func box(_ text: String, centerX: Double, italic: Bool = false) -> (width: Double, x: Double) {
            let width = canvas.textWidth(text, size: FontSize.label, bold: !italic, italic: italic) + 12
            return (width, centerX - width / 2)
        }
        let values = bars.enumerated().map { index, bar -> Rect in
            let center = plot.x + slot * (Double(index) + 0.5)
            guard bar.value.isFinite else {
                let (width, x) = box(bar.valueText ?? "n/a", centerX: center, italic: true)
                return Rect(x: x, y: y(0) - 4 - height, width: width, height: height)
            }
            let (width, x) = box(bar.valueText ?? formatValue(bar.value), centerX: center)
            return bar.value >= 0
                ? Rect(x: x, y: y(bar.value) - 2 - height, width: width, height: height)
                : Rect(x: x, y: y(bar.value) + 2, width: width, height: height)
        }
        guard let line = referenceLine, line.value.isFinite else { return LabelLayout(valueLabels: values) }
        let ly = y(line.value)
        let width = canvas.textWidth(line.label, size: FontSize.label, bold: true) + 12
        let lefts = [plot.maxX - width - 6, plot.x + 6]                 // at the right, at the left
        var candidates = [ly - height - 5, ly + 5].flatMap { top in
            lefts.map { Rect(x: $0, y: top, width: width, height: height) }
        }
        // Failing those, above every value label it would cover (the axis leaves room at the top).
        for x in lefts {
            let covered = values.filter { $0.maxX > x && $0.x < x + width && $0.y < ly }
            if let highest = covered.map(\.y).min() {
                candidates.append(Rect(x: x, y: max(plot.y, min(ly, highest) - height - 4), width: width, height: height))
            }
        }
        func overlap(_ r: Rect) -> Double {
            values.reduce(0) { total, v in
                total + max(0, min(r.maxX, v.maxX) - max(r.x, v.x)) * max(0, min(r.maxY, v.maxY) - max(r.y, v.y))
            }
        }
        let best = candidates.first { overlap($0) == 0 } ?? candidates.min { overlap($0) < overlap($1) }!
        return LabelLayout(valueLabels: values, referenceLabel: best)
    }
}

/// `text` centred in `box`, on a white, slightly transparent background.
private func drawLabel(_ text: String, in box: Rect, color: Color, italic: Bool = false, on canvas: Canvas) {
    canvas.setColor(.white, alpha: 0.85)
    canvas.fillRectangle(x: box.x, y: box.y, width: box.width, height: box.height)
    canvas.text(text, x: box.x + box.width / 2, y: box.y + box.height / 2, size: FontSize.label, color: color,
                bold: !italic, italic: italic, align: .center, vertical: .middle)
}
