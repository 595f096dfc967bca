import ALMAggregation
import ALMCore

/// What the dashboard shows. Every pipeline number is optional: the server shows "—" for what it does
/// not know (a source it has no metrics for yet, a lag it could not ask the broker for).
public struct DashboardModel: Sendable, Equatable {
    public enum BreakerState: String, Sendable, Equatable {
        case closed
        case open
        case halfOpen = "half-open"
    }

    public struct SourceHealth: Sendable, Equatable {
        public var source: String
        public var eventsLast24Hours: UInt64?
        public var eventsPerMinute: Double?
        public var lastEvent: Timestamp?
        public var errorsLast24Hours: UInt64?
        /// Records of `alm.raw.<source>` not yet processed, summed over partitions.
        public var consumerLag: UInt64?
        public var breaker: BreakerState?

        public init(source: String, eventsLast24Hours: UInt64? = nil, eventsPerMinute: Double? = nil, lastEvent: Timestamp? = nil,
                    errorsLast24Hours: UInt64? = nil, consumerLag: UInt64? = nil, breaker: BreakerState? = nil) {
            self.source = source
            self.eventsLast24Hours = eventsLast24Hours
            self.eventsPerMinute = eventsPerMinute
            self.lastEvent = lastEvent
            self.errorsLast24Hours = errorsLast24Hours
            self.consumerLag = consumerLag
            self.breaker = breaker
        }
    }

    public struct TopWork: Sendable, Equatable {
        public var work: String
        /// The work's total in the category the list ranks by.
        public var value: UInt64
        /// The attention score (`AttentionScoreResult.score`); the badge shows `AttentionScoreResult.displayScore(score)`.
        public var score: Double

        public init(work: String, value: UInt64, score: Double) {
            self.work = work
            self.value = value
            self.score = score
        }
    }

    /// One row per source, in the order given.
    public var sources: [SourceHealth]
    /// Records written to `alm.dlq` per minute.
    public var deadLettersPerMinute: Double?
    /// The time the data shown reflects: the snapshot's creation, or the last `alm.metrics` record applied.
    public var asOf: Timestamp?
    public var snapshotID: String?
    /// category → works ranked by that category, best first. A category without a list shows "no works yet".
    public var topWorks: [Category: [TopWork]]

    public init(sources: [SourceHealth] = [], deadLettersPerMinute: Double? = nil, asOf: Timestamp? = nil, snapshotID: String? = nil,
                topWorks: [Category: [TopWork]] = [:]) {
        self.sources = sources
        self.deadLettersPerMinute = deadLettersPerMinute
        self.asOf = asOf
        self.snapshotID = snapshotID
        self.topWorks = topWorks
    }
}

/// The dashboard page: pipeline health per source, then the top works of each category with their badges.
///
/// Hooks for browser tests: `#pipeline-health` (one `tr[data-source]` per source), `#top-works` (one
/// `table[data-category]` per category, one `tr[data-work]` per work), `img.badge[data-score]`.
/// Badges are `<img src="/badge/{doi}.svg">`, not inline SVG, so the page stays small and the browser caches them.
public enum DashboardPage {
    public static func html(_ model: DashboardModel) -> String {
        var body = "<header><h1>Article-level metrics</h1>\n" + HTMLPage.dataStatus(asOf: model.asOf, snapshotID: model.snapshotID) + "</header>\n"
        body += pipelineHealth(model)
        body += topWorks(model.topWorks)
        return HTMLPage.document(title: "Article-level metrics: dashboard", body: body)
    }

    private static func pipelineHealth(_ model: DashboardModel) -> String {
        var html = "<section id=\"pipeline-health\">\n<h2>Pipeline health</h2>\n"
        let deadLetters = HTMLPage.Cell.optional(model.deadLettersPerMinute) { .decimal($0) }.html
        html += "<p>Dead-letter queue: <span id=\"dlq-rate\">\(deadLetters)</span> records per minute.</p>\n"
        guard !model.sources.isEmpty else { return html + "<p>No source has reported yet.</p>\n</section>\n" }
        let rows = model.sources.map { health in
            HTMLPage.Row(attributes: #" data-source="\#(Markup.escape(health.source))""#, [
                .text(health.source),
                .optional(health.eventsLast24Hours) { .number($0) },
                .optional(health.eventsPerMinute) { .decimal($0) },
                .optional(health.lastEvent, numeric: false) { .html(HTMLPage.time($0)) },
                .optional(health.errorsLast24Hours) { .number($0) },
                .optional(health.consumerLag) { .number($0) },
                .optional(health.breaker, numeric: false) { state in
                    .html(state == .closed ? state.rawValue : #"<span class="bad">\#(state.rawValue)</span>"#)
                },
            ])
        }
        html += HTMLPage.table(headers: ["Source", "Events (24 h)", "Events / min", "Last event", "Errors (24 h)", "Consumer lag", "Breaker"],
                               rows: rows)
        return html + "</section>\n"
    }

    private static func topWorks(_ lists: [Category: [DashboardModel.TopWork]]) -> String {
        var html = "<section id=\"top-works\">\n<h2>Top works</h2>\n"
        for category in Category.allCases {
            html += "<h3>\(Markup.displayName(category))</h3>\n"
            guard let works = lists[category], !works.isEmpty else {
                html += "<p data-category=\"\(category.rawValue)\">No works yet.</p>\n"
                continue
            }
            let rows = works.enumerated().map { rank, entry in
                let path = Markup.pathSegment(entry.work)
                let badge = #"<img class="badge" src="/badge/\#(path).svg" width="40" height="40""#
                    + #" alt="attention score \#(AttentionScoreResult.displayScore(entry.score))""#
                    + #" data-score="\#(Markup.fixed(entry.score, decimals: 2))">"#
                return HTMLPage.Row(attributes: #" data-work="\#(Markup.escape(entry.work))""#, [
                    .number(UInt64(rank + 1)),
                    .html(badge),
                    .html(#"<a href="/works/\#(path)">\#(Markup.escape(entry.work))</a>"#),
                    .number(entry.value),
                    .decimal(entry.score),
                ])
            }
            html += HTMLPage.table(attributes: " data-category=\"\(category.rawValue)\"",
                                   headers: ["#", "Badge", "Work", Markup.displayName(category), "Attention score"], rows: rows)
        }
        return html + "</section>\n"
    }
}
