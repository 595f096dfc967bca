import ALMAggregation
import ALMPresentation
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("the badge")
struct BadgeTests {
    /// One drawn ring segment read back from its path: where it starts and how much of the ring it covers,
    /// both in turns clockwise from 12 o'clock, and the large-arc flag of each arc command.
    struct Segment {
        let category: String
        let colour: String
        let start: Double
        let sweep: Double
        let largeArcFlags: [Bool]
        let arcSweeps: [Double]
    }

    /// The distance between two positions on the ring, in turns (0.99 and 0.01 are 0.02 apart).
    func circularDistance(_ a: Double, _ b: Double) -> Double {
        let distance = abs(a - b).truncatingRemainder(dividingBy: 1)
        return min(distance, 1 - distance)
    }

    func segments(_ svg: ParsedSVG) throws -> [Segment] {
        let size = try #require(svg.root.number("width"))
        let centre = size / 2
        func turn(_ x: Double, _ y: Double) -> Double {
            let turn = atan2(x - centre, centre - y) / (2 * Double.pi)
            return turn < 0 ? turn + 1 : turn
        }
        return try svg.elements("path", class: "arc").map { path in
            let d = try #require(path.value("d"))
            let tokens = d.replacingOccurrences(of: "M", with: "M ").replacingOccurrences(of: "A", with: "A ").split(separator: " ")
            try #require(tokens.first == "M")
            var current = turn(Double(tokens[1])!, Double(tokens[2])!)
            let start = current
            var flags: [Bool] = [], sweeps: [Double] = []
            var index = 3
            while index < tokens.count {
                try #require(tokens[index] == "A" && tokens[index + 3] == "0" && tokens[index + 5] == "1", "arc command in \(d)")
                flags.append(tokens[index + 4] == "1")
                let next = turn(Double(tokens[index + 6])!, Double(tokens[index + 7])!)
                var sweep = next - current
                if sweep <= 0 { sweep += 1 }
                sweeps.append(sweep)
                current = next
                index += 8
            }
            let classes = (path.value("class") ?? "").split(separator: " ")
            return Segment(category: String(classes.last ?? ""), colour: path.value("stroke") ?? "", start: start,
                           sweep: sweeps.reduce(0, +), largeArcFlags: flags, arcSweeps: sweeps)
        }
    }

    @Test("each category's arc covers its share of the ring, in category order from 12 o'clock, with the right large-arc flag")
    func proportions() throws {
        let categories: [Category: UInt64] = [.viewed: 60, .saved: 20, .discussed: 0, .cited: 15, .recommended: 5]
        let svg = try ParsedSVG(BadgeSVG.svg(work: "10.1234/abc", categories: categories, score: 42))
        let drawn = try segments(svg)

        #expect(drawn.map(\.category) == ["viewed", "saved", "cited", "recommended"])
        #expect(drawn.map(\.colour) == [Palette.colour(.viewed), Palette.colour(.saved), Palette.colour(.cited), Palette.colour(.recommended)])
        let expectedShares = [0.60, 0.20, 0.15, 0.05], expectedStarts = [0, 0.60, 0.80, 0.95]
        for (segment, (share, start)) in zip(drawn, zip(expectedShares, expectedStarts)) {
            #expect(abs(segment.sweep - share) < 0.001, "\(segment.category): \(segment.sweep)")
            #expect(circularDistance(segment.start, start) < 0.001, "\(segment.category) starts at \(segment.start)")
            #expect(segment.largeArcFlags == [share > 0.5], "\(segment.category)")
        }
        #expect(try svg.elements("text").map(\.stringValue) == ["42"])
        #expect(svg.root.titleText == "10.1234/abc: attention score 42; viewed 60, saved 20, discussed 0, cited 15, recommended 5")
        #expect(svg.root.uri == "http://www.w3.org/2000/svg")
        #expect(svg.root.value("version") == "1.1" && svg.root.value("width") == "120" && svg.root.value("viewBox") == "0 0 120 120")
    }

    @Test("a single category is a full ring, drawn as two half arcs since one arc cannot end where it starts")
    func singleCategory() throws {
        let svg = try ParsedSVG(BadgeSVG.svg(work: "10.1234/one", categories: [.cited: 7], score: 0, size: 80))
        let drawn = try segments(svg)
        #expect(drawn.count == 1)
        #expect(drawn[0].category == "cited" && drawn[0].colour == Palette.colour(.cited))
        #expect(drawn[0].largeArcFlags == [false, false])
        #expect(drawn[0].arcSweeps.allSatisfy { abs($0 - 0.5) < 0.001 })
        #expect(abs(drawn[0].sweep - 1) < 0.001)
    }

    @Test("a category holding all but a sliver still draws its arc: the nearly closed arc is split too")
    func sliver() throws {
        let svg = try ParsedSVG(BadgeSVG.svg(work: "10.1234/s", categories: [.viewed: 10_000_000, .saved: 1], score: 5))
        let drawn = try segments(svg)
        #expect(drawn.map(\.category) == ["viewed", "saved"])
        #expect(drawn[0].arcSweeps.count == 2 && abs(drawn[0].sweep - 1) < 0.001)
    }

    @Test("a work with nothing counted gets a grey full ring and 0")
    func empty() throws {
        let svg = try ParsedSVG(BadgeSVG.svg(work: "10.1234/none", categories: [:], score: 0))
        let drawn = try segments(svg)
        #expect(drawn.count == 1)
        #expect(drawn[0].category == "empty" && drawn[0].colour == Palette.empty && abs(drawn[0].sweep - 1) < 0.001)
        #expect(try svg.elements("text").map(\.stringValue) == ["0"])
        #expect(svg.root.titleText?.hasPrefix("10.1234/none: attention score 0;") == true)
    }

    @Test("a hostile DOI is escaped: the SVG parses and its title reads back the DOI exactly; forbidden characters become U+FFFD")
    func escaping() throws {
        let svg = try ParsedSVG(BadgeSVG.svg(work: hostileDOI, categories: [.viewed: 1], score: 1))
        #expect(svg.root.titleText?.hasPrefix(hostileDOI + ": ") == true)

        let control = try ParsedSVG(BadgeSVG.svg(work: "10.1234/a\u{1}b", categories: [:], score: 0))
        #expect(control.root.titleText?.hasPrefix("10.1234/a\u{FFFD}b: ") == true)
    }

    @Test("the score's font shrinks as digits are added, and the same input gives the same bytes")
    func determinismAndFit() throws {
        let first: [Category: UInt64] = [.viewed: 3, .discussed: 9, .cited: 4]
        var second: [Category: UInt64] = [:]
        second[.cited] = 4
        second[.discussed] = 9
        second[.viewed] = 3
        #expect(BadgeSVG.svg(work: "10.1/x", categories: first, score: 12) == BadgeSVG.svg(work: "10.1/x", categories: second, score: 12))

        func fontSize(_ score: Int) throws -> Double {
            try #require(try ParsedSVG(BadgeSVG.svg(work: "10.1/x", categories: first, score: score)).elements("text").first?.number("font-size"))
        }
        #expect(try fontSize(7) == fontSize(42))
        #expect(try fontSize(42) > fontSize(12_345))
        #expect(try fontSize(12_345) > fontSize(1_234_567_890))
    }
}
