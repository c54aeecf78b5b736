// PNGImage.swift — reading a PNG back into pixels, with Cairo's own PNG reader.
//
// Teaches: how to test a chart: decode what was written and look at the pixels (size, ink,
// colours), rather than trusting that drawing calls succeeded.
// Leaves out: PNG formats Cairo does not read (16-bit, palette images are converted by Cairo).

import CCairo
import Foundation

/// A decoded PNG as 0xRRGGBB pixels, row by row.
public struct PNGImage: Sendable {
    public let width: Int
    public let height: Int
    /// 0xRRGGBB, row by row.
    public let pixels: [UInt32]

    public struct DecodeError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads and decodes the PNG at `path`.
    public init(path: String) throws {
        let surface = cairo_image_surface_create_from_png(path)
        defer { cairo_surface_destroy(surface) }
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw DecodeError(description: "cannot decode \(path): \(String(cString: cairo_status_to_string(status)))")
        }
        let format = cairo_image_surface_get_format(surface)
        guard format == CAIRO_FORMAT_RGB24 || format == CAIRO_FORMAT_ARGB32 else {
            throw DecodeError(description: "\(path): unexpected pixel format \(format)")
        }
        cairo_surface_flush(surface)
        width = Int(cairo_image_surface_get_width(surface))
        height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        guard let data = cairo_image_surface_get_data(surface) else {
            throw DecodeError(description: "cannot decode \(path): no pixel data")
        }
        var pixels = [UInt32]()
        pixels.reserveCapacity(width * height)
        for row in 0..<height {
            let line = UnsafeRawPointer(data + row * stride).assumingMemoryBound(to: UInt32.self)
            for column in 0..<width { pixels.append(line[column] & 0xFF_FFFF) }
        }
        self.pixels = pixels
    }

    /// How many different colours the image uses.
    public var distinctColorCount: Int { Set(pixels).count }

    /// How many pixels are within `tolerance` (per 8-bit channel) of `color`.
    public func count(of color: Color, tolerance: Int = 2) -> Int {
        let (r, g, b) = color.rgb8
        return pixels.reduce(0) { total, pixel in
            let dr = abs(Int((pixel >> 16) & 0xFF) - Int(r))
            let dg = abs(Int((pixel >> 8) & 0xFF) - Int(g))
            let db = abs(Int(pixel & 0xFF) - Int(b))
            return total + (dr <= tolerance && dg <= tolerance && db <= tolerance ? 1 : 0)
        }
    }

    /// The fraction of pixels that are not pure white.
    public var inkFraction: Double {
        Double(pixels.count { $0 != 0xFF_FFFF }) / Double(max(pixels.count, 1))
    }
}

