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

    func draw(on canvas: Canvas) {
        let values = bars.map(\.value).filter(\.isFinite) + [referenceLine?.value].compactMap { $0 }.filter(\.isFinite)
        // Headroom of 10 % above the tallest value, for the value labels.
        let high = max(0, values.max() ?? 1), low = min(0, values.min() ?? 0)
        let yAxis = Scale.linear(
            low - (low < 0 ? (high - low) * 0.08 : 0), high + (high - low) * 0.1,
            targetTicks: max(4, (canvas.height - 150) / 75), loose: true)

        Frame.drawTitle(title, on: canvas)
        let labelLines = 2.0
        let plot = Frame.plotArea(
            on: canvas, yTickLabels: yAxis.ticks.map(\.label), hasYLabel: !yLabel.isEmpty,
            bottom: labelLines * (FontSize.label + 4) + 12)
        Frame.drawYAxis(yAxis, plot: plot, on: canvas)
        if !yLabel.isEmpty { Frame.drawYLabel(yLabel, plot: plot, on: canvas) }
        func y(_ value: Double) -> Double { plot.maxY - (yAxis.fraction(value) ?? 0) * plot.height }

        let slot = plot.width / Double(max(bars.count, 1))
        let barWidth = min(slot * 0.62, 170)
        for (index, bar) in bars.enumerated() {
            let center = plot.x + slot * (Double(index) + 0.5)
            let lines = canvas.wrap(bar.label, maxWidth: slot - 8, size: FontSize.label)
            for (row, line) in lines.prefix(Int(labelLines)).enumerated() {
                canvas.text(
                    line, x: center, y: plot.maxY + 10 + Double(row) * (FontSize.label + 4), size: FontSize.label,
                    align: .center, vertical: .top)
            }
            guard bar.value.isFinite else {
                canvas.text(
                    bar.valueText ?? "n/a", x: center, y: y(0) - 8, size: FontSize.label, color: .gray,
                    italic: true, align: .center, vertical: .bottom)
                continue
            }
            let top = y(max(bar.value, 0)), bottom = y(min(bar.value, 0))
            canvas.setColor(bar.color ?? Color.palette(index))
            canvas.fillRectangle(x: center - barWidth / 2, y: top, width: barWidth, height: max(bottom - top, 1))
            let text = bar.valueText ?? formatValue(bar.value)
            if bar.value >= 0 {
                canvas.text(text, x: center, y: top - 6, size: FontSize.label, bold: true, align: .center, vertical: .bottom)
            } else {
                canvas.text(text, x: center, y: bottom + 6, size: FontSize.label, bold: true, align: .center, vertical: .top)
            }
        }
        if bars.isEmpty { Frame.drawNoData(plot: plot, on: canvas) }

        if let line = referenceLine, line.value.isFinite {
            let ly = y(line.value)
            canvas.setColor(line.color)
            canvas.setLine(width: 2, dash: line.dash)
            canvas.line(from: (plot.x, ly), to: (plot.maxX, ly))
            // The label sits above the line, in a white box so bars behind it do not hide it.
            let width = canvas.textWidth(line.label, size: FontSize.label, bold: true)
            let box = Rect(x: plot.maxX - width - 18, y: ly - FontSize.label - 14, width: width + 12, height: FontSize.label + 9)
            canvas.setColor(.white, alpha: 0.85)
            canvas.fillRectangle(x: box.x, y: box.y, width: box.width, height: box.height)
            canvas.text(
                line.label, x: box.maxX - 6, y: box.y + box.height / 2, size: FontSize.label, color: line.color,
                bold: true, align: .right, vertical: .middle)
        }
        Frame.drawAxisLines(plot: plot, on: canvas)
        if low < 0 {
            canvas.setColor(.darkGray)
            canvas.setLine(width: 1)
            canvas.line(from: (plot.x, Canvas.crisp(y(0))), to: (plot.maxX, Canvas.crisp(y(0))))
        }
    }
}
