// ChartsTests.swift — every chart type rendered, written, decoded and checked: the size asked
// for, real content (not blank, many colours), the series' own colours present in the pixels,
// robustness to NaN, zeros on log axes and empty data, the notes drawn where they belong (found
// in the pixels: against the same chart without the note, or at the plot's centre), and atomic,
// clearly failing writes.

import Foundation
import Testing
@testable import Charts

/// Renders with `render` into a fresh folder and returns the decoded PNG.
private func rendered(_ name: String, _ render: (String) throws -> Void) throws -> PNGImage {
    let folder = try ScratchFolder()
    let path = folder.path(name)
    try render(path)
    #expect(try folder.entries() == [name], "only the PNG remains, no temp file")
    return try PNGImage(path: path)
}

/// The checks every chart must pass (`name` says which chart in a failure).
func expectRealChart(_ image: PNGImage, width: Int, height: Int, minimumColors: Int = 50, name: String = "") {
    #expect(image.width == width, "\(name)")
    #expect(image.height == height, "\(name)")
    #expect(image.distinctColorCount > minimumColors, "\(name)")
    #expect(image.inkFraction > 0.01, "not blank \(name)")
    #expect(image.inkFraction < 0.95, "background stays white \(name)")
}

/// The plot's frame, found in the pixels: the left axis is the longest vertical run of the axis
/// colour (dark grey), the bottom axis the longest horizontal one. Nil if there is no such line.
private func plotFrame(of image: PNGImage) -> (left: Int, right: Int, top: Int, bottom: Int)? {
    func isAxis(_ x: Int, _ y: Int) -> Bool { image.pixels[y * image.width + x] & 0xFF_FFFF == 0x33_3333 }
    /// The longest run of consecutive positions where `isAxisAt` holds.
    func longestRun(_ positions: Range<Int>, _ isAxisAt: (Int) -> Bool) -> Range<Int> {
        var best = 0..<0, start: Int?
        for position in positions.lowerBound...positions.upperBound {
            if position < positions.upperBound && isAxisAt(position) {
                if start == nil { start = position }
            } else if let first = start {
                if position - first > best.count { best = first..<position }
                start = nil
            }
        }
        return best
    }
    let columns = (0..<image.width).map { x in (x, longestRun(0..<image.height) { isAxis(x, $0) }) }
    let rows = (0..<image.height).map { y in (y, longestRun(0..<image.width) { isAxis($0, y) }) }
    guard let left = columns.max(by: { $0.1.count < $1.1.count }), left.1.count > 50,
          let bottom = rows.max(by: { $0.1.count < $1.1.count }), bottom.1.count > 50 else { return nil }
    return (left.0, bottom.1.upperBound, left.1.lowerBound, bottom.0)
}

/// How many pixels of `color` (within `tolerance` per channel) lie in `xs` × `ys`.
private func count(of color: Color, in image: PNGImage, xs: Range<Int>, ys: Range<Int>, tolerance: Int = 2) -> Int {
    let (r, g, b) = color.rgb8
    var found = 0
    for y in ys.clamped(to: 0..<image.height) {
        for x in xs.clamped(to: 0..<image.width) {
            let pixel = image.pixels[y * image.width + x]
            if abs(Int((pixel >> 16) & 0xFF) - Int(r)) <= tolerance && abs(Int((pixel >> 8) & 0xFF) - Int(g)) <= tolerance
                && abs(Int(pixel & 0xFF) - Int(b)) <= tolerance { found += 1 }
        }
    }
    return found
}

/// Grey pixels of the "no data" note (grey italic text, centred in the plot) in the box its
/// text fills at the plot's centre, found from the axis lines.
private func noDataPixels(in image: PNGImage) throws -> Int {
    let plot = try #require(plotFrame(of: image), "no axis lines found")
    let width = Int(try Canvas(width: 10, height: 10).textWidth("no data", size: FontSize.label, italic: true).rounded(.up))
    let (x, y) = ((plot.left + plot.right) / 2, (plot.top + plot.bottom) / 2)
    return count(of: .gray, in: image, xs: (x - width / 2 - 3)..<(x + width / 2 + 3), ys: (y - 12)..<(y + 12))
}

/// The smallest rectangle holding every pixel where two images of the same size differ, and
/// how many differ.
private func difference(_ a: PNGImage, _ b: PNGImage) -> (xs: ClosedRange<Int>, ys: ClosedRange<Int>, count: Int)? {
    guard a.width == b.width, a.height == b.height else { return nil }
    var (minX, maxX, minY, maxY, count) = (Int.max, Int.min, Int.max, Int.min, 0)
    for index in a.pixels.indices where a.pixels[index] != b.pixels[index] {
        let (x, y) = (index % a.width, index / a.width)
        (minX, maxX, minY, maxY) = (min(minX, x), max(maxX, x), min(minY, y), max(maxY, y))
        count += 1
    }
    return count == 0 ? nil : (minX...maxX, minY...maxY, count)
}

@Suite("Line charts")
struct LineChartTests {
    @Test("four identical loss curves: every series' colour is visible")
    func identicalCurvesStayVisible() throws {
        let image = try rendered("loss.png") { try Samples.loss().renderPNG(to: $0) }
        expectRealChart(image, width: 1200, height: 750)
        for index in 0..<4 {
            // Each colour shows on the curve (drawn over the others or peeking out) and in the legend.
            #expect(image.count(of: Color.palette(index)) > 150, "series \(index) colour")
        }
    }

    @Test("renders at the requested size")
    func customSize() throws {
        let image = try rendered("small.png") { try Samples.trainAndTestLoss().renderPNG(to: $0, width: 640, height: 400) }
        expectRealChart(image, width: 640, height: 400)
        #expect(image.count(of: Color.palette(0)) > 100)
    }

    @Test("log axis with zeros, negatives, NaN and a zero band")
    func logarithmicWithZeroBand() throws {
        let image = try rendered("agreement.png") { try Samples.agreement().renderPNG(to: $0) }
        expectRealChart(image, width: 1200, height: 750)
        // Thin, dense, dashed lines are mostly antialiased edge pixels: allow some blending.
        for index in 0..<3 {
            #expect(image.count(of: Color.palette(index), tolerance: 12) > 150, "series \(index) colour")
        }
        #expect(image.count(of: Color(hex: 0xEEF5EE)) > 10_000, "the zero band is drawn")
        #expect(image.count(of: Color(hex: 0xC0392B)) > 100, "the tolerance line is drawn")
    }

    @Test("log axis, every value 0 or invalid, no zero band: draws axes and a note")
    func logarithmicWithoutPositives() throws {
        let image = try rendered("zeros.png") { try Samples.noPositiveValues().renderPNG(to: $0) }
        expectRealChart(image, width: 1200, height: 750, minimumColors: 10)
        // The same chart with every value NaN has the same axes and legend but nothing to note
        // (no series has a finite value the log axis could not show): the images differ only
        // in the notes box, one line per series, of the size drawNotes gives it.
        var unnoted = Samples.noPositiveValues()
        unnoted.series = unnoted.series.map { LineSeries(name: $0.name, values: Array(repeating: .nan, count: $0.points.count)) }
        let without = try rendered("nan.png") { try unnoted.renderPNG(to: $0) }
        let lines = ["“zeros” has no values > 0 to show on a log axis",
                     "“negative and NaN” has no values > 0 to show on a log axis"]
        let box = notesBoxSize(lines, on: try Canvas(width: 1200, height: 750))
        let changed = try #require(difference(image, without), "the note changes no pixel")
        #expect(abs(changed.xs.count - Int(box.width.rounded())) <= 2, "note box \(changed.xs) for width \(box.width)")
        #expect(abs(changed.ys.count - Int(box.height.rounded())) <= 2, "note box \(changed.ys) for height \(box.height)")
        #expect(changed.count > 500, "the box and its two lines of text: \(changed.count) pixels")
        let plot = try #require(plotFrame(of: image), "no axis lines found")
        #expect(changed.xs.lowerBound > plot.left && changed.xs.upperBound < plot.right
                && changed.ys.lowerBound > plot.top && changed.ys.upperBound < plot.bottom, "the note is inside the plot")
        // And "no data", in both: nothing could be drawn.
        #expect(try noDataPixels(in: image) > 20 && noDataPixels(in: without) > 20)
    }

    @Test("linear axis: NaN and infinities break the line instead of crashing")
    func nonFiniteValues() throws {
        let chart = LineChart(
            title: "Loss with a divergence", xLabel: "epoch", yLabel: "loss",
            series: [LineSeries(name: "diverged", values: [1, 0.8, .nan, 0.6, .infinity, 0.5, 0.45])])
        let image = try rendered("nan.png") { try chart.renderPNG(to: $0) }
        expectRealChart(image, width: 1200, height: 750)
        #expect(image.count(of: Color.palette(0)) > 150)
    }

    @Test("empty charts draw axes and a \"no data\" note", arguments: [
        [LineSeries](),
        [LineSeries(name: "empty", points: [])],
        [LineSeries(name: "all NaN", values: [.nan, .nan])],
    ])
    func emptyCharts(series: [LineSeries]) throws {
        for scale in [AxisScale.linear, .logarithmic] {
            let chart = LineChart(title: "Empty", xLabel: "x", yLabel: "y", yScale: scale, series: series)
            let image = try rendered("empty.png") { try chart.renderPNG(to: $0) }
            expectRealChart(image, width: 1200, height: 750, minimumColors: 10)
            #expect(try noDataPixels(in: image) > 20, "\"no data\" in grey at the centre of the plot, \(scale)")
            // The check can fail: a chart with a line through the same spot has no grey there.
            let drawn = LineChart(title: "Empty", xLabel: "x", yLabel: "y", yScale: scale,
                                  series: [LineSeries(name: "data", values: [1, 2])])
            #expect(try noDataPixels(in: rendered("data.png") { try drawn.renderPNG(to: $0) }) == 0, "\(scale)")
        }
    }
}

@Suite("Bar charts")
struct BarChartTests {
    @Test("bars in their colours, value labels, and the reference line")
    func throughput() throws {
        let image = try rendered("throughput.png") { try Samples.throughput().renderPNG(to: $0) }
        expectRealChart(image, width: 1200, height: 750)
        for index in 0..<4 {
            #expect(image.count(of: Color.palette(index)) > 20_000, "bar \(index) is a solid block")
        }
    }

    @Test("explicit colours, negative, NaN and no bars")
    func unusualValues() throws {
        let image = try rendered("odd.png") { try Samples.oddBars().renderPNG(to: $0) }
        expectRealChart(image, width: 1200, height: 750)
        #expect(image.count(of: Color(hex: 0x123456)) > 10_000)

        let empty = try rendered("none.png") {
            try BarChart(title: "No bars", yLabel: "value", bars: []).renderPNG(to: $0)
        }
        expectRealChart(empty, width: 1200, height: 750, minimumColors: 10)
    }
}

@Suite("3-D scatter")
struct Scatter3DTests {
    @Test("three panels of 2,000 points, with box, ticks and colour bars")
    func regressionFigure() throws {
        let image = try rendered("regression-4d.png") { try Samples.regression().renderPNG(to: $0) }
        expectRealChart(image, width: 1800, height: 650, minimumColors: 2000)
    }

    @Test("points are drawn in their colour-map colour")
    func pointColours() throws {
        // Every value at the bottom of the range: every point is viridis(0) = #440154.
        var generator = SampleGenerator(state: 1)
        let points = (0..<300).map { _ in (x1: generator.unit(), x2: generator.unit(), x3: generator.unit()) }
        let figure = Scatter3DFigure(panels: [
            Scatter3DPanel(title: "constant", points: points, values: Array(repeating: 0, count: 300), valueRange: 0...1),
        ])
        let image = try rendered("constant.png") { try figure.renderPNG(to: $0, width: 700, height: 600) }
        expectRealChart(image, width: 700, height: 600, minimumColors: 20)
        #expect(image.count(of: Colormap.viridis.color(at: 0), tolerance: 3) > 3000)
    }

    @Test("mismatched, non-finite and missing data do not crash")
    func degenerateData() throws {
        let figure = Scatter3DFigure(panels: [
            Scatter3DPanel(title: "empty", points: [], values: []),
            Scatter3DPanel(
                title: "odd", points: [(0, 0, 0), (.nan, 1, 1), (1, 1, 1)], values: [1, 2],
                colormap: .blueWhiteRed),
            Scatter3DPanel(title: "constant", points: [(0.5, 0.5, 0.5)], values: [3]),
        ])
        let image = try rendered("odd.png") { try figure.renderPNG(to: $0) }
        expectRealChart(image, width: 1800, height: 650, minimumColors: 10)
        let none = try rendered("none.png") { try Scatter3DFigure(panels: []).renderPNG(to: $0) }
        #expect(none.width == 1800)
    }
}

@Suite("Writing PNGs")
struct WritingTests {
    @Test("a missing folder throws ChartError naming the path, and leaves nothing behind")
    func missingFolder() throws {
        let folder = try ScratchFolder()
        let path = folder.path("no-such-folder/loss.png")
        do {
            try Samples.loss().renderPNG(to: path)
            Issue.record("expected an error")
        } catch let error as ChartError {
            guard case let .cannotWrite(errorPath, reason) = error else {
                Issue.record("expected .cannotWrite, got \(error)")
                return
            }
            #expect(errorPath == path)
            #expect(reason.contains("does not exist"))
            #expect(error.description.hasPrefix("cannot write chart \(path): "))
        }
        #expect(try folder.entries().isEmpty)
    }

    @Test("rewriting replaces the file atomically; a failed rename keeps the target, drops the temp file")
    func replaceAndFailedRename() throws {
        let folder = try ScratchFolder()
        let path = folder.path("chart.png")
        try Samples.loss().renderPNG(to: path, width: 300, height: 200)
        try Samples.throughput().renderPNG(to: path, width: 400, height: 250)
        #expect(try PNGImage(path: path).width == 400)
        #expect(try folder.entries() == ["chart.png"])

        // Renaming a file over a non-empty folder fails after the PNG was written.
        let blocked = folder.path("blocked.png")
        try FileManager.default.createDirectory(atPath: blocked + "/inner", withIntermediateDirectories: true)
        #expect(throws: ChartError.self) { try Samples.loss().renderPNG(to: blocked) }
        #expect(try folder.entries() == ["blocked.png", "chart.png"])
    }

    @Test("invalid sizes are rejected, and nothing is written", arguments: [(0, 100), (100, -1), (40_000, 10)])
    func invalidSize(width: Int, height: Int) throws {
        let folder = try ScratchFolder()
        #expect(throws: ChartError.invalidSize(width: width, height: height)) {
            try BarChart(title: "", yLabel: "", bars: []).renderPNG(to: folder.path("never.png"), width: width, height: height)
        }
        #expect(try folder.entries().isEmpty)
    }
}

@Suite("Ticks, labels and colours")
struct TickTests {
    @Test("nice steps are 1, 2 or 5 times a power of ten")
    func niceSteps() {
        #expect(niceStep(0.13) == 0.1)
        #expect(niceStep(0.56) == 0.5)
        #expect(niceStep(1) == 1)
        #expect(niceStep(1.6) == 2)
        #expect(niceStep(3) == 5)
        #expect(niceStep(7) == 10)
        #expect(niceStep(4300) == 5000)
        #expect(niceStep(0) == 1)
    }

    @Test("linear scales frame the data with labelled ticks")
    func linearScale() {
        let scale = Scale.linear(0.283, 0.621, targetTicks: 6, loose: true)
        #expect(scale.ticks.map(\.label) == ["0.25", "0.30", "0.35", "0.40", "0.45", "0.50", "0.55", "0.60", "0.65"])
        #expect(scale.lower == 0.25 && scale.upper == 0.65)
        let wide = Scale.linear(0, 71_250, targetTicks: 4, loose: true)
        #expect(wide.ticks.map(\.label) == ["0", "20,000", "40,000", "60,000", "80,000"])
        let tight = Scale.linear(1, 10, targetTicks: 10, loose: false)
        #expect(tight.ticks.map(\.label) == (1...10).map(String.init))
        #expect(tight.lower == 1 && tight.upper == 10)
        let flat = Scale.linear(2, 2, targetTicks: 5, loose: true)
        #expect(flat.lower < 2 && flat.upper > 2)
        // Extreme ranges neither hang nor crash.
        #expect(Scale.linear(1e10, 1e10 + 1e-6, targetTicks: 5, loose: true).ticks.count <= 100)
        #expect(!Scale.linear(-1e308, 1e308, targetTicks: 5, loose: true).ticks.isEmpty)
        #expect(!Scale.logarithmic(1e-300, 1e300).ticks.isEmpty)
        #expect(!Scale.logarithmic(5, .infinity).ticks.isEmpty)
        // A range through 0 with a tiny step labels 0 as "0" (log10(0) would trap).
        let tiny = Scale.linear(-3e-5, 4e-5, targetTicks: 5, loose: true)
        #expect(tiny.ticks.contains { $0.value == 0 && $0.label == "0" }, "\(tiny.ticks.map(\.label))")
        #expect(tiny.ticks.contains { $0.label == "2e-5" }, "\(tiny.ticks.map(\.label))")
        // Values down to the smallest subnormal: the decades stop at 1e-307, positions stay finite.
        let subnormal = Scale.logarithmic(Double.leastNonzeroMagnitude, 20 * Double.leastNonzeroMagnitude)
        #expect(subnormal.lower == 1e-307 && subnormal.upper == 1e-306)
        #expect(subnormal.fraction(Double.leastNonzeroMagnitude).map(\.isFinite) == true)   // below the axis, not NaN
        #expect(Scale.logarithmic(Double.leastNonzeroMagnitude, 2).ticks.first?.label == "1e-307")
    }

    @Test("log scales tick at powers of ten, labelled like 1e-3")
    func logScale() {
        let scale = Scale.logarithmic(3e-8, 2e-5)
        #expect(scale.ticks.map(\.label) == ["1e-8", "1e-7", "1e-6", "1e-5", "1e-4"])
        #expect(scale.fraction(0) == nil)
        #expect(scale.fraction(-1) == nil)
        #expect(abs(scale.fraction(1e-6)! - 0.5) < 1e-12)
        #expect(Scale.logarithmic(0.5, 20).ticks.map(\.label) == ["0.1", "1", "10", "100"])
    }

    @Test("value labels")
    func values() {
        #expect(formatValue(52_877) == "52,877")
        #expect(formatValue(1_234_567) == "1,234,567")
        #expect(formatValue(0.3556) == "0.356")
        #expect(formatValue(3) == "3")
        #expect(formatValue(1.5) == "1.5")
        #expect(formatValue(-0.0001) == "−1e-4")
        #expect(formatValue(-12.5) == "−12.5")
        #expect(formatValue(2.5e-7) == "2.5e-7")
        #expect(formatValue(.nan) == "n/a")
    }

    @Test("colour maps end where they should")
    func colormaps() {
        #expect(Colormap.viridis.color(at: 0).rgb8 == (0x44, 0x01, 0x54))
        #expect(Colormap.viridis.color(at: 1).rgb8 == (0xFD, 0xE7, 0x25))
        #expect(Colormap.viridis.color(at: 7).rgb8 == (0xFD, 0xE7, 0x25))
        #expect(Colormap.blueWhiteRed.color(at: 0.5).rgb8 == (0xF7, 0xF7, 0xF7))
        #expect(Colormap.blueWhiteRed.color(at: 0).rgb8 == (0x05, 0x30, 0x61))
        #expect(Color.palette(10) == Color.palette(0))
    }
}

@Suite("Bar chart labels")
struct BarChartLabelTests {
    /// Four bars at `fractions` of a reference line at 365,000, labelled like compare-levels'.
    static func chart(_ fractions: [Double]) -> BarChart {
        let ceiling = 365_000.0
        let bars = fractions.enumerated().map { index, fraction in
            Bar(label: "Level \(index + 1) · name", value: ceiling * fraction,
                valueText: "\(formatValue((ceiling * fraction).rounded())) (\(Int((100 * fraction).rounded()))%)")
        }
        return BarChart(title: "Throughput", yLabel: "samples per second", bars: bars,
                        referenceLine: ReferenceLine(value: ceiling, label: "BLAS ceiling: the epoch's gemm calls alone, 166.1 GFLOP/s"))
    }

    @Test("the reference line's label covers no value label, wherever the bars end", arguments: [
        [0.79, 0.78, 0.81, 0.86],            // a usual run
        [0.85, 0.86, 0.88, 0.95],            // Level 4 just under the line
        [0.97, 1.01, 1.04, 0.99],            // the ceiling measured at a slow moment: bars past it
        [1.02, 1.03, 1.05, 1.08],
        [0.2, 0.25, 0.3, 1.0],
    ])
    func clearOfValueLabels(fractions: [Double]) throws {
        let chart = Self.chart(fractions)
        let canvas = try Canvas(width: 1200, height: 750)
        let (yAxis, plot) = chart.frame(on: canvas)
        let layout = chart.labelLayout(yAxis: yAxis, plot: plot, on: canvas)
        let reference = try #require(layout.referenceLabel)
        for (index, label) in layout.valueLabels.enumerated() {
            #expect(!label.intersects(reference), "bar \(index + 1)'s value label is under the line's label")
        }
        #expect(reference.y >= plot.y && reference.maxY <= plot.maxY && reference.x >= plot.x && reference.maxX <= plot.maxX)
        let image = try rendered("labels.png") { try chart.renderPNG(to: $0) }
        expectRealChart(image, width: 1200, height: 750)
    }

    @Test("value labels group thousands")
    func grouped() {
        #expect(formatValue(315_470) == "315,470")
        #expect(Self.chart([0.5]).bars[0].valueText == "182,500 (50%)")
    }
}
