import Foundation
@testable import Formats

/// A minimal PNG decoder for tests: 8-bit RGB or RGBA, not interlaced — what
/// `rsvg-convert -f png` writes. The IDAT stream is a zlib stream, which
/// ``Gzip/decompress(_:source:)`` inflates (zlib header auto-detection), so
/// no image library is needed to check rendered pixels.
struct PNGImage {
    let width: Int
    let height: Int
    /// RGBA bytes, row by row (RGB input gets alpha 255).
    let rgba: [UInt8]

    struct DecodeError: Error, CustomStringConvertible { let description: String }

    init(data: Data) throws {
        let bytes = [UInt8](data)
        guard bytes.count > 8, bytes.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw DecodeError(description: "not a PNG file")
        }
        func be32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
        var i = 8
        var w = 0, h = 0, channels = 0
        var idat = Data()
        while i + 8 <= bytes.count {
            let length = be32(i)
            let type = String(decoding: bytes[(i + 4)..<(i + 8)], as: UTF8.self)
            let body = (i + 8)..<(i + 8 + length)
            switch type {
            case "IHDR":
                w = be32(body.lowerBound); h = be32(body.lowerBound + 4)
                let depth = bytes[body.lowerBound + 8], colour = bytes[body.lowerBound + 9], interlace = bytes[body.lowerBound + 12]
                guard depth == 8, colour == 6 || colour == 2, interlace == 0 else {
                    throw DecodeError(description: "unsupported PNG: depth \(depth), colour type \(colour), interlace \(interlace)")
                }
                channels = colour == 6 ? 4 : 3
            case "IDAT": idat.append(contentsOf: bytes[body])
            default: break
            }
            i = body.upperBound + 4  // skip the CRC
            if type == "IEND" { break }
        }
        let raw = [UInt8](try Gzip.decompress(idat, source: "IDAT"))
        let stride = w * channels
        guard raw.count == h * (stride + 1) else { throw DecodeError(description: "IDAT holds \(raw.count) bytes, expected \(h * (stride + 1))") }
        var pixels = [UInt8](repeating: 0, count: h * stride)
        for y in 0..<h {
            let filter = raw[y * (stride + 1)]
            for x in 0..<stride {
                let v = Int(raw[y * (stride + 1) + 1 + x])
                let a = x >= channels ? Int(pixels[y * stride + x - channels]) : 0
                let b = y > 0 ? Int(pixels[(y - 1) * stride + x]) : 0
                let c = x >= channels && y > 0 ? Int(pixels[(y - 1) * stride + x - channels]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw DecodeError(description: "bad filter \(filter) on row \(y)")
                }
                pixels[y * stride + x] = UInt8((v + predicted) & 0xFF)
            }
        }
        width = w
        height = h
        if channels == 4 {
            rgba = pixels
        } else {
            var out = [UInt8](); out.reserveCapacity(w * h * 4)
            for k in 0..<(w * h) { out += pixels[(k * 3)..<(k * 3 + 3)]; out.append(255) }
            rgba = out
        }
    }

    /// The pixel at column `x`, row `y` (0 = top) as (r, g, b, a).
    func pixel(_ x: Int, _ y: Int) -> (r: Int, g: Int, b: Int, a: Int) {
        let k = (y * width + x) * 4
        return (Int(rgba[k]), Int(rgba[k + 1]), Int(rgba[k + 2]), Int(rgba[k + 3]))
    }

    /// Whether the pixel is within `tolerance` (per channel) of the colour `#RRGGBB`, fully opaque.
    func pixel(_ x: Int, _ y: Int, isNear hex: String, tolerance: Int = 40) -> Bool {
        let v = Int(hex.dropFirst(), radix: 16)!
        let p = pixel(x, y)
        return p.a == 255 && abs(p.r - (v >> 16)) <= tolerance && abs(p.g - ((v >> 8) & 0xFF)) <= tolerance
            && abs(p.b - (v & 0xFF)) <= tolerance
    }
}

/// `rsvg-convert` (Debian's librsvg2-bin, installed by scripts/bootstrap.sh), if on the PATH.
enum RSVG {
    static let path: String? = {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return (dirs + ["/usr/bin"]).map { "\($0)/rsvg-convert" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// In CI (CI set in the environment) the tool must be there; elsewhere a missing tool skips.
    static var shouldRun: Bool { path != nil || ProcessInfo.processInfo.environment["CI"] != nil }

    /// Renders SVG text to a decoded PNG with `rsvg-convert -f png`.
    static func render(_ svg: String) throws -> PNGImage {
        guard let tool = path else {
            throw PNGImage.DecodeError(description: "rsvg-convert is not installed: run scripts/bootstrap.sh (apt-get install librsvg2-bin)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("svg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("plot.svg"), output = dir.appendingPathComponent("plot.png")
        try svg.write(to: input, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = ["-f", "png", "-o", output.path, input.path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw PNGImage.DecodeError(description: "rsvg-convert failed: \(String(decoding: message, as: UTF8.self))")
        }
        return try PNGImage(data: Data(contentsOf: output))
    }
}
