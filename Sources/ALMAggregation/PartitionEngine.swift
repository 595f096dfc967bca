import ALMCore
import HeapModule

/// The counting rules of design.md, applied to the records of one partition. The result depends only
/// on the set of records applied, never on their order or on duplicates:
///
/// - `event`: per (work, source, id) the record with the latest `occurred_at` decides; on a tie `delete`
///   wins, then the greater canonical encoding (so any two records have one winner). The event counts
///   its `value` when the deciding record is an `add` whose `agent` is not a robot.
/// - usage events (events with a `session`) additionally follow COUNTER R5's double-click rule per
///   (source, session, work, metric): a request followed by another within 30 s (inclusive) is not
///   counted, so the last of a burst counts. Requests at the same instant are ordered by id.
/// - `total`: per (work, source, metric) the newest `observed_at` wins; on a tie the larger value, then
///   the greater encoding.
/// - `count`: per (work, source, metric, period) likewise; a metric's number is the sum over periods.
///
/// The engine keeps only deciding records and the aggregates, which it maintains incrementally;
/// `recomputedAggregate` derives them from scratch instead, which the tests use to check the increments.
///
/// With `rules.usageLatenessMicroseconds` set, usage state is bounded (see PartitionEngine+Horizon.swift):
/// `admit` rejects usage records older than the source's horizon, and usage records whose window can no
/// longer change are forgotten. Their contribution stays in the aggregates, which are therefore stored
/// and restored alongside the deciding records rather than recomputed from them.
public final class PartitionEngine {
    public let rules: AggregationRules

    /// The deciding record of each identity, compact (`HeldRecord`).
    var decided: [StateKey: HeldRecord] = [:]
    var windows: [StateKey: [WindowEntry]] = [:]
    var works: [WorkKey: WorkState] = [:]
    var dirtyRecords: Set<StateKey> = []
    var dirtyWorks: Set<WorkKey> = []
    /// Records forgotten since the last drain, to delete from the store.
    var evictedRecords: Set<StateKey> = []
    /// Per source: the latest usage event time seen (capped by its `observed_at`).
    var watermarks: [String: Int64] = [:]
    /// Per source: when each held usage record may be forgotten (lazily cleaned: an entry whose record
    /// has been replaced is skipped when it comes up).
    var expiryQueues: [String: Heap<Expiry>] = [:]

    public init(rules: AggregationRules) {
        self.rules = rules
    }

    /// Number of deciding records held (events, totals, counts).
    public var recordCount: Int { decided.count }
    public var workCount: Int { works.count }

    /// Applies one valid record. Returns false when it changed nothing (a duplicate, or a record
    /// that loses to the one already deciding).
    /// Ignores the usage horizon: `admit` is the processor's entry point.
    @discardableResult
    public func apply(_ record: RawEvent) -> Bool {
        let work = WorkKey(text: record.work)
        let sawNew = noteSeen(work, at: recordTime(record))
        let key = stateKey(of: record)
        let usage = isUsage(record)
        if usage { forgetIfExpired(key, source: record.source) }
        let held = HeldRecord(record, row: StoredRecord.value(of: record))
        let current = decided[key]
        if let current, !beats(record, held, current, key: key) { return sawNew }
        decided[key] = held
        dirtyRecords.insert(key)
        let previous = current.map { self.record(of: $0, key: key) }
        let before = previous.map { effect(of: $0, key: key) } ?? .none
        let after = effect(of: record, key: key)
        if usage {
            evictedRecords.remove(key)
            scheduleExpiry(of: key, source: record.source, held: held, effect: after)
        }
        apply(from: before, to: after, replacing: previous, with: record)
        return true
    }

    /// The aggregate of one work, or nil when no record of it was applied.
    public func aggregate(_ work: String) -> WorkAggregate? {
        works[WorkKey(text: work)].map { $0.aggregate(work: work) }
    }

    public func allAggregates() -> [WorkAggregate] {
        works.map { $0.value.aggregate(work: $0.key.text) }
    }

    // MARK: - Persistence

    /// What changed since the last call: the state records to upsert (key, value) and to delete, and
    /// the works whose aggregate changed. Values are a deciding record's `StoredRecord.value`, or for
    /// `.watermark` keys a big-endian Int64 (microseconds).
    public func drainChanges() -> EngineChanges {
        var changes = EngineChanges()
        changes.upserts.reserveCapacity(dirtyRecords.count)
        for key in dirtyRecords {
            if key.kind == .watermark {
                guard let source = key.fields?.first, let time = watermarks[source] else { continue }
                changes.upserts.append((key, encodeInt64(time)))
            } else if let held = decided[key] {
                changes.upserts.append((key, held.row))
            }
        }
        changes.deletes = Array(evictedRecords)
        changes.changedWorks = dirtyWorks.compactMap { work in works[work].map { (work.text, $0) } }
        discardChanges()
        return changes
    }

    /// Forgets pending changes (after a restore, whose records are already stored).
    public func discardChanges() {
        dirtyRecords.removeAll(keepingCapacity: true)
        dirtyWorks.removeAll(keepingCapacity: true)
        evictedRecords.removeAll(keepingCapacity: true)
    }

    /// Loads one stored aggregate (from `drainChanges().works`) while restoring a partition.
    public func restoreAggregate(_ aggregate: WorkAggregate) {
        let key = WorkKey(text: aggregate.work)
        var state = WorkState(aggregate)
        state.authorEvents = works[key]?.authorEvents ?? [:]
        works[key] = state
    }

    /// Loads one stored state record (from `drainChanges().upserts`) while restoring a partition. The
    /// aggregates are restored separately: held records no longer imply them once usage records have
    /// been forgotten.
    public func restore(key: StateKey, value: [UInt8]) throws(RestoreError) {
        switch key.kind {
        case .watermark:
            guard let source = key.fields?.first, let time = decodeInt64(value) else {
                throw RestoreError("malformed watermark entry")
            }
            watermarks[source] = time
        case .event, .total, .count:
            let record = try StoredRecord.record(key: key, value: value)
            let held = HeldRecord(record, row: value)
            decided[key] = held
            let effect = effect(of: record, key: key)
            if isUsage(record) { scheduleExpiry(of: key, source: record.source, held: held, effect: effect) }
            switch effect {
            case .window(let windowKey, let entry): insertEntry(entry, into: windowKey)
            case .direct(let contribution):
                // Authors are not in the stored aggregate line (only their number is): every event with a
                // known author is a non-usage record, held for good, so they are counted again from the records.
                if let author = contribution.author {
                    works[WorkKey(text: record.work), default: WorkState()].countAuthor(author, of: record.source, sign: 1)
                }
            case .none: break
            }
        case .window, nil:
            throw RestoreError("unknown state key kind \(key.bytes.first.map(String.init) ?? "none")")
        }
    }

    // MARK: - Rules

    func stateKey(of record: RawEvent) -> StateKey {
        StateKey(decidingRecordOf: record)
    }

    /// True when `candidate` (held as `held`) should replace `current` as the deciding record of `key`.
    private func beats(_ candidate: RawEvent, _ held: HeldRecord, _ current: HeldRecord, key: StateKey) -> Bool {
        switch candidate.kind {
        case .event:
            // An event always has an `occurred_at`, which is its `time`.
            if held.time != current.time { return held.time > current.time }
            if held.isDelete != current.isDelete { return held.isDelete }
        case .total, .count:
            if held.observedAt != current.observedAt { return held.observedAt > current.observedAt }
            if held.value != current.value { return held.value > current.value }
        }
        // Equal rows are the same record (a re-delivery); otherwise the greater canonical JSON wins.
        if held.row == current.row { return false }
        return record(of: current, key: key).encodedJSON().lexicographicallyPrecedes(candidate.encodedJSON())
    }

    /// The full record of a held one (decoded from its compact row and key).
    func record(of held: HeldRecord, key: StateKey) -> RawEvent {
        do {
            return try StoredRecord.record(key: key, value: held.row)
        } catch {
            preconditionFailure("a held record does not decode: \(error)")
        }
    }

    func recordTime(_ record: RawEvent) -> Int64 {
        record.kind == .event ? (record.occurredAt ?? record.observedAt).microsecondsSinceEpoch
                              : record.observedAt.microsecondsSinceEpoch
    }

    enum Effect {
        case none
        case direct(Contribution)
        case window(StateKey, WindowEntry)

        var isWindow: Bool {
            if case .window = self { true } else { false }
        }
    }

    /// `key`, when the caller has it, is the record's state key (saves building it again).
    func effect(of record: RawEvent, key: StateKey? = nil) -> Effect {
        rules.effect(of: record, key: key)
    }

    private func apply(from before: Effect, to after: Effect, replacing previous: RawEvent?, with record: RawEvent) {
        let work = WorkKey(text: record.work)
        if !before.isWindow && !after.isWindow {
            // The common case, without the bookkeeping below: the old contribution out, the new one in.
            var removal: Contribution?, addition: Contribution?
            if case .direct(let contribution) = before { removal = contribution }
            if case .direct(let contribution) = after { addition = contribution }
            guard removal != nil || addition != nil else { return }
            let categories = rules.categories
            Self.update(&works[work, default: WorkState()]) { state in
                if let removal { state.add(removal, sign: -1, categories: categories) }
                if let addition { state.add(addition, sign: 1, categories: categories) }
            }
            dirtyWorks.insert(work)
            return
        }
        // Window effects change the counted status of neighbours, so each touched window's whole
        // contribution is replaced: windows hold one session's requests for one work, a handful.
        var touched: [StateKey: [Contribution]] = [:]
        for case .window(let key, _) in [before, after] where touched[key] == nil {
            forgetExpiredEntries(of: key)
            touched[key] = windowContributions(windows[key] ?? [])
        }
        var removals: [Contribution] = [], additions: [Contribution] = []
        if case .direct(let contribution) = before { removals.append(contribution) }
        if case .window(let key, let entry) = before { removeEntry(entry, from: key) }
        if case .window(let key, let entry) = after { insertEntry(entry, into: key) }
        if case .direct(let contribution) = after { additions.append(contribution) }
        for (key, old) in touched {
            removals += old
            additions += windowContributions(windows[key] ?? [])
        }
        guard !(removals.isEmpty && additions.isEmpty) else { return }
        let categories = rules.categories
        // In place: a copy of the state taken out of `works` would copy its dictionaries on first change.
        Self.update(&works[work, default: WorkState()]) { state in
            for contribution in removals { state.add(contribution, sign: -1, categories: categories) }
            for contribution in additions { state.add(contribution, sign: 1, categories: categories) }
        }
        dirtyWorks.insert(work)
    }

    private func windowContributions(_ entries: [WindowEntry]) -> [Contribution] {
        var counted: [Contribution] = []
        for (index, entry) in entries.enumerated() {
            if rules.isFollowedWithinWindow(entries, at: index) { continue }
            counted.append(Contribution(source: entry.source, metric: entry.metric, month: month(of: entry.time), value: entry.value))
        }
        return counted
    }

    func insertEntry(_ entry: WindowEntry, into key: StateKey) {
        var entries = windows[key] ?? []
        let index = entries.firstIndex { entry < $0 } ?? entries.endIndex
        entries.insert(entry, at: index)
        windows[key] = entries
    }

    func removeEntry(_ entry: WindowEntry, from key: StateKey) {
        guard var entries = windows[key], let index = entries.firstIndex(of: entry) else { return }
        entries.remove(at: index)
        windows[key] = entries.isEmpty ? nil : entries
    }

    private func noteSeen(_ work: WorkKey, at time: Int64) -> Bool {
        let changed = Self.update(&works[work, default: WorkState()]) { state in
            let first = min(state.firstSeen ?? time, time), last = max(state.lastSeen ?? time, time)
            guard first != state.firstSeen || last != state.lastSeen else { return false }
            state.firstSeen = first
            state.lastSeen = last
            return true
        }
        if changed { dirtyWorks.insert(work) }
        return changed
    }

    /// Runs `body` on a value in place (`&dictionary[key, default: …]` mutates the stored value).
    static func update<Value, Result>(_ value: inout Value, _ body: (inout Value) -> Result) -> Result {
        body(&value)
    }

    // MARK: - From scratch, for verification

    /// The aggregate of `work` computed from the deciding records alone, without the increments.
    public func recomputedAggregate(_ work: String) -> WorkAggregate? {
        let key = WorkKey(text: work)
        guard let seen = works[key] else { return nil }
        var state = WorkState()
        state.firstSeen = seen.firstSeen
        state.lastSeen = seen.lastSeen
        var freshWindows: [StateKey: [WindowEntry]] = [:]
        for (recordKey, held) in decided where recordKey.fields?.first.map(WorkKey.init(text:)) == key {
            let record = self.record(of: held, key: recordKey)
            switch effect(of: record) {
            case .none: break
            case .direct(let contribution): state.add(contribution, sign: 1, categories: rules.categories)
            case .window(let windowKey, let entry): freshWindows[windowKey, default: []].append(entry)
            }
        }
        for entries in freshWindows.values {
            for contribution in windowContributions(entries.sorted()) {
                state.add(contribution, sign: 1, categories: rules.categories)
            }
        }
        return state.aggregate(work: work)
    }
}

public struct AggregationRules: Sendable {
    public var categories: CategoryMap
    public var robots: RobotMatcher
    /// COUNTER R5: a request followed by another within this time (inclusive) is not counted.
    public var doubleClickWindowMicroseconds: Int64
    /// How far behind its source's latest usage event a usage record may arrive; older ones are late.
    /// nil keeps every usage record forever (and accepts any).
    public var usageLatenessMicroseconds: Int64?

    public init(categories: CategoryMap = CategoryMap(), robots: RobotMatcher = .none,
                doubleClickWindowMicroseconds: Int64 = 30_000_000, usageLatenessMicroseconds: Int64? = nil) {
        precondition(usageLatenessMicroseconds.map { $0 >= 0 } ?? true, "lateness must not be negative")
        self.categories = categories
        self.robots = robots
        self.doubleClickWindowMicroseconds = doubleClickWindowMicroseconds
        self.usageLatenessMicroseconds = usageLatenessMicroseconds
    }
}

public struct RestoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

struct Contribution {
    let source: String
    let metric: String
    let month: String
    let value: UInt64
    /// The author of a counted event, when known (RawEvent.author); nil for usage, totals and counts.
    var author: String? = nil
}

/// What `drainChanges` hands to the store: one batch's worth.
public struct EngineChanges {
    public var upserts: [(key: StateKey, value: [UInt8])] = []
    public var deletes: [StateKey] = []
    var changedWorks: [(work: String, state: WorkState)] = []

    /// The aggregates of the works that changed.
    public var works: [WorkAggregate] { changedWorks.map { $0.state.aggregate(work: $0.work) } }

    /// Their `jsonLine()`s, written straight from the engine's state.
    public var aggregateLines: [(work: String, line: [UInt8])] { changedWorks.map { ($0.work, $0.state.jsonLine(work: $0.work)) } }
}

struct WindowEntry: Comparable {
    let time: Int64
    let id: [UInt8]
    let value: UInt64
    let source: String
    let metric: String
    /// The deciding record this request is (its `.event` state key).
    let recordKey: StateKey

    static func < (a: WindowEntry, b: WindowEntry) -> Bool {
        a.time != b.time ? a.time < b.time : a.id.lexicographicallyPrecedes(b.id)
    }

    static func == (a: WindowEntry, b: WindowEntry) -> Bool {
        a.time == b.time && a.id == b.id && a.value == b.value
    }
}

/// `YYYY-MM` of an instant ("" outside the years a timestamp may have), without formatting the whole
/// timestamp: it is asked once per usage and count record.
func month(of microseconds: Int64) -> String {
    let days = microseconds >= 0 ? microseconds / 86_400_000_000 : (microseconds + 1) / 86_400_000_000 - 1
    let date = civilDate(daysSinceEpoch: days)
    guard (0...9999).contains(date.year) else { return "" }
    // Seven ASCII bytes: a small string, built without formatting numbers.
    return String(unsafeUninitializedCapacity: 7) { buffer in
        func digit(_ value: Int) -> UInt8 { UInt8(ascii: "0") + UInt8(value % 10) }
        buffer[0] = digit(date.year / 1000)
        buffer[1] = digit(date.year / 100)
        buffer[2] = digit(date.year / 10)
        buffer[3] = digit(date.year)
        buffer[4] = UInt8(ascii: "-")
        buffer[5] = digit(date.month / 10)
        buffer[6] = digit(date.month)
        return 7
    }
}

func encodeInt64(_ value: Int64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: value >> Int64(56 - 8 * $0)) }
}

func decodeInt64(_ bytes: [UInt8]) -> Int64? {
    guard bytes.count == 8 else { return nil }
    return bytes.reduce(0) { $0 << 8 | Int64($1) }
}
