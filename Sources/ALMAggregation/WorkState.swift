import ALMCore

/// The counted numbers of one work as the engine keeps them between records: the same content as a
/// `WorkAggregate`, in a compact form. A work has a handful of (source, metric)s and months, so they are
/// small arrays searched linearly rather than nested dictionaries (one allocation per month and source
/// made the engine's memory grow with works × months); the category totals are five inline numbers.
/// Zero entries are removed (absent and zero are the same), as in the aggregate.
struct WorkState {
    struct MetricCount {
        let source: String
        let metric: String
        var value: UInt64
    }

    struct MonthCounts {
        /// `YYYY-MM`.
        let month: String
        var counts: CategoryCounts
    }

    /// Non-zero (source, metric) values, in no order.
    var metricCounts: [MetricCount] = []
    var categoryTotals = CategoryCounts()
    /// Months with a non-zero category, in no order.
    var months: [MonthCounts] = []
    var firstSeen: Int64?
    var lastSeen: Int64?
    /// source → author → how many counted events of the work that author made.
    var authorEvents: [String: [String: UInt32]] = [:]

    init() {}

    init(_ aggregate: WorkAggregate) {
        for (source, metrics) in aggregate.sources {
            for (metric, value) in metrics where value != 0 {
                metricCounts.append(MetricCount(source: source, metric: metric, value: value))
            }
        }
        for (category, value) in aggregate.categories { categoryTotals[category] = value }
        for (month, values) in aggregate.byMonth {
            var counts = CategoryCounts()
            for (category, value) in values { counts[category] = value }
            if !counts.isZero { months.append(MonthCounts(month: month, counts: counts)) }
        }
        firstSeen = aggregate.firstSeen?.microsecondsSinceEpoch
        lastSeen = aggregate.lastSeen?.microsecondsSinceEpoch
    }

    mutating func add(_ c: Contribution, sign: Int, categories map: CategoryMap) {
        if let author = c.author { countAuthor(author, of: c.source, sign: sign) }
        guard c.value > 0 else { return }
        if let index = metricCounts.firstIndex(where: { $0.source == c.source && $0.metric == c.metric }) {
            metricCounts[index].value = Self.adjusted(metricCounts[index].value, by: c.value, sign: sign)
            if metricCounts[index].value == 0 { metricCounts.remove(at: index) }
        } else {
            let value = Self.adjusted(0, by: c.value, sign: sign)
            if value != 0 { metricCounts.append(MetricCount(source: c.source, metric: c.metric, value: value)) }
        }
        guard let category = map.category(source: c.source, metric: c.metric) else { return }
        categoryTotals[category] = Self.adjusted(categoryTotals[category], by: c.value, sign: sign)
        if let index = months.firstIndex(where: { $0.month == c.month }) {
            months[index].counts[category] = Self.adjusted(months[index].counts[category], by: c.value, sign: sign)
            if months[index].counts.isZero { months.remove(at: index) }
        } else {
            var counts = CategoryCounts()
            counts[category] = Self.adjusted(0, by: c.value, sign: sign)
            if !counts.isZero { months.append(MonthCounts(month: c.month, counts: counts)) }
        }
    }

    mutating func countAuthor(_ author: String, of source: String, sign: Int) {
        let current = authorEvents[source]?[author] ?? 0
        let next = sign > 0 ? current + 1 : current - 1
        authorEvents[source, default: [:]][author] = next == 0 ? nil : next
        if authorEvents[source]?.isEmpty == true { authorEvents[source] = nil }
    }

    /// Adds or subtracts (wrapping, as counts only ever return to what they were).
    private static func adjusted(_ current: UInt64, by value: UInt64, sign: Int) -> UInt64 {
        sign > 0 ? current &+ value : current &- value
    }

    /// `aggregate(work:).jsonLine()`, byte for byte, written from the arrays without building the
    /// aggregate's dictionaries: the drain writes one line per changed work.
    func jsonLine(work: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"work":"#.utf8)
        JSONOutput.appendString(work, to: &out)
        out.append(contentsOf: #","sources":{"#.utf8)
        let counts = metricCounts.sorted { a, b in
            a.source == b.source ? utf8Less(a.metric, b.metric) : utf8Less(a.source, b.source)
        }
        for (i, entry) in counts.enumerated() {
            let opensSource = i == 0 || counts[i - 1].source != entry.source
            if opensSource {
                if i > 0 { out.append(contentsOf: "},".utf8) }
                JSONOutput.appendString(entry.source, to: &out)
                out.append(contentsOf: ":{".utf8)
            } else {
                out.append(UInt8(ascii: ","))
            }
            JSONOutput.appendString(entry.metric, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONOutput.appendDecimal(entry.value, to: &out)
        }
        if !counts.isEmpty { out.append(UInt8(ascii: "}")) }
        out.append(contentsOf: #"},"categories":"#.utf8)
        categoryTotals.appendJSON(includeZeros: true, to: &out)
        out.append(contentsOf: #","by_month":{"#.utf8)
        for (i, entry) in months.sorted(by: { $0.month < $1.month }).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONOutput.appendString(entry.month, to: &out)
            out.append(UInt8(ascii: ":"))
            entry.counts.appendJSON(includeZeros: false, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        if !authorEvents.isEmpty {
            out.append(contentsOf: #","authors":{"#.utf8)
            for (i, source) in authorEvents.keys.sorted(by: utf8Less).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONOutput.appendString(source, to: &out)
                out.append(UInt8(ascii: ":"))
                JSONOutput.appendDecimal(UInt64(authorEvents[source]!.count), to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        if let firstSeen = firstSeen.flatMap(Timestamp.init(microsecondsSinceEpoch:)) {
            out.append(contentsOf: #","first_seen":"#.utf8)
            JSONOutput.appendString(firstSeen.text, to: &out)
        }
        if let lastSeen = lastSeen.flatMap(Timestamp.init(microsecondsSinceEpoch:)) {
            out.append(contentsOf: #","last_seen":"#.utf8)
            JSONOutput.appendString(lastSeen.text, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    func aggregate(work: String) -> WorkAggregate {
        var sources: [String: [String: UInt64]] = [:]
        for entry in metricCounts { sources[entry.source, default: [:]][entry.metric] = entry.value }
        var byMonth: [String: [Category: UInt64]] = [:]
        byMonth.reserveCapacity(months.count)
        for entry in months { byMonth[entry.month] = entry.counts.nonZero }
        return WorkAggregate(work: work, sources: sources, categories: categoryTotals.nonZero, byMonth: byMonth,
                             firstSeen: firstSeen.flatMap(Timestamp.init(microsecondsSinceEpoch:)),
                             lastSeen: lastSeen.flatMap(Timestamp.init(microsecondsSinceEpoch:)),
                             authors: authorEvents.mapValues { UInt64($0.count) })
    }
}

/// One number per category, inline.
struct CategoryCounts: Equatable {
    private var viewed: UInt64 = 0
    private var saved: UInt64 = 0
    private var discussed: UInt64 = 0
    private var cited: UInt64 = 0
    private var recommended: UInt64 = 0

    subscript(category: Category) -> UInt64 {
        get {
            switch category {
            case .viewed: viewed
            case .saved: saved
            case .discussed: discussed
            case .cited: cited
            case .recommended: recommended
            }
        }
        set {
            switch category {
            case .viewed: viewed = newValue
            case .saved: saved = newValue
            case .discussed: discussed = newValue
            case .cited: cited = newValue
            case .recommended: recommended = newValue
            }
        }
    }

    var isZero: Bool { self == CategoryCounts() }

    /// `{"viewed":1,...}` in `Category.allCases` order, as `WorkAggregate.jsonLine` writes categories.
    func appendJSON(includeZeros: Bool, to out: inout [UInt8]) {
        WorkAggregate.appendCategories(includeZeros: includeZeros, to: &out) { self[$0] }
    }

    /// The non-zero categories, as a `WorkAggregate` holds them.
    var nonZero: [Category: UInt64] {
        var values: [Category: UInt64] = [:]
        for category in Category.allCases where self[category] != 0 { values[category] = self[category] }
        return values
    }
}
