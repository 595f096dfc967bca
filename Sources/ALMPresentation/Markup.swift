import ALMAggregation
import ALMCore
import Foundation

/// Escaping, URL path segments, number formatting and the page frame shared by the SVG and HTML output.
/// Every function is deterministic: no locale, no clock, no randomness.
public enum Markup {
    /// `text` made safe inside XML or HTML text and inside a double- or single-quoted attribute.
    /// Characters XML 1.0 forbids even when escaped (C0 controls other than tab, line feed and carriage
    /// return; U+FFFE, U+FFFF) become U+FFFD, so a hostile work id cannot make an SVG unparseable.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
                escaped.unicodeScalars.append("\u{FFFD}")
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// `text` as one URL path segment: every UTF-8 byte outside RFC 3986's unreserved set
    /// (`A–Z a–z 0–9 - . _ ~`) is percent-encoded, `/` included, so `/works/{segment}` stays two
    /// segments whatever the DOI holds. The segments `.` and `..` are encoded too (`%2E`), since
    /// clients would otherwise resolve them as relative paths.
    public static func pathSegment(_ text: String) -> String {
        if text == "." || text == ".." { return String(repeating: "%2E", count: text.count) }
        return percentEncoded(text, keeping: [])
    }

    /// The inverse of `pathSegment`: `%XX` decoded as UTF-8 (`+` stays `+`). Nil for a malformed escape
    /// or bytes that are not UTF-8. Routers such as Hummingbird hand over path parameters still encoded.
    public static func decodePathSegment(_ segment: String) -> String? {
        PercentEncoding.decode(segment)
    }

    /// The doi.org address of a DOI: percent-encoded like a path segment except that `/` stays, as the
    /// DOI Handbook's URL encoding does.
    public static func doiURL(_ doi: String) -> String {
        "https://doi.org/" + percentEncoded(doi, keeping: [UInt8(ascii: "/")])
    }

    /// `value` with exactly `decimals` digits after the point, `.` as separator whatever the locale,
    /// never `-0`. Non-finite values are written as 0.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return fixed(0, decimals: decimals) }
        let text = String(format: "%.\(decimals)f", value)
        if text.hasPrefix("-"), text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { return String(text.dropFirst()) }
        return text
    }

    /// `value` with at most `decimals` digits after the point, trailing zeros dropped: 3 → "3", 0.25 → "0.25".
    public static func compact(_ value: Double, decimals: Int = 2) -> String {
        var text = fixed(value, decimals: decimals)
        guard text.contains(".") else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// A category's name as a heading: `viewed` → `Viewed`.
    static func displayName(_ category: Category) -> String {
        category.rawValue.prefix(1).uppercased() + category.rawValue.dropFirst()
    }

    private static func percentEncoded(_ text: String, keeping extra: Set<UInt8>) -> String {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var encoded: [UInt8] = []
        encoded.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) || extra.contains(byte) {
                encoded.append(byte)
            } else {
                encoded += [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}

/// The colours of the five categories in badges and charts: the Okabe–Ito palette, chosen to stay
/// distinguishable under the common colour-vision deficiencies (deuteranopia, protanopia, tritanopia).
/// Neighbours on the ring (viewed–saved, saved–discussed, …) differ in lightness as well as hue.
public enum Palette {
    public static func colour(_ category: Category) -> String {
        switch category {
        case .viewed: "#0072B2"       // blue
        case .saved: "#E69F00"        // orange
        case .discussed: "#009E73"    // bluish green
        case .cited: "#D55E00"        // vermilion
        case .recommended: "#CC79A7"  // reddish purple
        }
    }

    /// The ring of a work with no counted attention.
    public static let empty = "#BBBBBB"
    public static let text = "#222222"
    public static let axis = "#666666"
}

/// The frame of a server-rendered page: doctype, charset, title, the inline style sheet. No external
/// asset and no script, so a page works offline and under a strict Content-Security-Policy
/// (`default-src 'none'; img-src 'self'; style-src 'unsafe-inline'`).
enum HTMLPage {
    static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Markup.escape(title))</title>
        <style>\(styleSheet)</style>
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    /// A table whose cells are already HTML; numeric cells are right-aligned. `attributes` (and each row's)
    /// are written into the opening tag as given: escaped, with a leading space.
    static func table(attributes: String = "", headers: [String], rows: [Row]) -> String {
        var html = "<table\(attributes)>"
        html += "<thead><tr>" + headers.map { "<th scope=\"col\">\(Markup.escape($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for row in rows {
            html += "<tr\(row.attributes)>"
                + row.cells.map { $0.numeric ? "<td class=\"num\">\($0.html)</td>" : "<td>\($0.html)</td>" }.joined() + "</tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    struct Row {
        var attributes: String
        var cells: [Cell]

        init(attributes: String = "", _ cells: [Cell]) {
            self.attributes = attributes
            self.cells = cells
        }
    }

    struct Cell {
        var html: String
        var numeric = false

        static func text(_ text: String) -> Cell { Cell(html: Markup.escape(text)) }
        static func number(_ value: UInt64) -> Cell { Cell(html: String(value), numeric: true) }
        /// At most two decimals, trailing zeros dropped.
        static func decimal(_ value: Double) -> Cell { Cell(html: Markup.compact(value), numeric: true) }
        static func html(_ html: String, numeric: Bool = false) -> Cell { Cell(html: html, numeric: numeric) }
        /// A value the server may not know: an em dash titled "unknown" when absent, aligned like the column.
        static func optional<Value>(_ value: Value?, numeric: Bool = true, _ cell: (Value) -> Cell) -> Cell {
            value.map(cell) ?? Cell(html: "<span class=\"unknown\" title=\"unknown\">—</span>", numeric: numeric)
        }
    }

    /// "Data as of … · snapshot …".
    static func dataStatus(asOf: Timestamp?, snapshotID: String?) -> String {
        var html = "<p class=\"meta\">Data as of " + (asOf.map(time) ?? "an unknown time (no snapshot yet)")
        if let snapshotID { html += " · snapshot <code>\(Markup.escape(snapshotID))</code>" }
        return html + "</p>\n"
    }

    static func time(_ timestamp: Timestamp) -> String {
        let text = Markup.escape(timestamp.text)
        return "<time datetime=\"\(text)\">\(text)</time>"
    }

    private static let styleSheet = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;margin:0 auto;\
        max-width:64rem;padding:1rem 1.5rem;line-height:1.4}\
        h1{font-size:1.5rem;word-break:break-all}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}\
        h3{font-size:1rem;margin-bottom:.25rem}\
        table{border-collapse:collapse;margin:.5rem 0 1rem}\
        th,td{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:left;vertical-align:middle}\
        td.num{text-align:right;font-variant-numeric:tabular-nums}\
        .unknown{color:#888}.bad{color:#B00020;font-weight:600}.meta{color:#555}\
        .note{background:#F5F5F0;border-left:4px solid #999;padding:.5rem .75rem}\
        .charts{display:flex;flex-wrap:wrap;gap:1rem}svg.chart{max-width:100%;height:auto}\
        .score{display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap}.score p{flex:1 1 20rem}\
        a{color:#0B5CAD}code{font-size:.9em}
        """
}
