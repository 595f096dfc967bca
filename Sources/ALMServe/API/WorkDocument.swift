import ALMAggregation
import ALMPresentation
import Foundation

/// `GET /api/v1/works/{doi}`: the numbers of one work and the context a responsible display needs.
struct WorkDocument: Encodable {
    var work: String
    var found: Bool
    var sources: [String: [String: UInt64]]
    var categories: [String: UInt64]
    var byMonth: [String: [String: UInt64]]
    var firstSeen: String?
    var lastSeen: String?
    /// source → distinct authors of its counted mentions, where known.
    var authors: [String: UInt64]
    var attention: AttentionDocument
    var context: ContextDocument
    var links: [String: String]

    enum CodingKeys: String, CodingKey {
        case work, found, sources, categories, authors, attention, context, links
        case byMonth = "by_month", firstSeen = "first_seen", lastSeen = "last_seen"
    }

    init(_ aggregate: WorkAggregate, found: Bool, attention: AttentionScoreResult, context: ContextDocument) {
        work = aggregate.work
        self.found = found
        sources = aggregate.sources
        categories = Dictionary(uniqueKeysWithValues: Category.allCases.map { ($0.rawValue, aggregate.category($0)) })
        byMonth = aggregate.byMonth.mapValues { months in
            Dictionary(uniqueKeysWithValues: months.map { ($0.key.rawValue, $0.value) })
        }
        firstSeen = aggregate.firstSeen?.text
        lastSeen = aggregate.lastSeen?.text
        authors = aggregate.authors
        self.attention = AttentionDocument(attention)
        self.context = context
        let path = "/api/v1/works/" + Markup.pathSegment(aggregate.work)
        links = [
            "self": path,
            "events": path + "/events",
            "badge": "/badge/" + Markup.pathSegment(aggregate.work) + ".svg",
            "page": "/works/" + Markup.pathSegment(aggregate.work),
            "doi": "https://doi.org/" + aggregate.work,
        ]
    }
}

struct AttentionDocument: Encodable {
    struct Part: Encodable {
        var source: String
        var metric: String
        var type: String
        var value: UInt64
        var mentions: UInt64
        var weight: Double
        var points: Double
    }

    var score: Double
    var parts: [Part]
    var formula = "sum over sources and metrics of weight(type of source/metric) x mentions; flat types count once"
    var documentation = "docs/attention-score.md"

    init(_ result: AttentionScoreResult) {
        score = result.score
        parts = result.parts.map {
            Part(source: $0.source, metric: $0.metric, type: $0.type, value: $0.value, mentions: $0.mentions, weight: $0.weight, points: $0.points)
        }
    }
}

/// What the numbers are and are not (DORA, the Leiden Manifesto): where they come from, the window
/// they cover, and when they were true.
struct ContextDocument: Encodable {
    struct DataSource: Encodable {
        var source: String
        var metrics: [String]
    }

    var asOf: String?
    var snapshot: String?
    var live: Bool
    var dataSources: [DataSource]
    var window: [String: String]
    var note = "Article-level metrics describe attention, not quality. Compare only works of similar field, type and age, "
        + "and read the numbers with the sources and window they come from."

    enum CodingKeys: String, CodingKey {
        case snapshot, live, window, note
        case asOf = "as_of", dataSources = "data_sources"
    }

    init(aggregate: WorkAggregate, index: WorkIndex, live: Bool) {
        let lastUpdate = index.lastUpdate
        let snapshot = index.snapshot
        asOf = lastUpdate.map(Self.rfc3339) ?? snapshot?.createdAt
        self.snapshot = snapshot?.id
        self.live = live
        dataSources = aggregate.sources.keys.sorted().map { DataSource(source: $0, metrics: aggregate.sources[$0]!.keys.sorted()) }
        window = [:]
        if let first = aggregate.firstSeen { window["from"] = first.text }
        if let last = aggregate.lastSeen { window["to"] = last.text }
    }

    static func rfc3339(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}

enum JSONBody {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes = Array(try encoder.encode(value))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}
