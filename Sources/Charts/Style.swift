// Style.swift — the visual vocabulary shared by every chart: colours, palettes, line styles,
// markers and colour maps.
//
// Teaches: how a chart keeps several series apart without relying on colour alone. A qualitative
// palette (Tableau 10) separates categories; dash patterns, line widths and marker shapes keep
// overlaid, identical curves distinguishable (and readable in greyscale). Colour maps turn a
// number into a colour: a perceptually uniform sequential map (viridis) for values, and a
// diverging map (blue–white–red, centred at 0) for signed quantities such as residuals.
// Leaves out: colour spaces beyond 8-bit sRGB, transparency in the public API, and named themes.

/// An opaque sRGB colour with components in 0...1.
public struct Color: Sendable, Hashable {
    /// Red, green and blue intensities, each in 0...1.
    public var red: Double, green: Double, blue: Double

    /// A colour from components in 0...1 (values outside are clamped when drawn).
    public init(red: Double, green: Double, blue: Double) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A colour from a 24-bit hex literal, e.g. `Color(hex: 0x4E79A7)`.
    public init(hex: UInt32) {
        self.init(
            red: Double((hex >> 16) & 0xFF) / 255,
            green: Double((hex >> 8) & 0xFF) / 255,
            blue: Double(hex & 0xFF) / 255)
    }

    /// The colour as 8-bit components, as they appear in the PNG.
    public var rgb8: (red: UInt8, green: UInt8, blue: UInt8) {
        func byte(_ c: Double) -> UInt8 { UInt8((min(max(c, 0), 1) * 255).rounded()) }
        return (byte(red), byte(green), byte(blue))
    }

    /// Linear interpolation from `self` (t = 0) to `other` (t = 1).
    func mixed(with other: Color, _ t: Double) -> Color {
        Color(
            red: red + (other.red - red) * t,
            green: green + (other.green - green) * t,
            blue: blue + (other.blue - blue) * t)
    }

    public static let black = Color(hex: 0x000000)
    public static let white = Color(hex: 0xFFFFFF)
    /// Text and axis lines.
    public static let darkGray = Color(hex: 0x333333)
    /// Secondary text and reference lines.
    public static let gray = Color(hex: 0x777777)
    /// Grid lines.
    public static let lightGray = Color(hex: 0xE3E3E3)

    /// The Tableau 10 qualitative palette: ten hues of similar weight, distinct for most readers.
    /// Charts give series and bars without an explicit colour `tableau10[index % 10]`.
    public static let tableau10: [Color] = [
        0x4E79A7, 0xF28E2B, 0xE15759, 0x76B7B2, 0x59A14F,
        0xEDC948, 0xB07AA1, 0xFF9DA7, 0x9C755F, 0xBAB0AC,
    ].map { Color(hex: $0) }

    /// The palette colour for the `index`-th series or bar.
    public static func palette(_ index: Int) -> Color {
        tableau10[((index % tableau10.count) + tableau10.count) % tableau10.count]
    }
}

/// How a line is stroked. Dash lengths grow with the line width (up to a limit, so that thick
/// lines still show several dashes), so patterns stay recognisable at every width.
public enum DashStyle: Sendable, Hashable, CaseIterable {
    case solid, dashed, dotted, dashDot

    /// Dash lengths (on, off, on, off, …) in pattern units; empty for solid. Dots are
    /// zero-length dashes drawn with round caps; the dash-dot's dot is a one-unit dash.
    var pattern: [Double] {
        switch self {
        case .solid: []
        case .dashed: [4, 2.5]
        case .dotted: [0, 2.2]
        case .dashDot: [5, 2.5, 1, 2.5]
        }
    }

    /// The length of one pattern unit for a line `width` pixels wide. Dots must be one line width
    /// apart at least; dashes stop growing at 3.5 px per unit.
    func unit(forWidth width: Double) -> Double {
        self == .dotted ? max(width, 1.5) : min(max(width, 2), 3.5)
    }
}

/// A shape drawn at each data point of a line series.
public enum Marker: Sendable, Hashable, CaseIterable {
    case circle, square, triangle, diamond
}

/// A map from a number to a colour, for colour-coded points and colour bars.
public enum Colormap: Sendable, Hashable {
    /// Sequential, perceptually uniform, dark purple → blue → green → yellow (matplotlib's default).
    case viridis
    /// Diverging: blue for negative, white at 0, red for positive (ColorBrewer RdBu, reversed).
    /// Charts centre its range at 0, so white always means "zero".
    case blueWhiteRed

    /// The colour for `t` in 0...1 (clamped), by linear interpolation between anchor colours.
    public func color(at t: Double) -> Color {
        let anchors = self.anchors
        guard t.isFinite else { return Color(hex: 0xBBBBBB) }
        let position = min(max(t, 0), 1) * Double(anchors.count - 1)
        let lower = min(Int(position), anchors.count - 2)
        return anchors[lower].mixed(with: anchors[lower + 1], position - Double(lower))
    }

    /// Whether the map is meant for values symmetric about 0.
    var isDiverging: Bool { self == .blueWhiteRed }

    private var anchors: [Color] {
        switch self {
        case .viridis: Colormap.viridisAnchors
        case .blueWhiteRed: Colormap.blueWhiteRedAnchors
        }
    }

    /// viridis sampled at ten evenly spaced points (R's `viridis(10)`).
    private static let viridisAnchors: [Color] = [
        0x440154, 0x482878, 0x3E4A89, 0x31688E, 0x26828E,
        0x1F9E89, 0x35B779, 0x6DCD59, 0xB4DE2C, 0xFDE725,
    ].map { Color(hex: $0) }

    /// ColorBrewer RdBu (11 classes), reversed so that low is blue and high is red.
    private static let blueWhiteRedAnchors: [Color] = [
        0x053061, 0x2166AC, 0x4393C3, 0x92C5DE, 0xD1E5F0,
        0xF7F7F7, 0xFDDBC7, 0xF4A582, 0xD6604D, 0xB2182B, 0x67001F,
    ].map { Color(hex: $0) }
}
