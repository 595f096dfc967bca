import ALMAggregation
import ALMCore
import ALMPresentation
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("the dashboard and work pages")
struct PageTests {
    static func time(_ text: String) -> Timestamp { try! Timestamp(parsing: text) }

    let dashboard = DashboardModel(
        sources: [
            .init(source: "bluesky", eventsLast24Hours: 1_204, eventsPerMinute: 0.84, lastEvent: time("2026-03-02T11:04:09Z"),
                  errorsLast24Hours: 0, consumerLag: 12, breaker: .closed),
            .init(source: "crossref", breaker: .open),
        ],
        deadLettersPerMinute: 0.25,
        asOf: time("2026-03-02T12:00:00Z"),
        snapshotID: "20260302T120000Z-<1>",
        topWorks: [
            .viewed: [.init(work: hostileDOI, value: 5_000, score: 8.75), .init(work: "10.1000/b", value: 4_000, score: 0.25)],
            .cited: [.init(work: "10.1000/c", value: 120, score: 0)],
        ]
    )

    var workModel: WorkPageModel {
        let aggregate = WorkAggregate(
            work: hostileDOI,
            sources: ["bluesky": ["discusses": 10], "wikipedia": ["references": 2], "crossref": ["cites": 4], "counter": ["views": 300]],
            categories: [.viewed: 300, .saved: 0, .discussed: 12, .cited: 4, .recommended: 0],
            byMonth: ["2025-11": [.viewed: 100, .discussed: 2], "2026-01": [.viewed: 200, .discussed: 10, .cited: 4]],
            firstSeen: Self.time("2025-11-03T08:00:00Z"), lastSeen: Self.time("2026-01-30T17:45:00Z"))
        return WorkPageModel(aggregate: aggregate, score: AttentionScore().score(aggregate),
                             dataSources: [.init(source: "counter", from: Self.time("2025-01-01T00:00:00Z"), note: "monthly <SUSHI> reports")],
                             asOf: Self.time("2026-03-02T12:00:00Z"), snapshotID: "s1")
    }

    @Test("the dashboard is well-formed, escapes a hostile DOI in text and links, and carries the test hooks")
    func dashboardPage() throws {
        let html = DashboardPage.html(dashboard)
        #expect(htmlProblems(html) == [])
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        #expect(html.contains("<title>Article-level metrics: dashboard</title>"))
        #expect(!html.contains("<script") && !html.contains("<1>"))
        #expect(html.contains("snapshot <code>20260302T120000Z-&lt;1&gt;</code>"))

        let encoded = "10.1234%2F%3Cscript%3E%22%26%27%23%3F%3Bx%20y"
        #expect(html.contains(#"<a href="/works/\#(encoded)">10.1234/&lt;script&gt;&quot;&amp;&#39;#?;x y</a>"#))
        #expect(html.contains(#"<img class="badge" src="/badge/\#(encoded).svg" width="40" height="40" alt="attention score 9" data-score="8.75">"#))
        #expect(html.contains(#"alt="attention score 1" data-score="0.25""#))

        #expect(html.contains(#"<section id="pipeline-health">"#) && html.contains(#"<section id="top-works">"#))
        #expect(html.contains(#"<tr data-source="bluesky"><td>bluesky</td><td class="num">1204</td><td class="num">0.84</td>"#))
        #expect(html.contains(#"<span class="bad">open</span>"#))
        #expect(html.components(separatedBy: #"title="unknown""#).count - 1 == 5)  // crossref's five unknown numbers
        #expect(html.contains(#"<span id="dlq-rate">0.25</span>"#))
        #expect(html.contains(#"<table data-category="viewed">"#) && html.contains(#"<table data-category="cited">"#))
        #expect(html.contains(#"<p data-category="saved">No works yet.</p>"#))
        #expect(html.components(separatedBy: #"class="badge""#).count - 1 == 3)
    }

    @Test("an empty dashboard still renders every section")
    func emptyDashboard() {
        let html = DashboardPage.html(DashboardModel())
        #expect(htmlProblems(html) == [])
        #expect(html.contains("No source has reported yet.") && html.contains("no snapshot yet"))
        #expect(html.components(separatedBy: "No works yet.").count - 1 == 5)
    }

    @Test("the work page is well-formed, its inline SVGs parse as XML, and it links the API with the DOI encoded")
    func workPage() throws {
        let model = workModel
        let html = WorkPage.html(model)
        #expect(htmlProblems(html) == [])
        #expect(!html.contains("<script") && !html.contains("<SUSHI>"))
        #expect(html.contains("<title>Metrics for 10.1234/&lt;script&gt;&quot;&amp;&#39;#?;x y</title>"))

        let encoded = "10.1234%2F%3Cscript%3E%22%26%27%23%3F%3Bx%20y"
        #expect(html.contains(#"<a href="/api/v1/works/\#(encoded)">"#))
        #expect(html.contains(#"<a href="/api/v1/works/\#(encoded)/events">"#))
        #expect(html.contains(#"<a href="https://doi.org/10.1234/%3Cscript%3E%22%26%27%23%3F%3Bx%20y">"#))

        let svgs = try inlineSVGs(html).map(ParsedSVG.init)
        #expect(svgs.count == 6)  // the badge and five charts
        let charts = svgs.filter { $0.root.value("class") == "chart" }
        #expect(charts.map { $0.root.value("data-category") ?? "" } == Category.allCases.map(\.rawValue))
        let viewedBars = try charts[0].elements("rect", class: "bar").compactMap(\.titleText)
        #expect(viewedBars == ["2025-11: 100", "2025-12: 0", "2026-01: 200"])
        #expect(svgs[0].root.value("class") == "badge")
        #expect(svgs[0].root.titleText?.hasPrefix(hostileDOI + ": attention score 6;") == true)

        // bluesky 10 × 0.25 + Wikipedia 3 (flat)
        #expect(model.score.score == 5.5)
        #expect(html.contains(#"<strong data-score="5.50">5.5</strong> (the badge shows 6)"#))
        #expect(html.contains(#"<tr><td>wikipedia</td><td>references</td><td>wikipedia</td><td class="num">2</td><td class="num">1</td><td class="num">3</td><td class="num">3</td></tr>"#))
        #expect(html.contains(#"<tr data-category="discussed"><td>Discussed</td><td class="num">12</td></tr>"#))
        #expect(html.contains(#"<tr><td>counter</td><td>views</td><td class="num">300</td></tr>"#))
        #expect(html.contains("monthly &lt;SUSHI&gt; reports"))
        #expect(html.contains(#"<dd id="first-seen"><time datetime="2025-11-03T08:00:00Z">"#))
        #expect(html.contains(#"id="reading-note""#) && html.contains("not comparable across fields"))
    }

    @Test("a work with no data renders a grey badge, 'no data' charts and no score table")
    func emptyWork() throws {
        let aggregate = WorkAggregate(work: "10.1000/nothing", categories: [.viewed: 0, .saved: 0, .discussed: 0, .cited: 0, .recommended: 0])
        let html = WorkPage.html(WorkPageModel(aggregate: aggregate, score: AttentionScore().score(aggregate)))
        #expect(htmlProblems(html) == [])
        #expect(!html.contains("score-parts"))
        #expect(html.components(separatedBy: ">no data</text>").count - 1 == 5)
        #expect(html.contains("not yet") && html.contains("The period each source covers is not known."))
        #expect(try inlineSVGs(html).map(ParsedSVG.init).count == 6)
    }

    @Test("the same model gives the same bytes")
    func determinism() {
        #expect(DashboardPage.html(dashboard) == DashboardPage.html(dashboard))
        #expect(WorkPage.html(workModel) == WorkPage.html(workModel))
    }

    @Test("the checker itself catches unescaped input, so the well-formedness tests mean something")
    func checkerCatchesBrokenMarkup() {
        #expect(!htmlProblems(#"<p>10.1234/<script>"&'</p>"#).isEmpty)
        #expect(!htmlProblems(#"<a href="/works/10.1/"x">x</a>"#).isEmpty)
        #expect(!htmlProblems("<p>a & b</p>").isEmpty)
        #expect(!htmlProblems("<div><p>x</div></p>").isEmpty)
        #expect(htmlProblems(#"<!DOCTYPE html><p class="a">x &amp; y<br><img src="a" alt=""></p>"#) == [])
    }
}
