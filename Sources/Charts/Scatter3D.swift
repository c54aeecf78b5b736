// Scatter3D.swift — the "4D plot": points in three input dimensions, coloured by a fourth value,
// in several panels side by side (true y, predicted ŷ, residual ŷ − y).
//
// Teaches: drawing 3-D data on paper with nothing but an orthographic projection. Each point P
// of the cube is projected onto two screen directions, right r and up u, perpendicular to the
// viewing direction v set by an azimuth and an elevation: screen = (P·r, P·u), depth = P·v.
// Drawing far points first (the painter's algorithm) makes near points cover far ones. The three
// cube faces behind the data are shaded and gridded as a backdrop; the cube edges, ticks on the
// edges nearest the reader, and a colour bar per panel make the picture readable as numbers.
// Leaves out: perspective, lighting, rotation, and depth cues beyond occlusion.

import Foundation

/// One panel of a ``Scatter3DFigure``: points (x₁, x₂, x₃) coloured by one value each.
public struct Scatter3DPanel: Sendable {
    public var title: String
    public var points: [(x1: Double, x2: Double, x3: Double)]
    /// One value per point, mapped to a colour; points with non-finite values are skipped.
    public var values: [Double]
    public var colormap: Colormap
    /// The label beside the colour bar.
    public var colorBarLabel: String
    /// The values at the two ends of the colour bar. nil: the data's range for a sequential map,
    /// ±max|value| for a diverging one (so that white is 0). Give two panels the same range to
    /// make their colours comparable (e.g. true y and predicted ŷ).
    public var valueRange: ClosedRange<Double>?

    public init(
        title: String, points: [(x1: Double, x2: Double, x3: Double)], values: [Double],
        colormap: Colormap = .viridis, colorBarLabel: String = "", valueRange: ClosedRange<Double>? = nil
    ) {
        self.title = title
        self.points = points
        self.values = values
        self.colormap = colormap
        self.colorBarLabel = colorBarLabel
        self.valueRange = valueRange
    }

    /// The colour bar's range: `valueRange`, else fitted to the finite values.
    func resolvedRange() -> ClosedRange<Double> {
        if let valueRange, valueRange.lowerBound.isFinite, valueRange.upperBound.isFinite,
           valueRange.lowerBound < valueRange.upperBound {
            return valueRange
        }
        let finite = values.filter(\.isFinite)
        if colormap.isDiverging {
            let m = finite.map(abs).max() ?? 1
            return m > 0 ? -m...m : -1...1
        }
        guard let low = finite.min(), let high = finite.max() else { return 0...1 }
        return low < high ? low...high : (low - 0.5)...(high + 0.5)
    }
}

/// Several ``Scatter3DPanel``s side by side, sharing one cube, viewpoint and axis labels.
///
/// ```swift
/// let cube = inputs.map { (x1: $0[0], x2: $0[1], x3: $0[2]) }
/// let range = min(y.min()!, ŷ.min()!)...max(y.max()!, ŷ.max()!)
/// let figure = Scatter3DFigure(title: "Regression: test inputs coloured by output", panels: [
///     Scatter3DPanel(title: "true y", points: cube, values: y, colorBarLabel: "y", valueRange: range),
///     Scatter3DPanel(title: "predicted ŷ", points: cube, values: ŷ, colorBarLabel: "ŷ", valueRange: range),
///     Scatter3DPanel(title: "residual ŷ − y", points: cube, values: residuals,
///                    colormap: .blueWhiteRed, colorBarLabel: "ŷ − y"),
/// ])
/// try figure.renderPNG(to: "Reports/regression-4d.png")
/// ```
public struct Scatter3DFigure: Sendable {
    public var title: String
    public var panels: [Scatter3DPanel]
    /// Names of the three input axes.
    public var axisLabels: [String]
    /// The extent of the cube on every axis; nil: the data's extent, widened to nice numbers.
    public var bounds: ClosedRange<Double>?
    /// Viewpoint in degrees: azimuth around the vertical x₃ axis, elevation above the x₁x₂ plane.
    public var azimuth: Double
    public var elevation: Double

    public init(
        title: String = "", panels: [Scatter3DPanel], axisLabels: [String] = ["x₁", "x₂", "x₃"],
        bounds: ClosedRange<Double>? = nil, azimuth: Double = -60, elevation: Double = 25
    ) {
        self.title = title
        self.panels = panels
        self.axisLabels = axisLabels
        self.bounds = bounds
        self.azimuth = azimuth
        self.elevation = elevation
    }

    /// Renders the figure and writes it to `path` as a PNG, atomically (temp file + rename).
    /// - Throws: ``ChartError`` naming `path` if the size is invalid or the file cannot be written.
    public func renderPNG(to path: String, width: Int = 1800, height: Int = 650) throws {
        let canvas = try Canvas(width: width, height: height)
        draw(on: canvas)
        try canvas.writePNG(to: path)
    }

    // MARK: Drawing

    private func resolvedBounds() -> ClosedRange<Double> {
        if let bounds, bounds.lowerBound.isFinite, bounds.upperBound.isFinite, bounds.lowerBound < bounds.upperBound {
            return bounds
        }
        let coordinates = panels.flatMap { $0.points.flatMap { [$0.x1, $0.x2, $0.x3] } }.filter(\.isFinite)
        guard let low = coordinates.min(), let high = coordinates.max() else { return -1...1 }
        let scale = Scale.linear(low, high, targetTicks: 5, loose: true)
        return scale.lower...scale.upper
    }

    func draw(on canvas: Canvas) {
        var top = 8.0
        if !title.isEmpty {
            Frame.drawTitle(title, on: canvas)
            top = Frame.titleBand
        }
        guard !panels.isEmpty else {
            Frame.drawNoData(plot: Rect(x: 0, y: top, width: Double(canvas.width), height: Double(canvas.height) - top), on: canvas)
            return
        }
        let projection = Projection(azimuth: azimuth, elevation: elevation, bounds: resolvedBounds())
        let panelWidth = Double(canvas.width) / Double(panels.count)
        for (index, panel) in panels.enumerated() {
            let area = Rect(x: Double(index) * panelWidth, y: top, width: panelWidth, height: Double(canvas.height) - top)
            draw(panel, in: area, projection: projection, on: canvas)
        }
    }

    private func draw(_ panel: Scatter3DPanel, in area: Rect, projection: Projection, on canvas: Canvas) {
        // Right: the colour bar. Left: the cube, as large as fits with room for its labels.
        let barWidth = 18.0
        let bar = Rect(x: area.maxX - 88, y: area.y + 70, width: barWidth, height: area.height - 140)
        let room = Rect(x: area.x + 70, y: area.y + 40, width: bar.x - 52 - (area.x + 70), height: area.height - 90)
        let view = projection.fitted(in: room)
        canvas.text(
            panel.title, x: room.x + room.width / 2, y: area.y + 18, size: 18, color: .black, bold: true,
            align: .center, vertical: .middle)

        let bounds = projection.bounds
        let ticks = Scale.linear(bounds.lowerBound, bounds.upperBound, targetTicks: 5, loose: false).ticks
        drawBackdrop(view: view, ticks: ticks.map(\.value), on: canvas)

        // Points, far to near.
        let range = panel.resolvedRange()
        let count = min(panel.points.count, panel.values.count)
        var visible: [(x: Double, y: Double, depth: Double, value: Double)] = []
        visible.reserveCapacity(count)
        for i in 0..<count {
            let p = panel.points[i], value = panel.values[i]
            guard p.x1.isFinite, p.x2.isFinite, p.x3.isFinite, value.isFinite else { continue }
            let s = view.screen(p.x1, p.x2, p.x3)
            visible.append((s.x, s.y, s.depth, value))
        }
        visible.sort { $0.depth < $1.depth }
        let radius = min(6, max(1.8, 140 / Double(max(visible.count, 1)).squareRoot()))
        for point in visible {
            let color = panel.colormap.color(at: (point.value - range.lowerBound) / (range.upperBound - range.lowerBound))
            canvas.setColor(color)
            canvas.fillCircle(x: point.x, y: point.y, radius: radius)
            // A thin darker rim, so that near-white points stay visible on white.
            canvas.setColor(color.mixed(with: .black, 0.45), alpha: 0.6)
            canvas.setLine(width: 0.6)
            canvas.strokeCircle(x: point.x, y: point.y, radius: radius)
        }
        if visible.isEmpty {
            canvas.text(
                "no data", x: view.center.x, y: view.center.y, size: FontSize.label, color: .gray, italic: true,
                align: .center, vertical: .middle)
        }
        drawFrontEdgesAndAxes(view: view, ticks: ticks, on: canvas)
        drawColorBar(panel, range: range, in: bar, on: canvas)
    }

    /// The three cube faces behind the data: light fill, grid lines at the ticks, edges.
    private func drawBackdrop(view: Projection.View, ticks: [Double], on canvas: Canvas) {
        let far = view.projection.farCorner
        let (low, high) = (view.projection.bounds.lowerBound, view.projection.bounds.upperBound)
        func corner(_ c: [Double]) -> (x: Double, y: Double) {
            let s = view.screen(c[0], c[1], c[2])
            return (s.x, s.y)
        }
        for axis in 0..<3 {  // the face where coordinate `axis` is fixed at the far side
            let (a, b) = ((axis + 1) % 3, (axis + 2) % 3)
            func point(_ u: Double, _ v: Double) -> (x: Double, y: Double) {
                var c = [0.0, 0, 0]
                c[axis] = far[axis]
                c[a] = u
                c[b] = v
                return corner(c)
            }
            let outline = [point(low, low), point(high, low), point(high, high), point(low, high)]
            canvas.setColor(Color(hex: 0xF4F4F4))
            canvas.fillPolygon(outline)
            canvas.setColor(Color(hex: 0xDDDDDD))
            canvas.setLine(width: 1)
            for t in ticks {
                canvas.line(from: point(t, low), to: point(t, high))
                canvas.line(from: point(low, t), to: point(high, t))
            }
        }
        canvas.setColor(Color(hex: 0xAAAAAA))
        canvas.setLine(width: 1)
        for edge in view.projection.edges where edge.touchesFarCorner {
            canvas.line(from: corner(edge.from), to: corner(edge.to))
        }
    }

    /// The cube edges in front of the data, and on three of them the ticks and axis names.
    private func drawFrontEdgesAndAxes(view: Projection.View, ticks: [(value: Double, label: String)], on canvas: Canvas) {
        func screen(_ c: [Double]) -> (x: Double, y: Double) {
            let s = view.screen(c[0], c[1], c[2])
            return (s.x, s.y)
        }
        canvas.setColor(Color(hex: 0x888888))
        canvas.setLine(width: 1)
        for edge in view.projection.edges where !edge.touchesFarCorner {
            canvas.line(from: screen(edge.from), to: screen(edge.to))
        }
        var placed: [Rect] = []  // tick labels drawn so far; one that would overlap is left out
        for axis in [2, 0, 1] {
            let edge = view.labelledEdge(for: axis)
            let a = screen(edge.from), b = screen(edge.to)
            // Outward normal of the edge on screen (away from the cube's centre); straight left
            // for the vertical axis.
            var normal: (x: Double, y: Double)
            if axis == 2 {
                normal = (-1, 0)
            } else {
                let length = max(hypot(b.x - a.x, b.y - a.y), 1e-9)
                normal = (-(b.y - a.y) / length, (b.x - a.x) / length)
                let mid = ((a.x + b.x) / 2 - view.center.x, (a.y + b.y) / 2 - view.center.y)
                if normal.x * mid.0 + normal.y * mid.1 < 0 { normal = (-normal.x, -normal.y) }
            }
            canvas.setColor(.darkGray)
            canvas.setLine(width: 1.2)
            canvas.line(from: a, to: b)
            for (value, label) in ticks {
                var c = edge.from
                c[axis] = value
                let p = screen(c)
                canvas.setColor(.darkGray)
                canvas.setLine(width: 1)
                canvas.line(from: p, to: (p.x + 6 * normal.x, p.y + 6 * normal.y))
                let width = canvas.textWidth(label, size: FontSize.tick)
                let offset = 10 + 0.5 * width * abs(normal.x) + 4 * abs(normal.y)
                let at = (x: p.x + offset * normal.x, y: p.y + offset * normal.y)
                let box = Rect(x: at.x - width / 2 - 3, y: at.y - FontSize.tick / 2 - 2, width: width + 6, height: FontSize.tick + 4)
                guard !placed.contains(where: { $0.intersects(box) }) else { continue }
                placed.append(box)
                canvas.text(label, x: at.x, y: at.y, size: FontSize.tick, align: .center, vertical: .middle)
            }
            let name = axis < axisLabels.count ? axisLabels[axis] : ""
            let mid = ((a.x + b.x) / 2, (a.y + b.y) / 2)
            let distance = axis == 2 ? 56.0 : 42
            canvas.text(
                name, x: mid.0 + distance * normal.x, y: mid.1 + distance * normal.y, size: 17, color: .black,
                bold: true, align: .center, vertical: .middle)
        }
    }

    private func drawColorBar(_ panel: Scatter3DPanel, range: ClosedRange<Double>, in bar: Rect, on canvas: Canvas) {
        let steps = max(Int(bar.height), 1)
        for step in 0..<steps {
            let t = (Double(step) + 0.5) / Double(steps)
            canvas.setColor(panel.colormap.color(at: t))
            canvas.fillRectangle(x: bar.x, y: bar.maxY - Double(step + 1) * bar.height / Double(steps), width: bar.width, height: bar.height / Double(steps) + 0.6)
        }
        canvas.setColor(.darkGray)
        canvas.setLine(width: 1)
        canvas.strokeRectangle(x: Canvas.crisp(bar.x), y: Canvas.crisp(bar.y), width: bar.width.rounded(), height: bar.height.rounded())
        let scale = Scale.linear(range.lowerBound, range.upperBound, targetTicks: 6, loose: false)
        for (value, label) in scale.ticks {
            guard let f = scale.fraction(value) else { continue }
            let y = Canvas.crisp(bar.maxY - f * bar.height)
            canvas.line(from: (bar.maxX, y), to: (bar.maxX + 5, y))
            canvas.text(label, x: bar.maxX + 8, y: y, size: FontSize.tick, align: .left, vertical: .middle)
        }
        canvas.text(
            panel.colorBarLabel, x: bar.x + bar.width / 2, y: bar.y - 12, size: FontSize.label, bold: true,
            align: .center, vertical: .bottom)
    }
}

/// The orthographic projection of the cube `bounds`³ for a viewpoint.
struct Projection {
    let bounds: ClosedRange<Double>
    /// Screen right, screen up and towards-the-viewer directions, in cube coordinates.
    let right: [Double], up: [Double], toward: [Double]

    init(azimuth: Double, elevation: Double, bounds: ClosedRange<Double>) {
        let a = azimuth * Double.pi / 180, e = elevation * Double.pi / 180
        self.bounds = bounds
        right = [-sin(a), cos(a), 0]
        up = [-sin(e) * cos(a), -sin(e) * sin(a), cos(e)]
        toward = [cos(e) * cos(a), cos(e) * sin(a), sin(e)]
    }

    /// The cube corner farthest from the viewer.
    var farCorner: [Double] { toward.map { $0 > 0 ? bounds.lowerBound : bounds.upperBound } }

    /// The twelve edges of the cube.
    var edges: [(from: [Double], to: [Double], touchesFarCorner: Bool)] {
        let ends = [bounds.lowerBound, bounds.upperBound]
        var result: [(from: [Double], to: [Double], touchesFarCorner: Bool)] = []
        for axis in 0..<3 {
            let (a, b) = ((axis + 1) % 3, (axis + 2) % 3)
            for u in ends {
                for v in ends {
                    var from = [0.0, 0, 0]
                    from[a] = u
                    from[b] = v
                    from[axis] = bounds.lowerBound
                    var to = from
                    to[axis] = bounds.upperBound
                    let far = farCorner
                    result.append((from, to, from == far || to == far))
                }
            }
        }
        return result
    }

    /// Unscaled screen coordinates of a point, cube centred at the origin and scaled to ±1.
    func raw(_ x1: Double, _ x2: Double, _ x3: Double) -> (x: Double, y: Double, depth: Double) {
        let half = (bounds.upperBound - bounds.lowerBound) / 2, mid = (bounds.upperBound + bounds.lowerBound) / 2
        let p = [(x1 - mid) / half, (x2 - mid) / half, (x3 - mid) / half]
        func dot(_ d: [Double]) -> Double { p[0] * d[0] + p[1] * d[1] + p[2] * d[2] }
        return (dot(right), dot(up), dot(toward))
    }

    /// The projection scaled and centred to fill `rect` with the whole cube.
    func fitted(in rect: Rect) -> View {
        let corners = edges.map(\.from) + edges.map(\.to)
        let projected = corners.map { raw($0[0], $0[1], $0[2]) }
        let (minX, maxX) = (projected.map(\.x).min()!, projected.map(\.x).max()!)
        let (minY, maxY) = (projected.map(\.y).min()!, projected.map(\.y).max()!)
        let scale = min(rect.width / (maxX - minX), rect.height / (maxY - minY))
        let center = (
            x: rect.x + rect.width / 2 - scale * (minX + maxX) / 2,
            y: rect.y + rect.height / 2 + scale * (minY + maxY) / 2
        )
        return View(projection: self, scale: scale, center: center)
    }

    /// A projection placed on the canvas.
    struct View {
        let projection: Projection
        let scale: Double
        /// Where the cube's centre lands.
        let center: (x: Double, y: Double)

        /// Pixel coordinates (y down) and depth (larger is nearer) of a point.
        func screen(_ x1: Double, _ x2: Double, _ x3: Double) -> (x: Double, y: Double, depth: Double) {
            let r = projection.raw(x1, x2, x3)
            return (center.x + scale * r.x, center.y - scale * r.y, r.depth)
        }

        /// The edge along `axis` that carries its ticks: for x₁ and x₂ the lowest on screen,
        /// for the vertical x₃ the leftmost.
        func labelledEdge(for axis: Int) -> (from: [Double], to: [Double]) {
            let candidates = projection.edges.enumerated().filter { $0.offset / 4 == axis }.map(\.element)
            func midpoint(_ edge: (from: [Double], to: [Double], touchesFarCorner: Bool)) -> (x: Double, y: Double) {
                let a = screen(edge.from[0], edge.from[1], edge.from[2]), b = screen(edge.to[0], edge.to[1], edge.to[2])
                return ((a.x + b.x) / 2, (a.y + b.y) / 2)
            }
            let best = axis == 2
                ? candidates.min { midpoint($0).x < midpoint($1).x }!
                : candidates.max { midpoint($0).y < midpoint($1).y }!
            return (best.from, best.to)
        }
    }
}
