// Axes.swift — the parts of a 2-D chart around the data: scales, tick positions and labels, the
// plot frame, titles, and the legend box.
//
// Teaches: the classic "nice numbers" tick algorithm. Divide the range by the number of ticks you
// would like, round that raw step to 1, 2 or 5 times a power of ten, and put ticks at multiples
// of it; labels then need only as many decimals as the step has. A logarithmic axis instead puts
// major ticks at powers of ten (labelled 1e-3, 0.01, …, 1e3) and unlabelled minor ticks at 2…9
// times them. Also: placing a legend in the emptiest corner of the plot, so it hides no data.
// Leaves out: date axes, axis breaks other than the log axis' zero band (in LineChart.swift),
// and rotated tick labels.

import Foundation

/// An axis-aligned rectangle in pixels (y grows downwards).
struct Rect {
    var x, y, width, height: Double
    var maxX: Double { x + width }
    var maxY: Double { y + height }
    func contains(_ p: (x: Double, y: Double)) -> Bool {
        p.x >= x && p.x <= maxX && p.y >= y && p.y <= maxY
    }
    func intersects(_ other: Rect) -> Bool {
        x < other.maxX && other.x < maxX && y < other.maxY && other.y < maxY
    }
}

/// A mapping from data values to a 0...1 position along an axis, with its ticks.
struct Scale {
    enum Kind { case linear, logarithmic }
    var kind: Kind
    /// The axis limits, in data units (both positive for a log scale).
    var lower: Double, upper: Double
    /// Major ticks (labelled) and minor ticks (marks and faint grid only).
    var ticks: [(value: Double, label: String)]
    var minorTicks: [Double] = []

    /// The position of `value` from 0 (lower) to 1 (upper); nil where the scale cannot show it
    /// (non-finite values, or values ≤ 0 on a log scale).
    func fraction(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        switch kind {
        case .linear:
            return (value - lower) / (upper - lower)
        case .logarithmic:
            guard value > 0 else { return nil }
            return (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
        }
    }

    /// A linear scale covering `minimum...maximum`, widened to whole tick steps when `loose`
    /// (ticks then frame the data) or kept tight (ticks fall inside the data range).
    static func linear(_ minimum: Double, _ maximum: Double, targetTicks: Int, loose: Bool) -> Scale {
        var (low, high) = (minimum, maximum)
        if !(low.isFinite && high.isFinite && (high - low).isFinite) { (low, high) = (0, 1) }
        if low == high {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            (low, high) = (low - pad, high + pad)
        }
        let step = niceStep((high - low) / Double(max(targetTicks - 1, 1)))
        if loose {
            low = (low / step).rounded(.down) * step
            high = (high / step).rounded(.up) * step
        }
        // Count the ticks first (at most 100, whatever rounding does to huge or tiny ranges).
        let first = (low / step).rounded(.up)
        let count = min(max(Int(((high / step) - first + 1e-9).rounded(.down)) + 1, 0), 100)
        let ticks: [(Double, String)] = (0..<count).map { i in
            let value = (first + Double(i)) * step
            let clean = abs(value) < step * 1e-9 ? 0 : value
            return (clean, tickLabel(clean, step: step))
        }
        return Scale(kind: .linear, lower: low, upper: high, ticks: ticks)
    }

    /// A log scale from the decade at or below `minimum` to the decade at or above `maximum`
    /// (both > 0). Labels every decade, or every n-th when there are many.
    static func logarithmic(_ minimum: Double, _ maximum: Double) -> Scale {
        guard minimum > 0, maximum >= minimum, maximum.isFinite else { return logarithmic(1e-8, 1) }
        var lowExponent = Int(log10(minimum).rounded(.down))
        var highExponent = Int(log10(maximum).rounded(.up))
        if lowExponent == highExponent {
            lowExponent -= 1
            highExponent += 1
        }
        // Below 1e-307 a decade's 10^e is subnormal or 0 and positions become NaN: stop there.
        lowExponent = max(lowExponent, -307)
        highExponent = max(highExponent, lowExponent + 1)
        let decades = highExponent - lowExponent
        let every = decades <= 8 ? 1 : decades <= 16 ? 2 : (decades + 7) / 8
        var ticks: [(Double, String)] = []
        var minor: [Double] = []
        for e in lowExponent...highExponent {
            let value = pow(10, Double(e))
            if (e - lowExponent) % every == 0 {
                ticks.append((value, decadeLabel(e)))
            } else {
                minor.append(value)
            }
            if e < highExponent, decades <= 10 {
                minor += (2...9).map { Double($0) * value }
            }
        }
        return Scale(
            kind: .logarithmic, lower: pow(10, Double(lowExponent)), upper: pow(10, Double(highExponent)),
            ticks: ticks, minorTicks: minor)
    }
}

/// The 1-2-5 "nice" step closest to `raw`: 1, 2 or 5 times a power of ten (Heckbert's rounding:
/// below 1.5 → 1, below 3 → 2, below 7 → 5, else 10, times the power of ten).
func niceStep(_ raw: Double) -> Double {
    guard raw.isFinite, raw > 0 else { return 1 }
    let magnitude = pow(10, log10(raw).rounded(.down))
    let fraction = raw / magnitude
    let nice: Double = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
    return nice * magnitude
}

/// A tick label with exactly the decimals of `step` (a 1-2-5 step has one significant digit, so
/// 0.05 needs two), so that all labels of an axis line up; scientific for extreme magnitudes.
func tickLabel(_ value: Double, step: Double) -> String {
    if value == 0 && step >= 1 { return "0" }
    if abs(value) >= 1e6 || step < 1e-4 {
        return scientific(value)
    }
    let decimals = max(0, -Int(log10(step).rounded(.down)))
    return grouped(String(format: "%.\(decimals)f", value))
}

/// The label of 10^exponent: "0.01", "0.1", "1", "10", "100" near 1, else "1e-3", "1e4".
func decadeLabel(_ exponent: Int) -> String {
    switch exponent {
    case -2: "0.01"
    case -1: "0.1"
    case 0: "1"
    case 1: "10"
    case 2: "100"
    default: "1e\(exponent)"
    }
}

/// Scientific notation without padding: 2.5e-7, 1e6, −3.1e9 (mantissa to 3 significant digits).
func scientific(_ value: Double) -> String {
    guard value != 0, value.isFinite else { return value == 0 ? "0" : "\(value)" }
    let exponent = Int(log10(abs(value)).rounded(.down))
    var mantissa = value / pow(10, Double(exponent))
    mantissa = (mantissa * 100).rounded() / 100
    var text = String(format: "%g", mantissa)
    if text.hasPrefix("-") { text = "−" + text.dropFirst() }
    return "\(text)e\(exponent)"
}

/// A value for a label (bar values, notes): grouped integers from 1,000 up, three significant
/// digits below (trailing zeros dropped), scientific for very large or very small magnitudes. "n/a" for NaN/∞.
public func formatValue(_ value: Double) -> String {
    guard value.isFinite else { return "n/a" }
    let magnitude = abs(value)
    if magnitude == 0 { return "0" }
    if magnitude >= 1e9 || magnitude < 1e-3 { return scientific(value) }
    if magnitude >= 1000 { return grouped(String(format: "%.0f", value)) }
    let decimals = max(0, 2 - Int(log10(magnitude).rounded(.down)))
    var text = String(format: "%.\(decimals)f", value)
    if text.contains(".") {  // 1.50 → 1.5, 3.00 → 3
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
    }
    return grouped(text)
}

/// Inserts thousands separators into the integer part and uses a true minus sign.
private func grouped(_ plain: String) -> String {
    var sign = ""
    var digits = Substring(plain)
    if digits.hasPrefix("-") {
        sign = "−"
        digits = digits.dropFirst()
    }
    let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    var integer = String(parts[0])
    var groupedInteger = ""
    while integer.count > 3 {
        groupedInteger = "," + integer.suffix(3) + groupedInteger
        integer = String(integer.dropLast(3))
    }
    groupedInteger = integer + groupedInteger
    let result = parts.count > 1 ? groupedInteger + "." + parts[1] : groupedInteger
    return result.allSatisfy { $0 == "0" || $0 == "." } ? result : sign + result
}

// MARK: - Frame: title, axis labels, grid

/// Page layout shared by LineChart and BarChart.
enum Frame {
    static let outerPadding = 18.0
    static let titleBand = 58.0

    /// The plot rectangle left after the title, the y label and tick labels, and `bottom`
    /// pixels for x tick labels and the x label.
    static func plotArea(on canvas: Canvas, yTickLabels: [String], hasYLabel: Bool, bottom: Double) -> Rect {
        let widest = yTickLabels.map { canvas.textWidth($0, size: FontSize.tick) }.max() ?? 0
        let left = outerPadding + (hasYLabel ? FontSize.label + 14 : 0) + widest + 10
        let right = Double(canvas.width) - outerPadding - 16
        let top = titleBand + 8
        let bottomEdge = Double(canvas.height) - outerPadding - bottom
        return Rect(x: left, y: top, width: max(right - left, 10), height: max(bottomEdge - top, 10))
    }

    static func drawTitle(_ title: String, on canvas: Canvas) {
        canvas.text(
            title, x: Double(canvas.width) / 2, y: titleBand / 2 + 6, size: FontSize.title,
            color: .black, bold: true, align: .center, vertical: .middle)
    }

    /// The y label, rotated, centred on the plot's height at the left edge of the image.
    static func drawYLabel(_ label: String, plot: Rect, on canvas: Canvas) {
        canvas.text(
            label, x: outerPadding + FontSize.label * 0.8, y: plot.y + plot.height / 2,
            size: FontSize.label, align: .center, vertical: .middle, angle: -Double.pi / 2)
    }

    static func drawXLabel(_ label: String, plot: Rect, on canvas: Canvas) {
        canvas.text(
            label, x: plot.x + plot.width / 2, y: Double(canvas.height) - outerPadding,
            size: FontSize.label, align: .center, vertical: .bottom)
    }

    /// Horizontal grid lines, tick marks and labels for `scale` spanning `plot` bottom to top,
    /// with the bottom `reserved` pixels of the plot left free (LineChart's zero band).
    static func drawYAxis(_ scale: Scale, plot: Rect, reserved: Double = 0, on canvas: Canvas) {
        let span = plot.height - reserved
        func y(_ value: Double) -> Double? {
            scale.fraction(value).map { plot.maxY - reserved - $0 * span }
        }
        canvas.setLine(width: 1)
        canvas.setColor(Color(hex: 0xF1F1F1))
        for value in scale.minorTicks {
            guard let y = y(value) else { continue }
            canvas.line(from: (plot.x, Canvas.crisp(y)), to: (plot.maxX, Canvas.crisp(y)))
        }
        for (value, label) in scale.ticks {
            guard let y = y(value) else { continue }
            canvas.setColor(.lightGray)
            canvas.line(from: (plot.x, Canvas.crisp(y)), to: (plot.maxX, Canvas.crisp(y)))
            canvas.setColor(.darkGray)
            canvas.line(from: (plot.x - 5, Canvas.crisp(y)), to: (plot.x, Canvas.crisp(y)))
            canvas.text(label, x: plot.x - 9, y: y, size: FontSize.tick, align: .right, vertical: .middle)
        }
        if scale.kind == .logarithmic {
            canvas.setColor(.darkGray)
            for value in scale.minorTicks {
                guard let y = y(value) else { continue }
                canvas.line(from: (plot.x - 3, Canvas.crisp(y)), to: (plot.x, Canvas.crisp(y)))
            }
        }
    }

    /// The left and bottom axis lines.
    static func drawAxisLines(plot: Rect, on canvas: Canvas) {
        canvas.setLine(width: 1)
        canvas.setColor(.darkGray)
        let left = Canvas.crisp(plot.x), bottom = Canvas.crisp(plot.maxY)
        canvas.line(from: (left, plot.y), to: (left, bottom))
        canvas.line(from: (left, bottom), to: (plot.maxX, bottom))
    }

    /// Draws "no data" in the middle of the plot.
    static func drawNoData(plot: Rect, on canvas: Canvas) {
        canvas.text(
            "no data", x: plot.x + plot.width / 2, y: plot.y + plot.height / 2, size: FontSize.label,
            color: .gray, italic: true, align: .center, vertical: .middle)
    }
}

// MARK: - Legend

/// One row of a legend: a sample of the series' line (or a colour box) and its name.
struct LegendEntry {
    enum Swatch { case line(width: Double, dash: DashStyle, marker: Marker?), box }
    var name: String
    var color: Color
    var swatch: Swatch
}

/// A boxed legend (or notes box) with its size measured, placed by `emptiestCorner(for:in:points:avoiding:)`.
struct Legend {
    static let sampleLength = 46.0
    static let rowHeight = 22.0
    static let padding = 10.0
    var entries: [LegendEntry]
    var size: (width: Double, height: Double)

    init(entries: [LegendEntry], on canvas: Canvas) {
        self.entries = entries
        let widest = entries.map { canvas.textWidth($0.name, size: FontSize.legend) }.max() ?? 0
        size = (
            2 * Legend.padding + Legend.sampleLength + 10 + widest,
            2 * Legend.padding + Double(entries.count) * Legend.rowHeight - 4
        )
    }

    func draw(at origin: (x: Double, y: Double), on canvas: Canvas) {
        drawBox(Rect(x: origin.x, y: origin.y, width: size.width, height: size.height), on: canvas)
        for (row, entry) in entries.enumerated() {
            let y = origin.y + Legend.padding + Double(row) * Legend.rowHeight + 9
            let x0 = origin.x + Legend.padding
            switch entry.swatch {
            case let .line(width, dash, marker):
                // Even widths on a pixel edge, odd ones on a pixel centre: sharp, true colour.
                let lineY = Int(width.rounded()) % 2 == 0 ? y.rounded() : Canvas.crisp(y)
                canvas.setColor(entry.color)
                canvas.setLine(width: width, dash: dash)
                canvas.line(from: (x0, lineY), to: (x0 + Legend.sampleLength, lineY))
                if let marker {
                    canvas.marker(marker, x: x0 + Legend.sampleLength / 2, y: y, size: min(markerSize(lineWidth: width), 16), color: entry.color)
                }
            case .box:
                canvas.setColor(entry.color)
                canvas.fillRectangle(x: x0 + 8, y: y - 7, width: Legend.sampleLength - 16, height: 14)
            }
            canvas.text(
                entry.name, x: x0 + Legend.sampleLength + 10, y: y, size: FontSize.legend,
                align: .left, vertical: .middle)
        }
    }
}

/// A white, slightly transparent box with a light border, for legends and notes.
func drawBox(_ rect: Rect, on canvas: Canvas) {
    canvas.setColor(.white, alpha: 0.92)
    canvas.fillRectangle(x: rect.x, y: rect.y, width: rect.width, height: rect.height)
    canvas.setLine(width: 1)
    canvas.setColor(Color(hex: 0xBBBBBB))
    canvas.strokeRectangle(
        x: Canvas.crisp(rect.x), y: Canvas.crisp(rect.y), width: rect.width.rounded(), height: rect.height.rounded())
}

/// The corner of `plot` (inset by a margin) where a box of `size` covers the fewest of `points`
/// and overlaps none of `taken`; ties go to top right, then top left, bottom right, bottom left.
/// `covered` counts the points under the box (a million more if it overlaps a taken box).
func emptiestCorner(
    for size: (width: Double, height: Double), in plot: Rect,
    points: [(x: Double, y: Double)], avoiding taken: [Rect] = []
) -> (rect: Rect, covered: Int) {
    let margin = 10.0
    let corners: [Rect] = [
        Rect(x: plot.maxX - margin - size.width, y: plot.y + margin, width: size.width, height: size.height),
        Rect(x: plot.x + margin, y: plot.y + margin, width: size.width, height: size.height),
        Rect(x: plot.maxX - margin - size.width, y: plot.maxY - margin - size.height, width: size.width, height: size.height),
        Rect(x: plot.x + margin, y: plot.maxY - margin - size.height, width: size.width, height: size.height),
    ]
    let scored = corners.enumerated().map { index, rect -> (Int, Int) in
        let overlapping = taken.contains { $0.intersects(rect) } ? 1_000_000 : 0
        return (overlapping + points.reduce(0) { $0 + (rect.contains($1) ? 1 : 0) }, index)
    }
    let best = scored.min { $0 < $1 }!
    return (corners[best.1], best.0)
}

/// Points every few pixels along each polyline, so that corner scoring sees lines, not just
/// their vertices.
func densify(_ polylines: [[(x: Double, y: Double)]], every spacing: Double = 6) -> [(x: Double, y: Double)] {
    var result: [(x: Double, y: Double)] = []
    for line in polylines {
        guard var previous = line.first else { continue }
        result.append(previous)
        for p in line.dropFirst() {
            let length = hypot(p.x - previous.x, p.y - previous.y)
            let steps = length.isFinite ? max(1, Int(min(length / spacing, 1e6))) : 1
            for s in 1...steps {
                let t = Double(s) / Double(steps)
                result.append((previous.x + (p.x - previous.x) * t, previous.y + (p.y - previous.y) * t))
            }
            previous = p
        }
    }
    return result
}
