import ALMCore

/// A deciding record as the partition state store holds it: a row of the `records` table whose key is
/// an `.event`, `.total` or `.count` `StateKey` and whose value is the record's compact encoding without
/// the key's fields (`StoredRecord.value(of:)`, what `PartitionEngine.drainChanges` hands to the store).
public struct DecidingRecord: Sendable, Hashable {
    public let key: StateKey
    public let record: RawEvent

    /// Decodes a stored row; throws when the value does not decode or is not the record of its key
    /// (a watermark row, a damaged row, a row of another layout).
    public init(key: [UInt8], value: [UInt8]) throws(RestoreError) {
        let key = StateKey(bytes: key)
        self.record = try StoredRecord.record(key: key, value: value)
        self.key = key
    }

    public init(_ record: RawEvent) {
        key = StateKey(decidingRecordOf: record)
        self.record = record
    }
}

/// Why a deciding record adds nothing to its work's aggregate.
public enum NotCountedReason: String, Sendable, Hashable, CaseIterable {
    /// The deciding record of the event is a `delete`: the event is retracted.
    case deleted
    /// The record's `agent` matches the COUNTER-Robots list.
    case robot
    /// A usage request followed by another of the same source, session, work and metric within the
    /// double-click window (COUNTER R5): only the last request of a burst counts.
    case doubleClick = "double_click"
}

/// Whether a deciding record counts in its work's aggregate as the state stands.
public enum CountStatus: Sendable, Hashable {
    /// Adds this value to the aggregate's (source, metric); a count adds it to the sum over periods.
    case counted(UInt64)
    case notCounted(NotCountedReason)
    /// A usage request judged without its double-click window (`UsageWindows`): whether it counts
    /// depends on the next request of its session, which was not given.
    case undetermined

    /// true / false, or nil when undetermined.
    public var isCounted: Bool? {
        switch self {
        case .counted: true
        case .notCounted: false
        case .undetermined: nil
        }
    }

    /// The value added to the aggregate (0 unless counted).
    public var countedValue: UInt64 {
        if case .counted(let value) = self { value } else { 0 }
    }

    public var notCountedReason: NotCountedReason? {
        if case .notCounted(let reason) = self { reason } else { nil }
    }
}

extension AggregationRules {
    /// True when the record's `agent` matches the robot list (such an event never counts).
    public func isRobot(_ record: RawEvent) -> Bool {
        record.agent.map(robots.isRobot) ?? false
    }

    /// How a deciding record counts, by the engine's own rules (`PartitionEngine.effect`): a total, a
    /// count and an `add` event by a non-robot count their value, a `delete` and a robot's event do not;
    /// a usage request (an event with a `session`) needs its double-click window, read from `windows`
    /// (`.undetermined` when nil or when the window does not hold the record).
    ///
    /// The answer is the record's standing in the current state: a later record can still change it
    /// (a retraction, a newer observation, a request of the same session within 30 s).
    public func countStatus(of record: RawEvent, windows: UsageWindows? = nil) -> CountStatus {
        switch effect(of: record) {
        case .none:
            return .notCounted(record.kind == .event && record.action == .delete ? .deleted : .robot)
        case .direct(let contribution):
            return .counted(contribution.value)
        case .window(let windowKey, let entry):
            guard let windows, let suppressed = windows.isSuppressed(entry, in: windowKey) else { return .undetermined }
            return suppressed ? .notCounted(.doubleClick) : .counted(entry.value)
        }
    }

    /// The earliest usage time still held individually, given a source's stored watermark
    /// (`UsageWatermark`): usage records of the source before it have been forgotten; their contribution
    /// stays in the aggregates. nil when these rules keep usage forever.
    public func usageHeldFrom(watermark: Int64) -> Int64? {
        guard let lateness = usageLatenessMicroseconds else { return nil }
        return watermark &- lateness &- doubleClickWindowMicroseconds
    }

    /// What a record adds to its work's aggregate. The one place the counting rules are decided, used by
    /// the engine and by `countStatus`. `key`, when the caller has it, is the record's state key.
    func effect(of record: RawEvent, key: StateKey? = nil) -> PartitionEngine.Effect {
        switch record.kind {
        case .event:
            guard record.action == .add else { return .none }
            if let agent = record.agent, robots.isRobot(agent) { return .none }
            let time = record.occurredAt?.microsecondsSinceEpoch ?? record.observedAt.microsecondsSinceEpoch
            if let session = record.session {
                return .window(StateKey(.window, record.source, session, record.work, record.metric),
                               WindowEntry(time: time, id: Array((record.id ?? "").utf8), value: record.value,
                                           source: record.source, metric: record.metric,
                                           recordKey: key ?? StateKey(decidingRecordOf: record)))
            }
            return .direct(Contribution(source: record.source, metric: record.metric, month: month(of: time), value: record.value,
                                        author: record.author))
        case .total:
            return .direct(Contribution(source: record.source, metric: record.metric,
                                        month: month(of: record.observedAt.microsecondsSinceEpoch), value: record.value))
        case .count:
            return .direct(Contribution(source: record.source, metric: record.metric,
                                        month: String(record.period?.text.prefix(7) ?? ""), value: record.value))
        }
    }

    /// COUNTER R5's double-click rule: the request at `index` of a window (sorted by time, then id) does
    /// not count when the next request follows within the window (inclusive).
    func isFollowedWithinWindow(_ entries: [WindowEntry], at index: Int) -> Bool {
        index + 1 < entries.count && entries[index + 1].time - entries[index].time <= doubleClickWindowMicroseconds
    }
}

/// The double-click windows of a set of held deciding records: per (source, session, work, metric) the
/// counted requests (adds by non-robots) in time order, as the engine holds them. Built from every held
/// record of a work and source, it judges each of their usage requests exactly as the engine does: a
/// request's standing depends only on the next request of its window, which is later, so it is held
/// whenever the request is (the engine forgets usage records oldest first).
public struct UsageWindows: Sendable {
    let rules: AggregationRules
    var windows: [StateKey: [WindowEntry]] = [:]

    public init(rules: AggregationRules) {
        self.rules = rules
    }

    public init(records: some Sequence<RawEvent>, rules: AggregationRules) {
        self.init(rules: rules)
        for record in records { add(record) }
    }

    /// Adds a held deciding record; anything but a usage request counted by the window is ignored.
    /// Add each deciding record once (a second copy would be a request of its own).
    public mutating func add(_ record: RawEvent) {
        guard case .window(let windowKey, let entry) = rules.effect(of: record) else { return }
        var entries = windows[windowKey] ?? []
        let index = entries.firstIndex { entry < $0 } ?? entries.endIndex
        entries.insert(entry, at: index)
        windows[windowKey] = entries
    }

    /// nil when the window does not hold the request.
    func isSuppressed(_ entry: WindowEntry, in windowKey: StateKey) -> Bool? {
        guard let entries = windows[windowKey], let index = entries.firstIndex(of: entry) else { return nil }
        return rules.isFollowedWithinWindow(entries, at: index)
    }
}

/// The stored usage watermark of a source: `records` row `StateKey(.watermark, source)`, whose value is
/// the latest usage time seen (microseconds since the epoch, big-endian Int64).
public enum UsageWatermark {
    public static func key(source: String) -> StateKey { StateKey(.watermark, source) }

    /// The watermark of a stored value; nil when malformed.
    public static func decode(_ value: [UInt8]) -> Int64? { decodeInt64(value) }
}
