import ALMAggregation
import ALMCore
import ALMState
import Foundation

/// Provenance (NISO RP-25 transparency): the deciding records the counted numbers of a work rest on,
/// read from the processor's state directory while a processor may be writing it (WAL readers see whole
/// commits and never block the writer). See docs/decisions/provenance.md.
///
/// Every deciding record of a work lies under three key prefixes of its partition's `records` table
/// (events, totals, counts; `StateKey.prefixes(work:source:)`), so a page is an index seek per kind.
/// The work's partition is the one whose `aggregates` table holds the work: the reader need not know the
/// producers' partitioner or the partition count.
///
/// What is not held: usage requests (events with a `session`) are forgotten once the double-click rule
/// can no longer change them (the usage horizon, PartitionEngine+Horizon.swift). Their contribution
/// stays in the aggregates, so a page lists such (source, metric)s in `incomplete`.
///
/// Stores are opened once and kept open. Partitions that appear later (the processor opens a store on
/// its first record) are opened when a work is not found in the open ones; partitions whose store
/// cannot be opened (an older schema the processor has not rebuilt yet) are retried at most every
/// `retryInterval`. A store the processor removed and rebuilt (after corruption or a schema change) is
/// still read as the deleted file it was: create a new reader after such a rebuild.
public struct ProvenanceReader: Sendable {
    public static let maximumLimit = 1000

    public let stateDirectory: URL
    /// The processor's rules: robots and the double-click window decide `counted`, the usage lateness
    /// `held_from`. Give the reader the same configuration as the processor.
    public let rules: AggregationRules
    private let stores: ProvenanceStores

    /// Opens every partition store of `stateDirectory` that can be opened, read-only. Throws only when
    /// the directory cannot be listed (a missing directory holds no partitions).
    public init(stateDirectory: URL, rules: AggregationRules, retryInterval: TimeInterval = 30) throws {
        self.stateDirectory = stateDirectory
        self.rules = rules
        stores = ProvenanceStores(directory: stateDirectory, retryInterval: retryInterval)
        try stores.refresh(retryFailed: true)
    }

    /// Closes the stores; later pages throw.
    public func close() { stores.close() }

    /// Partitions whose store could not be opened, with why (`.notFound` ones, which hold no state yet,
    /// are not listed).
    public var unavailablePartitions: [Int32: StoreError] { stores.failures }

    /// One page of the deciding records of `work` (any DOI spelling): events, then totals, then counts,
    /// each in key order; with `source`, only that source's; with `metric`, only records of that metric
    /// (filtered after decoding; the page still holds `limit` items when that many match). `cursor` is a
    /// previous page's `nextCursor` for the same work, source and metric. An unknown work gives an empty
    /// page with `found == false`.
    ///
    /// Throws `ProvenanceError` (`.invalidWork`, `.invalidLimit`, `.invalidCursor`: the request's fault;
    /// `.unavailable`: the work is in no open store while some partition's store cannot be opened;
    /// `.unreadableState`: a stored row does not decode) or a `StoreError` of the store.
    public func page(work: String, source: String?, metric: String?, cursor: String?, limit: Int) throws -> ProvenancePage {
        let work = try Self.normalized(work)
        guard (1...Self.maximumLimit).contains(limit) else {
            throw ProvenanceError(.invalidLimit, "limit must lie in 1...\(Self.maximumLimit), got \(limit)")
        }
        let query = ProvenanceQuery(work: work, source: source, metric: metric)
        let position = try cursor.map { try ProvenanceCursor.decode($0, for: query) }

        if let page = try page(query, after: position, limit: limit, in: stores.open) { return page }
        // Not in the open stores: perhaps in a partition created (or rebuilt) since.
        let opened = try stores.refresh(retryFailed: false)
        if let page = try page(query, after: position, limit: limit, in: opened) { return page }
        let failures = stores.failures
        guard failures.isEmpty else {
            let list = failures.keys.sorted().map { "\($0): \(failures[$0]!.code)" }.joined(separator: ", ")
            throw ProvenanceError(
                .unavailable,
                "\(work) is in no readable partition store, and the stores of partitions \(list) cannot be opened "
                    + "(an older schema is rebuilt by `alm process` on start)")
        }
        return ProvenancePage(work: work, found: false, items: [], nextCursor: nil, incomplete: [])
    }

    /// The page from the store holding the work's aggregate, or nil when none of `stores` holds it.
    private func page(_ query: ProvenanceQuery, after cursor: ProvenanceCursor?, limit: Int,
                      in stores: [PartitionStore]) throws -> ProvenancePage? {
        for store in stores {
            // One read transaction: the aggregate, the records and the watermarks of one commit.
            let page = try store.read { view -> ProvenancePage? in
                guard let line = try view.aggregate(work: query.work) else { return nil }
                let aggregate: WorkAggregate
                do {
                    aggregate = try WorkAggregate(jsonLine: line)
                } catch {
                    throw ProvenanceError(.unreadableState, "\(store.databaseURL.path): aggregate of \(query.work): \(error)")
                }
                var reading = PageReading(view: view, query: query, rules: rules, path: store.databaseURL.path)
                return try reading.page(aggregate: aggregate, after: cursor, limit: limit)
            }
            if let page { return page }
        }
        return nil
    }

    static func normalized(_ work: String) throws(ProvenanceError) -> String {
        do {
            return try DOI.normalize(work)
        } catch {
            throw ProvenanceError(.invalidWork, "\"\(work.prefix(200))\" is not a DOI: \(error)")
        }
    }
}

// MARK: - Results

/// One page of provenance. Encodes as
/// `{"work", "found", "items": [...], "next_cursor"?, "incomplete": [...]}`.
public struct ProvenancePage: Sendable, Equatable, Encodable {
    /// The normalised work id.
    public var work: String
    /// False when the state holds no record of the work.
    public var found: Bool
    public var items: [ProvenanceItem]
    /// Pass it as `cursor` for the next page; nil on the last page.
    public var nextCursor: String?
    /// The (source, metric)s in scope whose aggregate number does not rest entirely on held records,
    /// sorted by source, then metric. Reported on every page (it describes the work, not the page).
    public var incomplete: [ProvenanceGap]

    public init(work: String, found: Bool, items: [ProvenanceItem], nextCursor: String?, incomplete: [ProvenanceGap]) {
        self.work = work
        self.found = found
        self.items = items
        self.nextCursor = nextCursor
        self.incomplete = incomplete
    }

    /// The sources listed in `incomplete`, sorted, each once.
    public var incompleteSources: [String] {
        var seen = Set<String>()
        return incomplete.map(\.source).filter { seen.insert($0).inserted }
    }

    enum CodingKeys: String, CodingKey {
        case work, found, items, incomplete
        case nextCursor = "next_cursor"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(work, forKey: .work)
        try container.encode(found, forKey: .found)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)  // null on the last page
        try container.encode(incomplete, forKey: .incomplete)
    }
}

/// One deciding record, as the API shows it. The `session` and `agent` of usage requests are personal
/// data and are never exposed: `usage` says a session was present, `robot` that the agent matched the
/// COUNTER-Robots list. `meta` is not exposed either.
public struct ProvenanceItem: Sendable, Equatable, Encodable {
    public var kind: RawEvent.Kind
    /// Events only: the source's id of the occurrence.
    public var id: String?
    public var source: String
    public var metric: String
    public var subj: String?
    public var obj: String?
    /// Events only.
    public var occurredAt: Timestamp?
    public var observedAt: Timestamp
    /// Counts only.
    public var period: Period?
    public var value: UInt64
    /// Events only: `add`, or `delete` (a retraction that decides).
    public var action: RawEvent.Action?
    /// An event with a `session`: a usage request, judged by the double-click rule.
    public var usage: Bool
    /// The event's agent matches the robot list.
    public var robot: Bool
    /// true: `value` counts in the aggregate; false: it does not (`notCountedReason` says why); nil:
    /// undetermined (not produced by `ProvenanceReader`, which always reads the double-click window).
    public var counted: Bool?
    public var notCountedReason: NotCountedReason?

    public init(_ record: RawEvent, status: CountStatus, robot: Bool) {
        kind = record.kind
        id = record.kind == .event ? record.id : nil
        source = record.source
        metric = record.metric
        subj = record.subj
        obj = record.obj
        occurredAt = record.kind == .event ? record.occurredAt : nil
        observedAt = record.observedAt
        period = record.kind == .count ? record.period : nil
        value = record.value
        action = record.kind == .event ? record.action : nil
        usage = record.kind == .event && record.session != nil
        self.robot = robot
        counted = status.isCounted
        notCountedReason = status.notCountedReason
    }

    enum CodingKeys: String, CodingKey {
        case kind, id, source, metric, subj, obj, period, value, action, usage, robot, counted
        case occurredAt = "occurred_at", observedAt = "observed_at", notCountedReason = "not_counted_reason"
    }

    /// Absent fields are left out, except `counted`, which is always there (null when undetermined).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind.rawValue, forKey: .kind)
        try container.encodeIfPresent(id, forKey: .id)
        try container.encode(source, forKey: .source)
        try container.encode(metric, forKey: .metric)
        try container.encodeIfPresent(subj, forKey: .subj)
        try container.encodeIfPresent(obj, forKey: .obj)
        try container.encodeIfPresent(occurredAt?.text, forKey: .occurredAt)
        try container.encode(observedAt.text, forKey: .observedAt)
        try container.encodeIfPresent(period?.text, forKey: .period)
        try container.encode(value, forKey: .value)
        try container.encodeIfPresent(action?.rawValue, forKey: .action)
        try container.encode(usage, forKey: .usage)
        try container.encode(robot, forKey: .robot)
        try container.encode(counted, forKey: .counted)
        try container.encodeIfPresent(notCountedReason?.rawValue, forKey: .notCountedReason)
    }
}

/// A (source, metric) whose aggregate number differs from what its held deciding records count.
/// Encodes as `{"source", "metric", "reason", "aggregate", "held", "held_from"?, "note"}`.
public struct ProvenanceGap: Sendable, Equatable, Encodable {
    public enum Reason: String, Sendable {
        /// The aggregate counts more: usage requests older than `heldFrom` were counted and then
        /// forgotten (they remain in the source's raw topic for its retention).
        case usageForgotten = "usage_forgotten"
        /// The held records count more than the aggregate: the reader's rules (robot list, double-click
        /// window) differ from the processor's. Not expected.
        case rulesDiffer = "rules_differ"
    }

    public var source: String
    public var metric: String
    public var reason: Reason
    /// The work's aggregate number for (source, metric).
    public var aggregate: UInt64
    /// What the held deciding records of (source, metric) count.
    public var held: UInt64
    /// Usage requests of the source before this instant are no longer held individually (from the
    /// stored watermark and the rules' usage lateness); nil when unknown.
    public var heldFrom: Timestamp?

    public init(source: String, metric: String, reason: Reason, aggregate: UInt64, held: UInt64, heldFrom: Timestamp?) {
        self.source = source
        self.metric = metric
        self.reason = reason
        self.aggregate = aggregate
        self.held = held
        self.heldFrom = heldFrom
    }

    public var note: String {
        switch reason {
        case .usageForgotten:
            let since = heldFrom.map { " before \($0.text)" } ?? ""
            return "\(aggregate - held) of the \(aggregate) \(metric) counted for \(source) rest on usage requests\(since) "
                + "that are no longer held individually (the processor forgets a request once the double-click rule "
                + "can no longer change it); they remain in alm.raw.\(source) for its retention"
        case .rulesDiffer:
            return "the held records count \(held) \(metric) for \(source) but the aggregate \(aggregate): this reader's "
                + "rules (robot list, double-click window) differ from the processor's"
        }
    }

    enum CodingKeys: String, CodingKey {
        case source, metric, reason, aggregate, held, note
        case heldFrom = "held_from"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(source, forKey: .source)
        try container.encode(metric, forKey: .metric)
        try container.encode(reason.rawValue, forKey: .reason)
        try container.encode(aggregate, forKey: .aggregate)
        try container.encode(held, forKey: .held)
        try container.encodeIfPresent(heldFrom?.text, forKey: .heldFrom)
        try container.encode(note, forKey: .note)
    }
}

/// Why a page could not be given. `isClientError`: the request is at fault (HTTP 400).
public struct ProvenanceError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The work is not a DOI.
        case invalidWork = "invalid_work"
        /// The limit is outside 1...ProvenanceReader.maximumLimit.
        case invalidLimit = "invalid_limit"
        /// The cursor is not one this reader gave, or was given for another work, source or metric.
        case invalidCursor = "invalid_cursor"
        /// The work is in no readable store and some partition's store cannot be opened (HTTP 503).
        case unavailable
        /// A stored row does not decode (HTTP 500).
        case unreadableState = "unreadable_state"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var isClientError: Bool { [.invalidWork, .invalidLimit, .invalidCursor].contains(code) }

    public var description: String { "\(code.rawValue): \(message)" }
}

// MARK: - Query and cursor

struct ProvenanceQuery {
    let work: String
    let source: String?
    let metric: String?

    /// FNV-1a (32 bits) of the query: a cursor carries it, so a cursor reused with another work,
    /// source or metric is refused instead of silently skipping or repeating records.
    var fingerprint: UInt32 {
        var hash: UInt32 = 0x811C_9DC5
        func mix(_ byte: UInt8) {
            hash = (hash ^ UInt32(byte)) &* 0x0100_0193
        }
        for field in [work, source, metric] {
            guard let field else {
                mix(0)
                continue
            }
            mix(1)
            let count = UInt32(field.utf8.count)
            for shift in stride(from: 24, through: 0, by: -8) { mix(UInt8(truncatingIfNeeded: count >> UInt32(shift))) }
            for byte in field.utf8 { mix(byte) }
        }
        return hash
    }
}

/// Where a page ended: the key of its last item. Opaque to clients: base64url (no padding) of
/// `version (1) · query fingerprint (4 bytes, big-endian) · state key`. The key's first byte is its
/// kind, so the cursor says which of events, totals and counts to continue.
struct ProvenanceCursor: Equatable {
    static let version: UInt8 = 1
    static let maximumLength = 8192

    let key: [UInt8]
    /// Index in `StateKey.prefixes`: 0 events, 1 totals, 2 counts.
    let section: Int

    static func encode(key: [UInt8], for query: ProvenanceQuery) -> String {
        var bytes: [UInt8] = [version]
        let fingerprint = query.fingerprint
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: fingerprint >> UInt32(shift))) }
        bytes += key
        return base64URL(bytes)
    }

    static func decode(_ text: String, for query: ProvenanceQuery) throws(ProvenanceError) -> ProvenanceCursor {
        func invalid(_ why: String) -> ProvenanceError {
            ProvenanceError(.invalidCursor, "cursor \"\(text.prefix(40))\(text.count > 40 ? "…" : "")\" \(why); "
                                + "give the next_cursor of a previous page of the same query, or none")
        }
        guard text.utf8.count <= maximumLength else { throw invalid("is too long") }
        guard let bytes = bytes(base64URL: text) else { throw invalid("is not base64url") }
        guard bytes.count > 5 else { throw invalid("is too short") }
        guard bytes[0] == version else { throw invalid("is of another version") }
        let fingerprint = bytes[1...4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard fingerprint == query.fingerprint else { throw invalid("belongs to another work, source or metric") }
        let key = Array(bytes[5...])
        let prefixes = StateKey.prefixes(work: query.work, source: query.source)
        guard let section = prefixes.firstIndex(where: { key.starts(with: $0.prefix) }),
              StateKey(bytes: key).fields != nil
        else { throw invalid("does not name a record of this work") }
        return ProvenanceCursor(key: key, section: section)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    /// Only the canonical spelling `base64URL` gives is accepted (no padding, no stray bits).
    static func bytes(base64URL text: String) -> [UInt8]? {
        let allowed = text.utf8.allSatisfy { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        guard allowed, text.utf8.count % 4 != 1 else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: standard) else { return nil }
        let bytes = [UInt8](data)
        return base64URL(bytes) == text ? bytes : nil
    }
}

// MARK: - Reading one page

/// The reads of one page inside one read transaction of the work's store.
private struct PageReading {
    let view: StoreView
    let query: ProvenanceQuery
    let rules: AggregationRules
    let path: String
    /// Per source, when needed: the source's held records of the work, judged together (the double-click
    /// windows of its usage requests, and what they count per metric).
    var held: [String: HeldSource] = [:]

    init(view: StoreView, query: ProvenanceQuery, rules: AggregationRules, path: String) {
        self.view = view
        self.query = query
        self.rules = rules
        self.path = path
    }

    struct HeldSource {
        var windows: UsageWindows
        /// metric → sum of counted values of the held records.
        var counted: [String: UInt64] = [:]
    }

    mutating func page(aggregate: WorkAggregate, after cursor: ProvenanceCursor?, limit: Int) throws -> ProvenancePage {
        var matched: [DecidingRecord] = []
        let prefixes = StateKey.prefixes(work: query.work, source: query.source)
        sections: for (section, prefix) in prefixes.enumerated() where section >= (cursor?.section ?? 0) {
            var after = section == cursor?.section ? cursor?.key : nil
            // Without a metric filter every row read is an item: read one more than needed, to know
            // whether a next page exists. With one, read on in larger steps until enough match.
            let chunk = query.metric == nil ? limit + 1 - matched.count : max(limit + 1, 256)
            while true {
                var last: [UInt8]?
                let read = try view.forEachRecord(withPrefix: prefix.prefix, after: after, limit: chunk) { key, value in
                    last = key
                    let record = try decode(key: key, value: value)
                    if let metric = query.metric, record.record.metric != metric { return }
                    matched.append(record)
                }
                if matched.count > limit { break sections }
                guard read == chunk, let last else { break }
                after = last
            }
        }
        let hasMore = matched.count > limit
        if hasMore { matched.removeLast(matched.count - limit) }

        var items: [ProvenanceItem] = []
        items.reserveCapacity(matched.count)
        for decided in matched {
            let record = decided.record
            var status = rules.countStatus(of: record)
            if status == .undetermined {
                status = rules.countStatus(of: record, windows: try heldSource(record.source).windows)
            }
            items.append(ProvenanceItem(record, status: status, robot: record.kind == .event && rules.isRobot(record)))
        }
        return ProvenancePage(
            work: query.work, found: true, items: items,
            nextCursor: hasMore ? matched.last.map { ProvenanceCursor.encode(key: $0.key.bytes, for: query) } : nil,
            incomplete: try gaps(aggregate))
    }

    /// The (source, metric)s in scope whose aggregate number is not what the held records count. Only
    /// sources with a usage watermark can have forgotten records (non-usage records are held for ever),
    /// so only their records are read; with the default horizon that is about two days of requests.
    mutating func gaps(_ aggregate: WorkAggregate) throws -> [ProvenanceGap] {
        var watermarks: [String: Int64] = [:]
        let watermarkPrefix = [StateKey.Kind.watermark.rawValue]
        try view.forEachRecord(withPrefix: watermarkPrefix) { key, value in
            guard let source = StateKey(bytes: key).fields?.first, let time = UsageWatermark.decode(value) else {
                throw ProvenanceError(.unreadableState, "\(path): malformed watermark row")
            }
            watermarks[source] = time
        }
        var gaps: [ProvenanceGap] = []
        for source in watermarks.keys.sorted(by: utf8Less) where query.source == nil || query.source == source {
            let metrics = Set(aggregate.sources[source, default: [:]].keys).union(try heldSource(source).counted.keys)
            for metric in metrics.sorted(by: utf8Less) where query.metric == nil || query.metric == metric {
                let counted = aggregate.sources[source]?[metric] ?? 0
                let held = try heldSource(source).counted[metric] ?? 0
                guard counted != held else { continue }
                gaps.append(ProvenanceGap(
                    source: source, metric: metric, reason: counted > held ? .usageForgotten : .rulesDiffer,
                    aggregate: counted, held: held,
                    heldFrom: rules.usageHeldFrom(watermark: watermarks[source]!).flatMap(Timestamp.init(microsecondsSinceEpoch:))))
            }
        }
        return gaps
    }

    mutating func heldSource(_ source: String) throws -> HeldSource {
        if let known = held[source] { return known }
        var records: [RawEvent] = []
        for (_, prefix) in StateKey.prefixes(work: query.work, source: source) {
            try view.forEachRecord(withPrefix: prefix) { key, value in records.append(try decode(key: key, value: value).record) }
        }
        var result = HeldSource(windows: UsageWindows(records: records, rules: rules))
        for record in records {
            let value = rules.countStatus(of: record, windows: result.windows).countedValue
            if value > 0 { result.counted[record.metric, default: 0] += value }
        }
        held[source] = result
        return result
    }

    func decode(key: [UInt8], value: [UInt8]) throws -> DecidingRecord {
        do {
            return try DecidingRecord(key: key, value: value)
        } catch {
            throw ProvenanceError(.unreadableState, "\(path): record \(StateKey(bytes: key).fields ?? []): \(error)")
        }
    }
}

// MARK: - The stores

/// The read-only stores of a state directory, opened as partitions appear.
private final class ProvenanceStores: @unchecked Sendable {
    let directory: URL
    let retryInterval: TimeInterval
    private let lock = NSLock()
    private var stores: [Int32: PartitionStore] = [:]
    private var failed: [Int32: (error: StoreError, at: Date)] = [:]
    private var closed = false

    init(directory: URL, retryInterval: TimeInterval) {
        self.directory = directory
        self.retryInterval = retryInterval
    }

    /// The open stores in partition order.
    var open: [PartitionStore] {
        lock.withLock { stores.keys.sorted().map { stores[$0]! } }
    }

    var failures: [Int32: StoreError] {
        lock.withLock { failed.filter { $0.value.error.code != .notFound }.mapValues(\.error) }
    }

    /// Opens the partitions of the directory not open yet; those that failed before only when
    /// `retryFailed` or `retryInterval` has passed. Returns the stores it opened.
    @discardableResult
    func refresh(retryFailed: Bool) throws -> [PartitionStore] {
        let partitions = try PartitionStore.partitions(in: directory)
        return try lock.withLock {
            guard !closed else { throw StoreError(.closed, "the provenance reader is closed", path: directory.path) }
            var opened: [PartitionStore] = []
            let now = Date()
            for partition in partitions where stores[partition] == nil {
                if let failure = failed[partition], !retryFailed, now.timeIntervalSince(failure.at) < retryInterval { continue }
                do {
                    let store = try PartitionStore(directory: directory, partition: partition, readOnly: true)
                    stores[partition] = store
                    failed[partition] = nil
                    opened.append(store)
                } catch let error as StoreError {
                    failed[partition] = (error, now)
                } catch {
                    failed[partition] = (StoreError(.io, "\(error)", path: directory.path), now)
                }
            }
            return opened
        }
    }

    func close() {
        let all = lock.withLock {
            closed = true
            defer { stores.removeAll() }
            return Array(stores.values)
        }
        for store in all { store.close() }
    }
}
