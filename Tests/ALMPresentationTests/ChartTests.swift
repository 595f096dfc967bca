import ALMAggregation
import ALMPresentation
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("the monthly charts")
struct ChartTests {
    let byMonth: [String: [Category: UInt64]] = [
        "2025-01": [.viewed: 5],
        "2025-03": [.viewed: 10, .cited: 2],
        "2025-04": [.saved: 1],
    ]

    func bars(_ svg: ParsedSVG) throws -> [(title: String, x: Double, y: Double, width: Double, height: Double)] {
        try svg.elements("rect", class: "bar").map { bar in
            (try #require(bar.titleText), try #require(bar.number("x")), try #require(bar.number("y")),
             try #require(bar.number("width")), try #require(bar.number("height")))
        }
    }

    @Test("one bar per month from the first month with attention to the last, gaps as zero bars, heights proportional")
    func barsPerMonth() throws {
        // 480 × 140: the plot spans x 48…472 and y 22…120 (98 high), so 4 bars have a 106 slot, 1 apart.
        let svg = try ParsedSVG(MonthlyChartSVG.svg(byMonth: byMonth, category: .viewed, width: 480, height: 140))
        let drawn = try bars(svg)
        #expect(drawn.map(\.title) == ["2025-01: 5", "2025-02: 0", "2025-03: 10", "2025-04: 0"])
        #expect(drawn.map(\.height) == [49, 0, 98, 0])
        #expect(drawn.map(\.y) == [71, 120, 22, 120])
        #expect(drawn.map(\.x) == [48.5, 154.5, 260.5, 366.5])
        #expect(drawn.allSatisfy { $0.width == 105 })
        #expect(svg.root.value("class") == "chart" && svg.root.value("data-category") == "viewed")
        #expect(svg.root.titleText == "Viewed per month, 2025-01 to 2025-04 (4 months): 15 in total")
        #expect(try svg.elements("text", class: "x-label").map(\.stringValue) == ["2025-01", "2025-04"])
        #expect(try svg.elements("text", class: "y-max").map(\.stringValue) == ["10"])
    }

    @Test("every category charts the work's whole range, so a work's charts line up")
    func sharedRange() throws {
        let cited = try bars(ParsedSVG(MonthlyChartSVG.svg(byMonth: byMonth, category: .cited)))
        #expect(cited.map(\.title) == ["2025-01: 0", "2025-02: 0", "2025-03: 2", "2025-04: 0"])
    }

    @Test("gaps across a year boundary are filled; keys that are not YYYY-MM are ignored")
    func yearBoundaryAndBadKeys() throws {
        let months: [String: [Category: UInt64]] = [
            "2024-11": [.discussed: 3], "2025-02": [.discussed: 1], "2025-13": [.discussed: 50], "2025-1": [.discussed: 50],
            "abcd-ef": [.discussed: 50], "2026-03-01": [.discussed: 50],
        ]
        let drawn = try bars(ParsedSVG(MonthlyChartSVG.svg(byMonth: months, category: .discussed)))
        #expect(drawn.map(\.title) == ["2024-11: 3", "2024-12: 0", "2025-01: 0", "2025-02: 1"])
    }

    @Test("a range longer than 240 months is charted per year, months summed into their year")
    func yearly() throws {
        let months: [String: [Category: UInt64]] = ["2000-01": [.cited: 1], "2000-07": [.cited: 2], "2030-12": [.cited: 4]]
        let svg = try ParsedSVG(MonthlyChartSVG.svg(byMonth: months, category: .cited))
        let drawn = try bars(svg)
        #expect(drawn.count == 31)
        #expect(drawn.first?.title == "2000: 3" && drawn.last?.title == "2030: 4" && drawn[1].title == "2001: 0")
        #expect(svg.root.titleText == "Cited per year, 2000 to 2030 (31 years): 7 in total")
    }

    @Test("no data gives a valid SVG that says so and has no bars")
    func noData() throws {
        for (months, category) in [([String: [Category: UInt64]](), Category.viewed), (byMonth, .recommended), (["2025-01": [.viewed: 0]], .viewed)] {
            let svg = try ParsedSVG(MonthlyChartSVG.svg(byMonth: months, category: category))
            #expect(try bars(svg).isEmpty)
            #expect(try svg.elements("text", class: "no-data").map(\.stringValue) == ["no data"])
            #expect(svg.root.titleText?.hasSuffix("per month: no data") == true)
        }
    }

    @Test("small multiples: five panels over the same range, 'no data' where a category has none")
    func smallMultiples() throws {
        let svg = try ParsedSVG(MonthlyChartSVG.smallMultiples(byMonth: byMonth, width: 400, panelHeight: 100))
        #expect(svg.root.value("height") == "500")
        let panels = try svg.elements("g", class: "panel")
        try #require(panels.count == 5)
        #expect(panels.map { $0.value("data-category") ?? "" } == Category.allCases.map(\.rawValue))
        for panel in panels {
            let category = panel.value("data-category")!
            let barCount = try panel.nodes(forXPath: ".//*[local-name()='rect']").count
            let noData = try panel.nodes(forXPath: ".//*[local-name()='text'][@class='no-data']").count
            #expect((barCount, noData) == (["viewed", "saved", "cited"].contains(category) ? (4, 0) : (0, 1)), "\(category)")
        }
        // The second panel starts 100 lower: its tallest bar (saved, 2025-04) reaches the top of its plot.
        let savedBars = try panels[1].nodes(forXPath: ".//*[local-name()='rect']").map { $0 as! XMLElement }
        #expect(savedBars.compactMap { $0.number("y") } == [180, 180, 180, 122])
    }

    @Test("the same input gives the same bytes")
    func determinism() {
        let reordered = Dictionary(uniqueKeysWithValues: byMonth.sorted { $0.key > $1.key })
        #expect(MonthlyChartSVG.svg(byMonth: byMonth, category: .viewed) == MonthlyChartSVG.svg(byMonth: reordered, category: .viewed))
        #expect(MonthlyChartSVG.smallMultiples(byMonth: byMonth) == MonthlyChartSVG.smallMultiples(byMonth: reordered))
    }
}
