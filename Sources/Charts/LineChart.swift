// LineChart.swift — curves of y against x (loss per epoch, differences per step), on a linear or
// logarithmic y axis.
//
// Teaches: two honest-plotting problems the NeuralLevels reports run into. (1) Identical curves
// hide each other; the chart detects curves that land on the same pixels, draws them as a stack
// (widest first, each later one narrower, each with its own dash pattern) so every one stays
// visible, and says so in a note. (2) A log axis cannot show 0, yet "difference 0" (bitwise
// identical) is the most important value of all; instead of dropping it or faking log(0), a
// labelled zero band below the axis holds the zeros. Non-finite points and, on a log axis,
// values ≤ 0 outside the zero band break the line. Also: a layout pass before drawing, so the
// legend and notes sit in empty corners, or beside and above the plot when no corner is free.
// Leaves out: a logarithmic x axis, error bands, secondary axes and interactive anything.

import Foundation

/// Which scale the y axis uses.
public enum AxisScale: Sendable, Hashable {
    case linear
    /// Powers of ten equally spaced; only positive values can be placed on it.
    case logarithmic
}

/// A horizontal line at a fixed value with a label, e.g. a tolerance or a throughput ceiling.
public struct ReferenceLine: Sendable, Hashable {
    public var value: Double
    public var label: String
    public var color: Color
    public var dash: DashStyle

    public init(value: Double, label: String, color: Color = .darkGray, dash: DashStyle = .dashed) {
        self.value = value
        self.label = label
        self.color = color
        self.dash = dash
    }
}

/// One named curve of a ``LineChart``.
///
/// Style properties left `nil` are chosen by the chart: colour `Color.palette(i)` and dash
/// `solid, dashed, dotted, dashDot` in turn for the i-th series; width 3 px (2 px for series
/// denser than one point per 4 px; 1 px more if dotted). Series whose curves coincide on screen
/// (within a pixel) are stacked instead: the first drawn widest, each later one 2.5 px narrower
/// (…, 7, 4.5, 2 px), so every colour and pattern stays visible, and the chart adds a note.
public struct LineSeries: Sendable {
    public var name: String
    /// The points in drawing order. Non-finite points are skipped and break the line.
    public var points: [(x: Double, y: Double)]
    public var color: Color?
    public var dash: DashStyle?
    /// Line width in pixels.
    public var lineWidth: Double?
    /// A shape drawn at every point, or none.
    public var marker: Marker?

    public init(
        name: String, points: [(x: Double, y: Double)],
        color: Color? = nil, dash: DashStyle? = nil, lineWidth: Double? = nil, marker: Marker? = nil
    ) {
        self.name = name
        self.points = points
        self.color = color
        self.dash = dash
        self.lineWidth = lineWidth
        self.marker = marker
    }

    /// A series of `values` at x = `firstX`, `firstX + 1`, … (e.g. epochs 1, 2, …).
    public init(
        name: String, values: [Double], firstX: Double = 1,
        color: Color? = nil, dash: DashStyle? = nil, lineWidth: Double? = nil, marker: Marker? = nil
    ) {
        self.init(
            name: name, points: values.enumerated().map { (firstX + Double($0.offset), $0.element) },
            color: color, dash: dash, lineWidth: lineWidth, marker: marker)
    }

    /// The style of the `index`-th series, `position`-th of `stackSize` coinciding curves.
    func resolvedStyle(index: Int, position: Int, stackSize: Int, dense: Bool)
        -> (color: Color, dash: DashStyle, width: Double)
    {
        let dashes: [DashStyle] = [.solid, .dashed, .dotted, .dashDot]
        let dash = dash ?? dashes[index % dashes.count]
        var automaticWidth = stackSize > 1 ? 2 + 2.5 * Double(stackSize - 1 - position) : dense ? 2 : 3
        if dash == .dotted && stackSize == 1 { automaticWidth += 1 }  // dots need more ink to read
        return (color ?? Color.palette(index), dash, lineWidth ?? automaticWidth)
    }
}

/// A line chart: a title, labelled axes with "nice" ticks, a legend, and optional annotations.
///
/// ```swift
/// let chart = LineChart(
///     title: "Per-step |loss − Level 4|", xLabel: "step", yLabel: "absolute difference",
///     yScale: .logarithmic,
///     series: [LineSeries(name: "Level 1", values: differences)],
///     annotations: [.zeroBand(label: "bitwise identical (difference 0)")])
/// try chart.renderPNG(to: "Reports/agreement.png")
/// ```
public struct LineChart: Sendable {
    /// Extra information drawn in the plot area.
    public enum Annotation: Sendable {
        /// A line of text in a box in an empty corner of the plot (several notes share one box).
        case note(String)
        /// A labelled horizontal line; the y range is widened to include it.
        case referenceLine(ReferenceLine)
        /// On a logarithmic axis: a band below the lowest decade, labelled `label` and marked "0",
        /// in which points with y = 0 are drawn (instead of being left out, as log(0) is −∞).
        /// Ignored on a linear axis, where 0 is an ordinary value.
        case zeroBand(label: String)
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var yScale: AxisScale
    public var series: [LineSeries]
    public var annotations: [Annotation]
    /// Fixed y limits; nil fits the data (on a log axis, to whole decades; with no positive data
    /// at all, 1e-8…1).
    public var yRange: ClosedRange<Double>?

    public init(
        title: String, xLabel: String, yLabel: String, yScale: AxisScale = .linear,
        series: [LineSeries], annotations: [Annotation] = [], yRange: ClosedRange<Double>? = nil
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.yScale = yScale
        self.series = series
        self.annotations = annotations
        self.yRange = yRange
    }

    /// Renders the chart and writes it to `path` as a PNG, atomically (temp file + rename).
    /// - Throws: ``ChartError`` naming `path` if the size is invalid or the file cannot be written.
    public func renderPNG(to path: String, width: Int = 1200, height: Int = 750) throws {
        let canvas = try Canvas(width: width, height: height)
        draw(on: canvas)
        try canvas.writePNG(to: path)
    }

    // MARK: Drawing

    private var referenceLines: [ReferenceLine] {
        annotations.compactMap { if case let .referenceLine(line) = $0 { line } else { nil } }
    }

    private var notes: [String] {
        annotations.compactMap { if case let .note(text) = $0 { text } else { nil } }
    }

    /// The zero band's label, if the chart has one and it applies (log axis only).
    private var zeroBandLabel: String? {
        guard yScale == .logarithmic else { return nil }
        return annotations.lazy.compactMap { if case let .zeroBand(label) = $0 { label } else { nil } }.first
    }

    /// Whether `point` can be drawn: finite, and on a log axis positive (or 0 with a zero band).
    private func isDrawable(_ point: (x: Double, y: Double)) -> Bool {
        guard point.x.isFinite, point.y.isFinite else { return false }
        switch yScale {
        case .linear: return true
        case .logarithmic: return point.y > 0 || (point.y == 0 && zeroBandLabel != nil)
        }
    }

    private func makeYScale(targetTicks: Int) -> Scale {
        let values = series.flatMap { $0.points.filter(isDrawable).map(\.y) }
            + referenceLines.map(\.value).filter(\.isFinite)
        switch yScale {
        case .linear:
            if let yRange { return Scale.linear(yRange.lowerBound, yRange.upperBound, targetTicks: targetTicks, loose: false) }
            guard let low = values.min(), let high = values.max() else {
                return Scale.linear(0, 1, targetTicks: targetTicks, loose: true)
            }
            return Scale.linear(low, high, targetTicks: targetTicks, loose: true)
        case .logarithmic:
            if let yRange, yRange.lowerBound > 0, yRange.upperBound.isFinite {
                return Scale.logarithmic(yRange.lowerBound, yRange.upperBound)
            }
            let positive = values.filter { $0 > 0 }
            guard let low = positive.min(), let high = positive.max() else { return Scale.logarithmic(1e-8, 1) }
            return Scale.logarithmic(low, high)
        }
    }

    /// Where everything goes for one choice of reserved space: the plot rectangle, the axes,
    /// every point in pixels (nil where not drawable), and which series coincide on screen.
    private struct Layout {
        var plot: Rect
        var xAxis: Scale
        /// The bottom of the y axis proper (above the zero band, if any).
        var axisBottom: Double
        var bandHeight: Double, gap: Double, zeroY: Double
        var projected: [[(x: Double, y: Double)?]]
        /// Indices of series whose curves coincide, in drawing order; every series is in one.
        var stacks: [[Int]]

        /// Points every few pixels along every drawn curve.
        var occupied: [(x: Double, y: Double)] {
            densify(projected.flatMap { curve in
                curve.split(whereSeparator: { $0 == nil }).map { $0.map { $0! } }
            })
        }
    }

    private func layout(
        on canvas: Canvas, yAxis: Scale, reserveRight: Double, reserveTop: Double
    ) -> Layout {
        var plot = Frame.plotArea(
            on: canvas, yTickLabels: yAxis.ticks.map(\.label) + (zeroBandLabel == nil ? [] : ["0"]),
            hasYLabel: !yLabel.isEmpty, bottom: FontSize.tick + 14 + (xLabel.isEmpty ? 0 : FontSize.label + 12))
        plot.width -= reserveRight
        plot.y += reserveTop
        plot.height -= reserveTop

        // x: tight to the data (drawable or not, so an empty log chart keeps its x range),
        // padded 2 % each side so end markers are not cut.
        let drawableXs = series.flatMap { $0.points.filter(isDrawable).map(\.x) }
        let xs = drawableXs.isEmpty ? series.flatMap { $0.points.map(\.x).filter(\.isFinite) } : drawableXs
        var xAxis = Scale.linear(
            xs.min() ?? 0, xs.max() ?? 1, targetTicks: max(5, Int(plot.width / 100)), loose: false)
        let pad = (xAxis.upper - xAxis.lower) * 0.02
        xAxis.lower -= pad
        xAxis.upper += pad

        // The zero band takes the bottom of the plot; the log axis the rest, above a small gap.
        let hasBand = zeroBandLabel != nil
        let bandHeight = hasBand ? 50.0 : 0, gap = hasBand ? 10.0 : 0
        let axisBottom = plot.maxY - bandHeight - gap
        let zeroY = plot.maxY - bandHeight * 0.36
        func pixel(_ p: (x: Double, y: Double)) -> (x: Double, y: Double)? {
            guard isDrawable(p), let fx = xAxis.fraction(p.x) else { return nil }
            let x = plot.x + fx * plot.width
            if p.y == 0, hasBand { return (x, zeroY) }
            guard let fy = yAxis.fraction(p.y) else { return nil }
            return (x, axisBottom - fy * (axisBottom - plot.y))
        }
        let projected = series.map { $0.points.map(pixel) }
        var stacks: [[Int]] = []
        for index in projected.indices {
            if let stack = stacks.firstIndex(where: { coincide(projected[$0[0]], projected[index]) }) {
                stacks[stack].append(index)
            } else {
                stacks.append([index])
            }
        }
        return Layout(
            plot: plot, xAxis: xAxis, axisBottom: axisBottom, bandHeight: bandHeight, gap: gap, zeroY: zeroY,
            projected: projected, stacks: stacks)
    }

    /// The resolved style of every series in `layout`.
    private func styles(in layout: Layout) -> [(color: Color, dash: DashStyle, width: Double)] {
        series.indices.map { index in
            let stack = layout.stacks.first { $0.contains(index) }!
            return series[index].resolvedStyle(
                index: index, position: stack.firstIndex(of: index)!, stackSize: stack.count,
                dense: Double(layout.projected[index].count { $0 != nil }) > layout.plot.width / 4)
        }
    }

    /// The notes to show: the chart's own, then what the chart found out while laying out.
    private func noteLines(for layout: Layout) -> [String] {
        var lines = notes
        let coinciding = layout.stacks.map(\.count).filter { $0 > 1 }
        if coinciding.count == 1 {
            let all = coinciding[0] == series.count ? "all " : ""
            lines.append("\(all)\(coinciding[0]) curves coincide: drawn over each other, widest first")
        } else if coinciding.count > 1 {
            let sizes = coinciding.map(String.init).joined(separator: " + ")
            lines.append("\(coinciding.count) sets of curves coincide (\(sizes)): drawn over each other, widest first")
        }
        if yScale == .logarithmic {
            for (index, series) in series.enumerated()
            where layout.projected[index].allSatisfy({ $0 == nil }) && series.points.contains(where: { $0.y.isFinite }) {
                lines.append("“\(series.name)” has no values > 0 to show on a log axis")
            }
        }
        return lines
    }

    func draw(on canvas: Canvas) {
        let yAxis = makeYScale(targetTicks: max(4, (canvas.height - 150) / 75))

        // Legend and notes go in empty corners of the plot. Where they would hide data, the
        // legend moves to the right of the plot and the notes under the title, and the plot
        // is laid out again in the space that is left.
        var layout = layout(on: canvas, yAxis: yAxis, reserveRight: 0, reserveTop: 0)
        let entries = styles(in: layout).enumerated().compactMap { index, style -> LegendEntry? in
            series[index].name.isEmpty ? nil : LegendEntry(
                name: series[index].name, color: style.color,
                swatch: .line(width: style.width, dash: style.dash, marker: series[index].marker))
        }
        let legend = entries.isEmpty ? nil : Legend(entries: entries, on: canvas)
        let lines = noteLines(for: layout)
        let notesSize = notesBoxSize(lines, on: canvas)
        var legendOutside = false, notesOnTop = false
        for _ in 0..<3 {  // each move changes the plot, so check again (at most both move)
            let occupied = layout.occupied
            var taken: [Rect] = []
            var moved = false
            if let legend, !legendOutside {
                let (spot, covered) = emptiestCorner(for: legend.size, in: layout.plot, points: occupied)
                if covered > 0 { legendOutside = true; moved = true } else { taken.append(spot) }
            }
            if !lines.isEmpty, !notesOnTop,
               emptiestCorner(for: notesSize, in: layout.plot, points: occupied, avoiding: taken).covered > 0
                || notesSize.width > layout.plot.width - 20 {
                notesOnTop = true
                moved = true
            }
            guard moved else { break }
            layout = self.layout(
                on: canvas, yAxis: yAxis, reserveRight: legendOutside ? legend!.size.width + 14 : 0,
                reserveTop: notesOnTop ? Double(lines.count) * 20 : 0)
        }
        let occupied = layout.occupied
        var taken: [Rect] = []
        let plot = layout.plot, axisBottom = layout.axisBottom

        Frame.drawTitle(title, on: canvas)
        if notesOnTop {
            for (row, line) in lines.enumerated() {
                canvas.text(
                    line, x: Double(canvas.width) / 2, y: plot.y - Double(lines.count - row) * 20 + 2,
                    size: FontSize.legend, color: .gray, italic: true, align: .center, vertical: .middle)
            }
        }
        Frame.drawYAxis(yAxis, plot: plot, reserved: layout.bandHeight + layout.gap, on: canvas)
        for (value, label) in layout.xAxis.ticks {
            guard let fx = layout.xAxis.fraction(value) else { continue }
            let x = Canvas.crisp(plot.x + fx * plot.width)
            canvas.setLine(width: 1)
            canvas.setColor(.lightGray)
            canvas.line(from: (x, plot.y), to: (x, plot.maxY))
            canvas.setColor(.darkGray)
            canvas.line(from: (x, plot.maxY), to: (x, plot.maxY + 5))
            canvas.text(label, x: x, y: plot.maxY + 8, size: FontSize.tick, align: .center, vertical: .top)
        }
        if let zeroLabel = zeroBandLabel {
            let band = Rect(x: plot.x, y: plot.maxY - layout.bandHeight, width: plot.width, height: layout.bandHeight)
            canvas.setColor(Color(hex: 0xEEF5EE))
            canvas.fillRectangle(x: band.x, y: band.y, width: band.width, height: band.height)
            canvas.setColor(.darkGray)
            canvas.setLine(width: 1)
            canvas.line(from: (plot.x - 5, Canvas.crisp(layout.zeroY)), to: (plot.x, Canvas.crisp(layout.zeroY)))
            canvas.text("0", x: plot.x - 9, y: layout.zeroY, size: FontSize.tick, align: .right, vertical: .middle)
            canvas.text(
                zeroLabel, x: band.x + 10, y: band.y + 4, size: FontSize.tick, color: Color(hex: 0x2E6B2E),
                italic: true, vertical: .top)
        }
        if !yLabel.isEmpty { Frame.drawYLabel(yLabel, plot: plot, on: canvas) }
        if !xLabel.isEmpty { Frame.drawXLabel(xLabel, plot: plot, on: canvas) }

        for line in referenceLines {
            guard let fy = yAxis.fraction(line.value) else { continue }
            let y = (axisBottom - fy * (axisBottom - plot.y)).rounded()  // 2 px wide: on a pixel edge
            canvas.setColor(line.color)
            canvas.setLine(width: 2, dash: line.dash)
            canvas.line(from: (plot.x, y), to: (plot.maxX, y))
            canvas.text(
                line.label, x: plot.maxX - 8, y: y - 5, size: FontSize.tick, color: line.color,
                align: .right, vertical: .bottom)
        }

        // Each series split into runs of drawable points; a lone point becomes a dot. Markers
        // go on after all lines, so that stacked curves' markers nest instead of being covered.
        let styles = styles(in: layout)
        canvas.withSavedState {
            canvas.clip(x: plot.x - 8, y: plot.y - 8, width: plot.width + 16, height: plot.height + 16)
            for (index, series) in series.enumerated() {
                let style = styles[index]
                let runs = layout.projected[index].split(whereSeparator: { $0 == nil }).map { $0.map { $0! } }
                canvas.setColor(style.color)
                canvas.setLine(width: style.width, dash: style.dash)
                for run in runs where run.count > 1 { canvas.polyline(run) }
                for run in runs where run.count == 1 && series.marker == nil {
                    canvas.fillCircle(x: run[0].x, y: run[0].y, radius: style.width)
                }
            }
            for (index, series) in series.enumerated() {
                guard let marker = series.marker else { continue }
                for case let p? in layout.projected[index] {
                    canvas.marker(
                        marker, x: p.x, y: p.y, size: markerSize(lineWidth: styles[index].width), color: styles[index].color)
                }
            }
        }
        Frame.drawAxisLines(plot: plot, on: canvas)
        if zeroBandLabel != nil {
            // Break the y axis between the log decades and the zero band.
            canvas.setColor(.white)
            canvas.fillRectangle(x: plot.x - 1, y: axisBottom + 1, width: 3, height: layout.gap - 2)
            canvas.setColor(.darkGray)
            canvas.setLine(width: 1)
            for y in [axisBottom + 1, axisBottom + layout.gap - 1] {
                canvas.line(from: (plot.x - 5, y + 2), to: (plot.x + 5, y - 2))
            }
        }
        if layout.projected.allSatisfy({ $0.allSatisfy { $0 == nil } }) { Frame.drawNoData(plot: plot, on: canvas) }

        if let legend {
            let spot = legendOutside
                ? Rect(x: plot.maxX + 14, y: plot.y, width: legend.size.width, height: legend.size.height)
                : emptiestCorner(for: legend.size, in: plot, points: occupied).rect
            legend.draw(at: (spot.x, spot.y), on: canvas)
            taken.append(spot)
        }
        if !lines.isEmpty && !notesOnTop {
            let spot = emptiestCorner(for: notesSize, in: plot, points: occupied, avoiding: taken).rect
            drawNotes(lines, in: spot, on: canvas)
        }
    }
}

/// Whether two series land on the same pixels: same length, drawable at the same indices, and
/// within a pixel of each other wherever drawn (at least one point drawn).
private func coincide(_ a: [(x: Double, y: Double)?], _ b: [(x: Double, y: Double)?]) -> Bool {
    guard a.count == b.count, a.contains(where: { $0 != nil }) else { return false }
    return zip(a, b).allSatisfy { p, q in
        switch (p, q) {
        case (nil, nil): true
        case let (p?, q?): abs(p.x - q.x) < 1 && abs(p.y - q.y) < 1
        default: false
        }
    }
}

private let notePadding = 10.0, noteLineHeight = 20.0

/// The size of the box `drawNotes` draws for `lines`.
func notesBoxSize(_ lines: [String], on canvas: Canvas) -> (width: Double, height: Double) {
    (
        2 * notePadding + (lines.map { canvas.textWidth($0, size: FontSize.legend) }.max() ?? 0),
        2 * notePadding + Double(lines.count) * noteLineHeight - 4
    )
}

/// Draws `lines` of text in a box filling `rect` (sized by `notesBoxSize`).
func drawNotes(_ lines: [String], in rect: Rect, on canvas: Canvas) {
    drawBox(rect, on: canvas)
    for (row, line) in lines.enumerated() {
        canvas.text(
            line, x: rect.x + notePadding, y: rect.y + notePadding + Double(row) * noteLineHeight + 8,
            size: FontSize.legend, align: .left, vertical: .middle)
    }
}

/// Marker diameter for a line `lineWidth` pixels wide: visibly larger than the line, growing
/// with it, so that the markers of stacked identical curves nest inside each other.
func markerSize(lineWidth: Double) -> Double { 4 + 1.5 * lineWidth }
