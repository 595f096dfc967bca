import ALMCore

/// Lagotto's ontology of attention (PlumX: usage / captures / mentions / social / citations).
public enum Category: String, Sendable, Hashable, CaseIterable, Comparable {
    case viewed, saved, discussed, cited, recommended

    public static func < (a: Category, b: Category) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The counted numbers of one work: what a snapshot line, an `alm.metrics` record and the API show.
/// Zero values are left out of `sources` and `byMonth`; `categories` always has all five.
public struct WorkAggregate: Sendable, Equatable {
    public var work: String
    /// source → metric → counted value.
    public var sources: [String: [String: UInt64]]
    public var categories: [Category: UInt64]
    /// `YYYY-MM` → category → counted value: events by `occurred_at`, counts by `period`, totals by
    /// `observed_at` of the observation that counts.
    public var byMonth: [String: [Category: UInt64]]
    /// Earliest and latest time of any valid record of the work (`occurred_at` of events,
    /// `observed_at` of totals and counts), counted or not.
    public var firstSeen: Timestamp?
    public var lastSeen: Timestamp?
    /// source → how many distinct authors its counted events have, among events whose author is known
    /// (`RawEvent.author`); sources with none are left out. The attention score counts these.
    public var authors: [String: UInt64]

    public init(work: String, sources: [String: [String: UInt64]] = [:], categories: [Category: UInt64] = [:],
                byMonth: [String: [Category: UInt64]] = [:], firstSeen: Timestamp? = nil, lastSeen: Timestamp? = nil,
                authors: [String: UInt64] = [:]) {
        self.work = work
        self.sources = sources
        self.categories = categories
        self.byMonth = byMonth
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.authors = authors
    }

    public func category(_ category: Category) -> UInt64 { categories[category] ?? 0 }

    /// One line of `works.jsonl` (no newline), valid against shared/spec/snapshot-record.schema.json.
    /// Keys are written in a fixed order and maps sorted, so equal aggregates give equal bytes.
    public func jsonLine() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"work":"#.utf8)
        JSONOutput.appendString(work, to: &out)
        out.append(contentsOf: #","sources":{"#.utf8)
        for (i, source) in sources.keys.sorted(by: utf8Less).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONOutput.appendString(source, to: &out)
            out.append(UInt8(ascii: ":"))
            appendCounts(sources[source]!, to: &out)
        }
        out.append(contentsOf: #"},"categories":"#.utf8)
        appendCategories(categories, includeZeros: true, to: &out)
        out.append(contentsOf: #","by_month":{"#.utf8)
        for (i, month) in byMonth.keys.sorted().enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONOutput.appendString(month, to: &out)
            out.append(UInt8(ascii: ":"))
            appendCategories(byMonth[month]!, includeZeros: false, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        if !authors.isEmpty {
            out.append(contentsOf: #","authors":"#.utf8)
            appendCounts(authors, to: &out)
        }
        if let firstSeen {
            out.append(contentsOf: #","first_seen":"#.utf8)
            JSONOutput.appendString(firstSeen.text, to: &out)
        }
        if let lastSeen {
            out.append(contentsOf: #","last_seen":"#.utf8)
            JSONOutput.appendString(lastSeen.text, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// `{"name":123,...}`, names in UTF-8 byte order.
    private func appendCounts(_ counts: [String: UInt64], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (i, name) in counts.keys.sorted(by: utf8Less).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONOutput.appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONOutput.appendDecimal(counts[name]!, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    private func appendCategories(_ values: [Category: UInt64], includeZeros: Bool, to out: inout [UInt8]) {
        Self.appendCategories(includeZeros: includeZeros, to: &out) { values[$0] ?? 0 }
    }

    /// `{"viewed":1,...}` in `Category.allCases` order, zeros left out unless `includeZeros`.
    static func appendCategories(includeZeros: Bool, to out: inout [UInt8], valueOf: (Category) -> UInt64) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for category in Category.allCases {
            let value = valueOf(category)
            if value == 0 && !includeZeros { continue }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONOutput.appendString(category.rawValue, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONOutput.appendDecimal(value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}

/// Byte-wise order of UTF-8, the order of work ids in snapshots (independent of Unicode collation).
public func utf8Less(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}
