import ALMAggregation
import Foundation

/// The embeddable badge of a work: a ring split into one arc per category, each arc's length
/// proportional to the category's share of the five totals (clockwise from 12 o'clock in the order
/// viewed, saved, discussed, cited, recommended, colours from `Palette`), and the attention score in
/// the middle. A work with nothing counted has a grey ring and 0.
///
/// The output is standalone SVG 1.1 (no XML declaration, so the same text can also be inlined into
/// HTML), with a `<title>` naming the work and every number for screen readers. Coordinates have two
/// decimals, so the same input gives the same bytes.
public enum BadgeSVG {
    public static func svg(work: String, categories: [Category: UInt64], score: Int, size: Int = 120) -> String {
        let size = max(size, 16)
        let ring = Ring(size: Double(size))
        let total = Category.allCases.reduce(0.0) { $0 + Double(categories[$1] ?? 0) }

        var svg = #"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" class="badge""#
        svg += #" width="\#(size)" height="\#(size)" viewBox="0 0 \#(size) \#(size)">"#
        svg += "<title>\(Markup.escape(title(work: work, categories: categories, score: score)))</title>"
        svg += #"<g fill="none" stroke-width="\#(Markup.fixed(ring.strokeWidth, decimals: 2))">"#
        if total == 0 {
            svg += ring.segment(fromTurn: 0, toTurn: 1, colour: Palette.empty, className: "arc empty")
        } else {
            var before = 0.0
            for category in Category.allCases {
                let value = Double(categories[category] ?? 0)
                guard value > 0 else { continue }
                svg += ring.segment(fromTurn: before / total, toTurn: (before + value) / total,
                                    colour: Palette.colour(category), className: "arc \(category.rawValue)")
                before += value
            }
        }
        svg += "</g>"

        let digits = String(score)
        svg += #"<text x="\#(Markup.fixed(ring.centre, decimals: 2))" y="\#(Markup.fixed(ring.centre, decimals: 2))""#
        svg += #" text-anchor="middle" dominant-baseline="central" fill="\#(Palette.text)""#
        svg += #" font-family="Helvetica, Arial, sans-serif" font-weight="bold""#
        svg += #" font-size="\#(Markup.fixed(ring.fontSize(characters: digits.count), decimals: 2))">\#(digits)</text>"#
        return svg + "</svg>"
    }

    static func title(work: String, categories: [Category: UInt64], score: Int) -> String {
        let numbers = Category.allCases.map { "\($0.rawValue) \(categories[$0] ?? 0)" }.joined(separator: ", ")
        return "\(work): attention score \(score); \(numbers)"
    }

    /// The geometry of the ring inside a `size × size` square.
    struct Ring {
        let centre: Double
        let radius: Double
        let strokeWidth: Double

        init(size: Double) {
            centre = size / 2
            strokeWidth = (size * 0.16).rounded()
            radius = size / 2 - strokeWidth / 2 - 1
        }

        /// The largest font that keeps `characters` digits inside the ring's hole.
        func fontSize(characters: Int) -> Double {
            let hole = 2 * radius - strokeWidth
            // A digit of Helvetica is about 0.56 em wide; leave a little margin on each side.
            return min(hole * 0.5, hole * 0.85 / (0.56 * Double(max(characters, 1))))
        }

        /// The point at `turn` (0 = 12 o'clock, 0.25 = 3 o'clock) on the ring, as "x y".
        func point(atTurn turn: Double) -> String {
            let angle = turn * 2 * Double.pi
            return Markup.fixed(centre + radius * sin(angle), decimals: 2) + " " + Markup.fixed(centre - radius * cos(angle), decimals: 2)
        }

        /// The stroked arc from `start` to `end` turns, clockwise. One elliptical-arc command whose
        /// large-arc flag says whether it spans more than half the ring — unless its two ends are the same
        /// point once written (a full ring, or all but a sliver): SVG draws nothing for an arc whose ends
        /// coincide (SVG 1.1 F.6.2), so that arc is drawn as two halves meeting at its middle.
        func segment(fromTurn start: Double, toTurn end: Double, colour: String, className: String) -> String {
            let from = point(atTurn: start), to = point(atTurn: end)
            var d = "M\(from)"
            if from == to {
                let middle = start + (end - start) / 2
                d += " " + arc(to: point(atTurn: middle), large: false) + " " + arc(to: to, large: false)
            } else {
                d += " " + arc(to: to, large: end - start > 0.5)
            }
            return #"<path class="\#(className)" stroke="\#(colour)" d="\#(d)"/>"#
        }

        private func arc(to point: String, large: Bool) -> String {
            let r = Markup.fixed(radius, decimals: 2)
            return "A\(r) \(r) 0 \(large ? 1 : 0) 1 \(point)"
        }
    }
}
