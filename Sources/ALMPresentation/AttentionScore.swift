import ALMAggregation

/// What one mention of each kind of attention is worth, and which kind each (source, metric) is.
///
/// The defaults are Altmetric's published weights (news 8, blogs 5, policy 3, patents 3, Wikipedia 3,
/// peer review 1, social posts and reddit 0.25; readers, usage and citations 0). docs/attention-score.md
/// has the table, the mapping of this system's sources and the reasons for each choice.
///
/// How mentions of a type are counted:
/// - `flatTypes` (Wikipedia): one mention per work, however many pages and sources mention it.
/// - `perSourceTypes` (policy): one mention per source — Altmetric counts each policy source once,
///   however many of its documents cite the work.
/// - every other type: each mention counts.
/// - `authorCountedTypes` (social, reddit, blogs, news, annotations, policy): where the caller knows how
///   many distinct authors a source's mentions have, that number replaces the mention count
///   ("one mention per person per source"); for policy the author is the issuing body.
public struct AttentionWeights: Sendable, Equatable {
    /// type → points for one counted mention. Every type a mapping may name is a key.
    public let weights: [String: Double]
    public let flatTypes: Set<String>
    public let perSourceTypes: Set<String>
    public let authorCountedTypes: Set<String>
    /// `source` or `source/metric` → type; the `source/metric` entry wins. Unmapped pairs are `other`.
    public let sourceTypes: [String: String]

    /// The type of a (source, metric) nobody mapped; weight 0 by default.
    public static let otherType = "other"

    public static let altmetricDefaults = AttentionWeights(
        weights: [
            "news": 8, "blogs": 5, "policy": 3, "patents": 3, "wikipedia": 3, "peer_review": 1,
            "social": 0.25, "reddit": 0.25,
            // Not in Altmetric: Hypothes.is annotations, weighted like a social post (docs/attention-score.md).
            "annotation": 0.25,
            "readers": 0, "usage": 0, "citation": 0,
            // Votes and comment counts on a post (reddit's score): the post itself is the mention.
            "reactions": 0,
            otherType: 0,
        ],
        flatTypes: ["wikipedia"],
        perSourceTypes: ["policy"],
        authorCountedTypes: ["social", "reddit", "blogs", "news", "annotation", "policy"],
        sourceTypes: [
            "wikipedia": "wikipedia",
            "bluesky": "social",
            "reddit": "reddit", "reddit/likes": "reactions", "reddit/comments": "reactions",
            "hypothesis": "annotation",
            "crossref": "citation", "openalex": "citation", "europepmc": "citation", "opencitations": "citation",
            "pubmed": "citation",
            "datacite": "citation", "datacite/views": "usage", "datacite/downloads": "usage",
            // The work's link to its own data: not attention it received.
            "datacite/data_references": otherType,
            "pmc": "usage", "counter": "usage", "accesslog": "usage",
            // Event Data keeps only the relation as the metric, not which of its sources (twitter, reddit,
            // newsfeed, wikipedia, crossref…) saw it: each relation goes to the type most of its events had.
            "eventdata/references": "wikipedia",
            "eventdata/discusses": "social",
            "eventdata/annotates": "annotation",
            "eventdata/reviews": "peer_review",
            "eventdata/recommends": "peer_review",
            "eventdata/cites": "citation",
            "eventdata/bookmarks": "readers",
            "eventdata/likes": "reactions",
        ]
    )

    private init(weights: [String: Double], flatTypes: Set<String>, perSourceTypes: Set<String>,
                 authorCountedTypes: Set<String>, sourceTypes: [String: String]) {
        self.weights = weights
        self.flatTypes = flatTypes
        self.perSourceTypes = perSourceTypes
        self.authorCountedTypes = authorCountedTypes
        self.sourceTypes = sourceTypes
    }

    /// The defaults with an operator's changes: `overrides` type → weight (finite, ≥ 0), `sourceTypes`
    /// `source` or `source/metric` → one of the known types (map to `other` to stop counting a default).
    /// Keys are checked in sorted order; the first bad one is the error.
    public init(overrides: [String: Double] = [:], sourceTypes typeOverrides: [String: String] = [:]) throws(AttentionWeightsError) {
        let defaults = AttentionWeights.altmetricDefaults
        let known = defaults.weights.keys.sorted().joined(separator: ", ")
        var weights = defaults.weights
        for (type, weight) in overrides.sorted(by: { $0.key < $1.key }) {
            guard weights[type] != nil else {
                throw AttentionWeightsError(.unknownType, key: type, "attention weight \"\(type)\": unknown type (known: \(known))")
            }
            guard weight.isFinite, weight >= 0 else {
                throw AttentionWeightsError(.invalidWeight, key: type, "attention weight \"\(type)\": \(weight) is not a finite number ≥ 0")
            }
            weights[type] = weight
        }
        var sourceTypes = defaults.sourceTypes
        for (key, type) in typeOverrides.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
                throw AttentionWeightsError(.invalidSourceKey, key: key,
                                            "attention source type \"\(key)\": expected \"source\" or \"source/metric\"")
            }
            guard weights[type] != nil else {
                throw AttentionWeightsError(.unknownType, key: key,
                                            "attention source type \"\(key)\": unknown type \"\(type)\" (known: \(known))")
            }
            sourceTypes[key] = type
        }
        self.init(weights: weights, flatTypes: defaults.flatTypes, perSourceTypes: defaults.perSourceTypes,
                  authorCountedTypes: defaults.authorCountedTypes, sourceTypes: sourceTypes)
    }

    public func type(source: String, metric: String) -> String {
        sourceTypes[source + "/" + metric] ?? sourceTypes[source] ?? Self.otherType
    }

    public func weight(ofType type: String) -> Double { weights[type] ?? 0 }
}

/// A configuration value `AttentionWeights` refuses, naming the key at fault.
public struct AttentionWeightsError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, CustomStringConvertible {
        /// A weight for a type that does not exist, or a mapping to one.
        case unknownType = "unknown_type"
        /// A weight that is negative, infinite or NaN.
        case invalidWeight = "invalid_weight"
        /// A mapping key that is neither `source` nor `source/metric`.
        case invalidSourceKey = "invalid_source_key"

        public var description: String { rawValue }
    }

    public let code: Code
    /// The configuration key at fault: a type name or a `source[/metric]` key.
    public let key: String
    public let message: String

    public init(_ code: Code, key: String, _ message: String) {
        self.code = code
        self.key = key
        self.message = message
    }

    public var description: String { message }
}

/// A work's attention score and how each (source, metric) contributed to it.
public struct AttentionScoreResult: Sendable, Equatable {
    public struct Part: Sendable, Equatable {
        public let source: String
        public let metric: String
        public let type: String
        /// The aggregate's number for this (source, metric).
        public let value: UInt64
        /// How many mentions count after the flat, per-source and distinct-author rules.
        public let mentions: UInt64
        public let weight: Double
        /// `mentions × weight`.
        public let points: Double
    }

    /// The sum of the parts' points, rounded to 2 decimals (half away from zero).
    public let score: Double
    /// One part per non-zero (source, metric) of the aggregate, zero-weight ones included, in byte-wise
    /// order of source, then metric.
    public let parts: [Part]

    /// The whole number a badge shows for this score (`displayScore(_:)`).
    public var displayScore: Int { Self.displayScore(score) }

    /// The whole number a badge shows for a score: rounded up, as Altmetric documents for its donut
    /// (5.25 shows as 6), so any weighted attention shows as at least 1. Give it the 2-decimal `score`, so
    /// floating-point noise (2.0000000001) cannot push a whole score up by one.
    public static func displayScore(_ score: Double) -> Int {
        guard score > 0 else { return 0 }
        let rounded = score.rounded(.up)
        return rounded >= Double(Int.max) ? Int.max : Int(rounded)
    }
}

/// The weighted sum of a work's mentions (docs/attention-score.md).
public struct AttentionScore: Sendable, Equatable {
    public let weights: AttentionWeights

    public init(weights: AttentionWeights = .altmetricDefaults) {
        self.weights = weights
    }

    /// - Parameter distinctAuthors: `source` or `source/metric` → how many distinct authors its mentions
    ///   have (the `source/metric` entry wins). For author-counted types it replaces the mention count,
    ///   capped at that count; a `source` entry applies to each author-counted metric of the source.
    public func score(_ aggregate: WorkAggregate, distinctAuthors: [String: UInt64] = [:]) -> AttentionScoreResult {
        var candidates: [(source: String, metric: String, type: String, value: UInt64)] = []
        for source in aggregate.sources.keys.sorted(by: utf8Less) {
            let metrics = aggregate.sources[source]!
            for metric in metrics.keys.sorted(by: utf8Less) where metrics[metric]! > 0 {
                candidates.append((source, metric, weights.type(source: source, metric: metric), metrics[metric]!))
            }
        }

        // A flat type's one mention goes to its part with the largest value (the first on a tie).
        var flatCredit: [String: Int] = [:]
        for (index, candidate) in candidates.enumerated() where weights.flatTypes.contains(candidate.type) {
            if let credited = flatCredit[candidate.type], candidates[credited].value >= candidate.value { continue }
            flatCredit[candidate.type] = index
        }

        var total = 0.0
        let parts = candidates.enumerated().map { index, candidate in
            let mentions: UInt64
            if weights.flatTypes.contains(candidate.type) {
                mentions = flatCredit[candidate.type] == index ? 1 : 0
            } else if weights.authorCountedTypes.contains(candidate.type),
                let authors = distinctAuthors[candidate.source + "/" + candidate.metric] ?? distinctAuthors[candidate.source] {
                mentions = min(authors, candidate.value)
            } else {
                mentions = weights.perSourceTypes.contains(candidate.type) ? 1 : candidate.value
            }
            let weight = weights.weight(ofType: candidate.type)
            let points = Double(mentions) * weight
            total += points
            return AttentionScoreResult.Part(source: candidate.source, metric: candidate.metric, type: candidate.type,
                                             value: candidate.value, mentions: mentions, weight: weight, points: points)
        }
        return AttentionScoreResult(score: (total * 100).rounded(.toNearestOrAwayFromZero) / 100, parts: parts)
    }
}
