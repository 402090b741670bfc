import Foundation

/// A minimal SVG writer: self-contained documents (no external fonts, styles or images),
/// every text and attribute escaped.
struct SVGCanvas {
    let width: Double
    let height: Double
    private var body: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// The whole document.
    var document: String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(n(width))" height="\(n(height))" \
        viewBox="0 0 \(n(width)) \(n(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
        <rect x="0" y="0" width="\(n(width))" height="\(n(height))" fill="#ffffff"/>
        \(body.joined(separator: "\n"))
        </svg>

        """
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                       stroke: String? = nil, opacity: Double? = nil, title: String? = nil) {
        var attributes = "x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"\(escape(fill))\""
        if let stroke { attributes += " stroke=\"\(escape(stroke))\" stroke-width=\"1\"" }
        if let opacity { attributes += " fill-opacity=\"\(n(opacity))\"" }
        if let title {
            body.append("<rect \(attributes)><title>\(escape(title))</title></rect>")
        } else {
            body.append("<rect \(attributes)/>")
        }
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String,
                       width: Double = 1, dash: String? = nil) {
        var attributes = "x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(escape(stroke))\" stroke-width=\"\(n(width))\""
        if let dash { attributes += " stroke-dasharray=\"\(escape(dash))\"" }
        body.append("<line \(attributes)/>")
    }

    mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double = 1.5,
                           dash: String? = nil) {
        guard !points.isEmpty else { return }
        let coordinates = points.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " ")
        var attributes = "points=\"\(coordinates)\" fill=\"none\" stroke=\"\(escape(stroke))\" stroke-width=\"\(n(width))\" stroke-linejoin=\"round\""
        if let dash { attributes += " stroke-dasharray=\"\(escape(dash))\"" }
        body.append("<polyline \(attributes)/>")
    }

    mutating func circle(x: Double, y: Double, radius: Double, fill: String) {
        body.append("<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"\(n(radius))\" fill=\"\(escape(fill))\"/>")
    }

    enum Anchor: String {
        case start, middle, end
    }

    mutating func text(_ content: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start,
                       fill: String = "#222222", weight: String? = nil, rotate: Double? = nil) {
        var attributes = "x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" text-anchor=\"\(anchor.rawValue)\" fill=\"\(escape(fill))\""
        if let weight { attributes += " font-weight=\"\(escape(weight))\"" }
        if let rotate { attributes += " transform=\"rotate(\(n(rotate)) \(n(x)) \(n(y)))\"" }
        body.append("<text \(attributes)>\(escape(content))</text>")
    }

    /// Text whose vertical centre is at `y` (SVG places the baseline at `y`).
    mutating func centredText(_ content: String, x: Double, y: Double, size: Double = 12,
                              anchor: Anchor = .middle, fill: String = "#222222", weight: String? = nil) {
        text(content, x: x, y: y + 0.35 * size, size: size, anchor: anchor, fill: fill, weight: weight)
    }
}

/// How charts write text and choose axis values: public so that the rules can be
/// checked (and reused by other charts).
public enum ChartText {
    /// Escapes the five XML special characters, for text and attribute values alike.
    public static func escapeXML(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default:
                // XML 1.0 forbids most control characters even escaped: drop them.
                if let scalar = character.unicodeScalars.first, character.unicodeScalars.count == 1,
                   scalar.value < 0x20, scalar != "\n", scalar != "\t", scalar != "\r" {
                    continue
                }
                result.append(character)
            }
        }
        return result
    }

    /// A signed figure (BWT) with two decimals, or "n/a".
    public static func figure(_ value: Double?, signed: Bool = false) -> String {
        guard let value else { return "n/a" }
        return String(format: signed ? "%+.2f" : "%.2f", value)
    }

    /// A sample count for an axis: 0, 500, 2.5k, 10k, 1.2M.
    public static func count(_ value: Double) -> String {
        let magnitude = abs(value)
        func trimmed(_ x: Double) -> String {
            x == x.rounded() ? String(Int(x)) : String(format: "%.1f", x)
        }
        if magnitude >= 1_000_000 { return trimmed(value / 1_000_000) + "M" }
        if magnitude >= 1_000 { return trimmed(value / 1_000) + "k" }
        return trimmed(value)
    }

    /// About `count` round tick values (1, 2 or 5 times a power of ten apart) from 0 to `maximum`.
    public static func ticks(upTo maximum: Double, count: Int = 6) -> [Double] {
        guard maximum > 0 else { return [0] }
        let raw = maximum / Double(max(count, 1))
        let power = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
        return stride(from: 0, through: maximum + step * 1e-9, by: step).map { $0 }
    }
}

private func escape(_ text: String) -> String { ChartText.escapeXML(text) }

/// A coordinate with at most one decimal, without a trailing ".0".
private func n(_ value: Double) -> String {
    let rounded = (value * 10).rounded() / 10
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    return String(format: "%.1f", rounded)
}

/// An accuracy with two decimals, as printed in charts.
func formatAccuracy(_ value: Double) -> String {
    String(format: "%.2f", value)
}

/// A colour of the viridis scale for `t` in 0...1 (dark purple to yellow), and whether
/// text on it should be white.
func viridis(_ t: Double) -> (fill: String, lightText: Bool) {
    let stops: [(Double, Double, Double)] = [
        (68, 1, 84), (72, 40, 120), (62, 74, 137), (49, 104, 142), (38, 130, 142),
        (31, 158, 137), (53, 183, 121), (110, 206, 88), (181, 222, 43), (253, 231, 37),
    ]
    let x = min(max(t, 0), 1) * Double(stops.count - 1)
    let i = min(Int(x), stops.count - 2)
    let f = x - Double(i)
    let (r0, g0, b0) = stops[i], (r1, g1, b1) = stops[i + 1]
    let r = r0 + (r1 - r0) * f, g = g0 + (g1 - g0) * f, b = b0 + (b1 - b0) * f
    let luminance = (0.299 * r + 0.587 * g + 0.114 * b) / 255
    let hex = String(format: "#%02x%02x%02x", Int(r.rounded()), Int(g.rounded()), Int(b.rounded()))
    return (hex, luminance < 0.55)
}
