import ALMAggregation
import ALMCore

/// What the page of one work shows.
public struct WorkPageModel: Sendable, Equatable {
    /// A source that feeds the numbers and the period its data covers, when the server knows it (a
    /// COUNTER report from 2024-01; a stream followed since the collector started).
    public struct DataSource: Sendable, Equatable {
        public var source: String
        public var from: Timestamp?
        public var until: Timestamp?
        /// Anything a reader should know about the source's coverage, in words.
        public var note: String?

        public init(source: String, from: Timestamp? = nil, until: Timestamp? = nil, note: String? = nil) {
            self.source = source
            self.from = from
            self.until = until
            self.note = note
        }
    }

    public var aggregate: WorkAggregate
    public var score: AttentionScoreResult
    public var dataSources: [DataSource]
    /// The time the numbers reflect (the snapshot's creation, or the last `alm.metrics` record applied).
    public var asOf: Timestamp?
    public var snapshotID: String?

    public init(aggregate: WorkAggregate, score: AttentionScoreResult, dataSources: [DataSource] = [], asOf: Timestamp? = nil,
                snapshotID: String? = nil) {
        self.aggregate = aggregate
        self.score = score
        self.dataSources = dataSources
        self.asOf = asOf
        self.snapshotID = snapshotID
    }
}

/// The page of one work: its badge and attention score with the parts it is made of, category totals,
/// a monthly chart per category (inline `svg.chart[data-category]`), every source's numbers, the period
/// each source covers, first and last seen, a note on reading the numbers, and links to the JSON API.
public enum WorkPage {
    public static func html(_ model: WorkPageModel) -> String {
        let aggregate = model.aggregate
        let work = Markup.escape(aggregate.work)
        let path = Markup.pathSegment(aggregate.work)

        var body = "<header><h1>Metrics for <a href=\"\(Markup.escape(Markup.doiURL(aggregate.work)))\">\(work)</a></h1>\n"
        body += HTMLPage.dataStatus(asOf: model.asOf, snapshotID: model.snapshotID) + "</header>\n"
        body += "<main data-work=\"\(work)\">\n"
        body += readingNote
        body += attentionScore(model)
        body += categoryTotals(aggregate)
        body += monthlyCharts(aggregate)
        body += sourceNumbers(aggregate)
        body += coverage(model.dataSources)
        body += activity(aggregate)
        body += "<section id=\"api\">\n<h2>Data</h2>\n<ul>\n"
        body += "<li><a href=\"/api/v1/works/\(path)\">These numbers as JSON</a></li>\n"
        body += "<li><a href=\"/api/v1/works/\(path)/events\">The events behind them (provenance)</a></li>\n"
        body += "</ul>\n</section>\n</main>"
        return HTMLPage.document(title: "Metrics for \(aggregate.work)", body: body)
    }

    /// After the San Francisco Declaration (DORA) and the Leiden Manifesto (principles 6 and 7).
    private static let readingNote = """
        <p class="note" id="reading-note">These numbers count attention, not quality. They depend on the field, \
        the age of the work and what each source covers, so they are not comparable across fields or ages: \
        read them with context, next to the work itself, and never as the only basis of an assessment.</p>

        """

    private static func attentionScore(_ model: WorkPageModel) -> String {
        let result = model.score
        var html = "<section id=\"attention-score\">\n<h2>Attention score</h2>\n<div class=\"score\">"
        html += BadgeSVG.svg(work: model.aggregate.work, categories: model.aggregate.categories, score: result.displayScore)
        html += "<p>Attention score <strong data-score=\"\(Markup.fixed(result.score, decimals: 2))\">"
        html += "\(Markup.compact(result.score))</strong> (the badge shows \(result.displayScore)): mentions counted per "
        html += "kind of source, each kind weighted as in Altmetric's public scheme (a news story weighs more than a blog "
        html += "post, which weighs more than a social post; readers, usage and citations weigh nothing). "
        html += "The table lists every weight used.</p></div>\n"
        let rows = result.parts.map { part in
            HTMLPage.Row([
                .text(part.source), .text(part.metric), .text(part.type), .number(part.value), .number(part.mentions),
                .decimal(part.weight), .decimal(part.points),
            ])
        }
        if !rows.isEmpty {
            html += HTMLPage.table(attributes: " id=\"score-parts\"",
                                   headers: ["Source", "Metric", "Counts as", "Count", "Mentions counted", "Weight", "Points"], rows: rows)
        }
        return html + "</section>\n"
    }

    private static func categoryTotals(_ aggregate: WorkAggregate) -> String {
        let rows = Category.allCases.map { category in
            HTMLPage.Row(attributes: " data-category=\"\(category.rawValue)\"", [.text(Markup.displayName(category)), .number(aggregate.category(category))])
        }
        return "<section id=\"categories\">\n<h2>By category</h2>\n" + HTMLPage.table(headers: ["Category", "Total"], rows: rows) + "</section>\n"
    }

    private static func monthlyCharts(_ aggregate: WorkAggregate) -> String {
        var html = "<section id=\"months\">\n<h2>Over time</h2>\n<div class=\"charts\">\n"
        for category in Category.allCases {
            html += MonthlyChartSVG.svg(byMonth: aggregate.byMonth, category: category) + "\n"
        }
        return html + "</div>\n</section>\n"
    }

    private static func sourceNumbers(_ aggregate: WorkAggregate) -> String {
        var rows: [HTMLPage.Row] = []
        for source in aggregate.sources.keys.sorted(by: utf8Less) {
            let metrics = aggregate.sources[source]!
            for metric in metrics.keys.sorted(by: utf8Less) {
                rows.append(HTMLPage.Row([.text(source), .text(metric), .number(metrics[metric]!)]))
            }
        }
        var html = "<section id=\"sources\">\n<h2>By source</h2>\n"
        html += rows.isEmpty ? "<p>No source has counted anything for this work yet.</p>\n" : HTMLPage.table(headers: ["Source", "Metric", "Value"], rows: rows)
        return html + "</section>\n"
    }

    private static func coverage(_ dataSources: [WorkPageModel.DataSource]) -> String {
        var html = "<section id=\"data-sources\">\n<h2>Data sources</h2>\n"
        guard !dataSources.isEmpty else { return html + "<p>The period each source covers is not known.</p>\n</section>\n" }
        let rows = dataSources.map { dataSource in
            HTMLPage.Row([
                .text(dataSource.source),
                .optional(dataSource.from, numeric: false) { .html(HTMLPage.time($0)) },
                .optional(dataSource.until, numeric: false) { .html(HTMLPage.time($0)) },
                .text(dataSource.note ?? ""),
            ])
        }
        html += HTMLPage.table(headers: ["Source", "From", "Until", "Note"], rows: rows)
        return html + "</section>\n"
    }

    private static func activity(_ aggregate: WorkAggregate) -> String {
        func time(_ timestamp: Timestamp?) -> String { timestamp.map(HTMLPage.time) ?? "not yet" }
        return "<section id=\"activity\">\n<h2>Activity</h2>\n<dl>"
            + "<dt>First seen</dt><dd id=\"first-seen\">\(time(aggregate.firstSeen))</dd>"
            + "<dt>Last seen</dt><dd id=\"last-seen\">\(time(aggregate.lastSeen))</dd></dl>\n</section>\n"
    }
}
