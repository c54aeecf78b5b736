// Canvas.swift — a thin drawing layer over Cairo, and writing the result as a PNG, atomically.
//
// Teaches: the handful of Cairo calls a chart needs. Cairo draws into an image *surface* through
// a *context*: you build a path (move_to, line_to, arc, rectangle), then stroke or fill it with
// the current source colour, line width and dash pattern. Text uses Cairo's "toy" text API
// (`cairo_select_font_face` + `cairo_show_text`), which is enough for labels in one font.
// Pixel-crisp 1 px lines sit on half-pixel coordinates (`crisp`). The PNG is encoded in memory
// and written as every report is (Shared's `AtomicFile`), so a reader never sees half a chart.
// Leaves out: Pango text layout (shaping, wrapping, bidi), vector output (PDF/SVG), and HiDPI.

import CCairo
import Foundation
import Shared

/// Why a chart could not be rendered or written.
public enum ChartError: Error, CustomStringConvertible, Equatable {
    /// The requested image size is not positive or too large for Cairo.
    case invalidSize(width: Int, height: Int)
    /// Cairo failed while drawing (reported with Cairo's own message).
    case drawingFailed(path: String, reason: String)
    /// The PNG could not be written to `path` (missing folder, permissions, full disk, …).
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidSize(width, height):
            "invalid chart size \(width)×\(height): both sides must be between 1 and 32767 pixels"
        case let .drawingFailed(path, reason):
            "cannot draw chart \(path): \(reason)"
        case let .cannotWrite(path, reason):
            "cannot write chart \(path): \(reason)"
        }
    }
}

/// Horizontal text alignment relative to the anchor point.
enum HorizontalAlignment { case left, center, right }
/// Vertical text alignment relative to the anchor point (`middle` centres capital letters).
enum VerticalAlignment { case top, middle, baseline, bottom }

/// Font sizes in pixels, readable at 100 %.
enum FontSize {
    static let title = 22.0
    static let label = 15.0
    static let tick = 13.0
    static let legend = 14.0
}

/// An image surface plus a Cairo context, with the drawing helpers the charts use.
final class Canvas {
    let width: Int
    let height: Int
    private let surface: OpaquePointer
    let cairo: OpaquePointer

    /// A white `width`×`height` canvas.
    init(width: Int, height: Int) throws {
        guard (1...32767).contains(width), (1...32767).contains(height) else {
            throw ChartError.invalidSize(width: width, height: height)
        }
        self.width = width
        self.height = height
        surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height))
        cairo = cairo_create(surface)
        cairo_set_antialias(cairo, CAIRO_ANTIALIAS_BEST)
        cairo_set_line_join(cairo, CAIRO_LINE_JOIN_ROUND)
        let options = cairo_font_options_create()
        cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        cairo_set_font_options(cairo, options)
        cairo_font_options_destroy(options)
        setColor(.white)
        cairo_paint(cairo)
    }

    deinit {
        cairo_destroy(cairo)
        cairo_surface_destroy(surface)
    }

    // MARK: Writing

    /// Writes the canvas as a PNG to `path` as every report file is written (Shared's
    /// `AtomicFile`: a hidden temp file beside it, flushed, renamed over it). On failure any
    /// previous file at `path` is left as it was.
    func writePNG(to path: String) throws {
        let bytes = try pngBytes(path: path)
        do {
            try AtomicFile.write(bytes, to: path)
        } catch {
            throw ChartError.cannotWrite(path: path, reason: Canvas.explainFailure(writing: path, error))
        }
    }

    /// The canvas encoded as PNG, in memory (Cairo's stream writer appends each chunk).
    func pngBytes(path: String) throws -> [UInt8] {
        let status = cairo_status(cairo)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw ChartError.drawingFailed(path: path, reason: String(cString: cairo_status_to_string(status)))
        }
        cairo_surface_flush(surface)
        final class Sink { var bytes: [UInt8] = [] }
        let sink = Sink()
        let encoded = cairo_surface_write_to_png_stream(surface, { closure, data, length in
            guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
            Unmanaged<Sink>.fromOpaque(closure).takeUnretainedValue().bytes
                .append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
            return CAIRO_STATUS_SUCCESS
        }, Unmanaged.passUnretained(sink).toOpaque())
        guard encoded == CAIRO_STATUS_SUCCESS else {
            throw ChartError.drawingFailed(path: path, reason: String(cString: cairo_status_to_string(encoded)))
        }
        return withExtendedLifetime(sink) { sink.bytes }
    }

    /// Names the usual cause of a failed write (a missing folder) when that is what happened;
    /// otherwise the system's reason.
    private static func explainFailure(writing path: String, _ error: Error) -> String {
        let folder = parentFolder(of: path)
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isDirectory)
        if !exists { return "folder \(folder) does not exist" }
        if !isDirectory.boolValue { return "\(folder) is not a folder" }
        return AtomicFile.reason(of: error, writing: path)
    }

    // MARK: State

    func setColor(_ color: Color, alpha: Double = 1) {
        cairo_set_source_rgba(cairo, color.red, color.green, color.blue, alpha)
    }

    /// Sets line width, dash pattern (scaled to the width) and caps for the next strokes: round
    /// caps only for dots, butt caps elsewhere so that gaps stay as long as the pattern says.
    func setLine(width: Double, dash: DashStyle = .solid) {
        cairo_set_line_width(cairo, width)
        let unit = dash.unit(forWidth: width)
        let pattern = dash.pattern.map { $0 * unit }
        pattern.withUnsafeBufferPointer { cairo_set_dash(cairo, $0.baseAddress, Int32($0.count), 0) }
        cairo_set_line_cap(cairo, dash == .dotted ? CAIRO_LINE_CAP_ROUND : CAIRO_LINE_CAP_BUTT)
    }

    /// Runs `body` between `cairo_save` and `cairo_restore` (clip, transform and style revert).
    func withSavedState(_ body: () -> Void) {
        cairo_save(cairo)
        body()
        cairo_restore(cairo)
    }

    func clip(x: Double, y: Double, width: Double, height: Double) {
        cairo_rectangle(cairo, x, y, width, height)
        cairo_clip(cairo)
    }

    // MARK: Shapes

    /// The centre of the pixel containing `v`: 1 px lines drawn there are sharp, not blurred.
    static func crisp(_ v: Double) -> Double { v.rounded(.down) + 0.5 }

    func line(from a: (x: Double, y: Double), to b: (x: Double, y: Double)) {
        cairo_move_to(cairo, a.x, a.y)
        cairo_line_to(cairo, b.x, b.y)
        cairo_stroke(cairo)
    }

    /// Strokes a polyline through `points` with the current line style.
    func polyline(_ points: [(x: Double, y: Double)]) {
        guard let first = points.first else { return }
        cairo_move_to(cairo, first.x, first.y)
        for p in points.dropFirst() { cairo_line_to(cairo, p.x, p.y) }
        cairo_stroke(cairo)
    }

    func fillRectangle(x: Double, y: Double, width: Double, height: Double) {
        cairo_rectangle(cairo, x, y, width, height)
        cairo_fill(cairo)
    }

    func strokeRectangle(x: Double, y: Double, width: Double, height: Double) {
        cairo_rectangle(cairo, x, y, width, height)
        cairo_stroke(cairo)
    }

    func fillCircle(x: Double, y: Double, radius: Double) {
        cairo_new_sub_path(cairo)
        cairo_arc(cairo, x, y, radius, 0, 2 * Double.pi)
        cairo_fill(cairo)
    }

    func strokeCircle(x: Double, y: Double, radius: Double) {
        cairo_new_sub_path(cairo)
        cairo_arc(cairo, x, y, radius, 0, 2 * Double.pi)
        cairo_stroke(cairo)
    }

    /// Fills the closed polygon through `points` with the current colour.
    func fillPolygon(_ points: [(x: Double, y: Double)]) {
        guard let first = points.first else { return }
        cairo_move_to(cairo, first.x, first.y)
        for p in points.dropFirst() { cairo_line_to(cairo, p.x, p.y) }
        cairo_close_path(cairo)
        cairo_fill(cairo)
    }

    /// Draws `marker` centred at (x, y): filled with `color`, outlined in a darker shade of it.
    func marker(_ marker: Marker, x: Double, y: Double, size: Double, color: Color) {
        let r = size / 2
        cairo_new_path(cairo)
        switch marker {
        case .circle:
            cairo_arc(cairo, x, y, r, 0, 2 * Double.pi)
        case .square:
            let s = r * 0.9
            cairo_rectangle(cairo, x - s, y - s, 2 * s, 2 * s)
        case .triangle:
            let s = r * 1.2
            cairo_move_to(cairo, x, y - s)
            cairo_line_to(cairo, x + s * 0.87, y + s * 0.5)
            cairo_line_to(cairo, x - s * 0.87, y + s * 0.5)
            cairo_close_path(cairo)
        case .diamond:
            let s = r * 1.25
            cairo_move_to(cairo, x, y - s)
            cairo_line_to(cairo, x + s, y)
            cairo_line_to(cairo, x, y + s)
            cairo_line_to(cairo, x - s, y)
            cairo_close_path(cairo)
        }
        setColor(color)
        cairo_fill_preserve(cairo)
        setColor(color.mixed(with: .black, 0.4))
        cairo_set_line_width(cairo, 1)
        cairo_set_dash(cairo, nil, 0, 0)
        cairo_stroke(cairo)
    }

    // MARK: Text

    private func selectFont(size: Double, bold: Bool, italic: Bool) {
        cairo_select_font_face(
            cairo, "DejaVu Sans",
            italic ? CAIRO_FONT_SLANT_OBLIQUE : CAIRO_FONT_SLANT_NORMAL,
            bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cairo, size)
    }

    /// The advance width of `text` in pixels.
    func textWidth(_ text: String, size: Double, bold: Bool = false, italic: Bool = false) -> Double {
        selectFont(size: size, bold: bold, italic: italic)
        var extents = cairo_text_extents_t()
        cairo_text_extents(cairo, text, &extents)
        return extents.x_advance
    }

    /// Draws one line of `text` anchored at (x, y), optionally rotated by `angle` radians
    /// (counter-clockwise on screen, so −π/2 reads bottom to top).
    func text(
        _ text: String, x: Double, y: Double, size: Double, color: Color = .darkGray,
        bold: Bool = false, italic: Bool = false,
        align: HorizontalAlignment = .left, vertical: VerticalAlignment = .baseline, angle: Double = 0
    ) {
        guard !text.isEmpty else { return }
        let width = textWidth(text, size: size, bold: bold, italic: italic)
        var fontExtents = cairo_font_extents_t()
        cairo_font_extents(cairo, &fontExtents)
        let dx: Double = switch align {
        case .left: 0
        case .center: -width / 2
        case .right: -width
        }
        let capHeight = 0.73 * size  // DejaVu Sans capital height
        let dy: Double = switch vertical {
        case .top: fontExtents.ascent
        case .middle: capHeight / 2
        case .baseline: 0
        case .bottom: -fontExtents.descent
        }
        withSavedState {
            cairo_translate(cairo, x, y)
            if angle != 0 { cairo_rotate(cairo, angle) }
            setColor(color)
            cairo_move_to(cairo, dx, dy)
            cairo_show_text(cairo, text)
        }
    }

    /// Splits `text` at spaces into lines no wider than `maxWidth` (a single long word stays whole).
    func wrap(_ text: String, maxWidth: Double, size: Double, bold: Bool = false) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            let candidate = current.isEmpty ? String(word) : current + " " + word
            if current.isEmpty || textWidth(candidate, size: size, bold: bold) <= maxWidth {
                current = candidate
            } else {
                lines.append(current)
                current = String(word)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
