import ALMCore
import HeapModule

/// Bounded usage state. Usage events (events with a `session`) are the bulk of the input, and the
/// double-click rule only ever compares requests less than 30 s apart, so a usage record need not be
/// held forever: only until no record that can still arrive could change whether it counts.
///
/// Per source (so per raw topic-partition, which is read in offset order) the engine keeps a
/// watermark: the latest usage `occurred_at` seen, capped by that record's `observed_at` (a clock-skewed
/// source cannot push it past what it has observed). The horizon is `watermark − lateness`.
/// - `admit` rejects a usage record whose `occurred_at` is before the horizon as late. The watermark
///   only depends on the records before it in its topic-partition, so replays, restarts and moved
///   partitions reject exactly the same records.
/// - A usage record whose time + 30 s is before the horizon is expired: every request that can still
///   arrive is more than 30 s later, so its counted status is final. Expired records are treated as
///   absent the moment they expire (before a record touches their identity or window), and removed
///   from memory and store by `forgetExpired` whenever convenient; when that happens changes nothing.
/// The cost: a record for an expired identity with a later `occurred_at` (a `delete` dated after the
/// request, or the request re-timed) no longer finds the request it refers to. Retract a usage request
/// with a `delete` carrying the request's own `occurred_at` (delete wins the tie).
extension PartitionEngine {
    public enum Admission: Equatable, Sendable {
        /// Applied; `changed` is false for a duplicate or a record that loses to the deciding one.
        case applied(changed: Bool)
        /// A usage record before its source's horizon (microseconds since the epoch).
        case late(horizon: Int64)
    }

    /// Applies a record unless it is a late usage record.
    public func admit(_ record: RawEvent) -> Admission {
        if rules.usageLatenessMicroseconds != nil, isUsage(record) {
            let time = recordTime(record)
            if let horizon = horizon(of: record.source), time < horizon { return .late(horizon: horizon) }
            let mark = min(time, record.observedAt.microsecondsSinceEpoch)
            if mark > watermarks[record.source] ?? .min {
                watermarks[record.source] = mark
                dirtyRecords.insert(StateKey(.watermark, record.source))
            }
        }
        return .applied(changed: apply(record))
    }

    /// The earliest usage `occurred_at` still accepted from `source`, or nil when anything is.
    public func horizon(of source: String) -> Int64? {
        guard let lateness = rules.usageLatenessMicroseconds, let watermark = watermarks[source] else { return nil }
        return watermark &- lateness
    }

    /// Forgets every expired usage record; returns how many. The next `drainChanges` lists them as
    /// deletes.
    @discardableResult
    public func forgetExpired() -> Int {
        var forgotten = 0
        for source in Array(expiryQueues.keys) {
            guard let limit = expiryLimit(of: source) else { continue }
            while let next = expiryQueues[source]?.min, next.time < limit {
                _ = expiryQueues[source]?.removeMin()
                if let held = decided[next.key], held.time == next.time {
                    // The record scheduled still decides (same row): its window is known.
                    forget(next.key, window: held.row == next.row ? next.window : .unknown)
                    forgotten += 1
                }
            }
            if expiryQueues[source]?.isEmpty == true { expiryQueues[source] = nil }
        }
        return forgotten
    }

    // MARK: - Internals used by apply and restore

    func isUsage(_ record: RawEvent) -> Bool {
        record.kind == .event && record.session != nil
    }

    /// Usage records of `source` with a time before this are expired.
    func expiryLimit(of source: String) -> Int64? {
        horizon(of: source).map { $0 &- rules.doubleClickWindowMicroseconds }
    }

    func scheduleExpiry(of key: StateKey, source: String, held: HeldRecord, effect: Effect) {
        guard rules.usageLatenessMicroseconds != nil else { return }
        let window: KnownWindow = if case .window(let windowKey, let entry) = effect { .entry(windowKey, entry) } else { .none }
        expiryQueues[source, default: Heap()].insert(Expiry(time: held.time, key: key, row: held.row, window: window))
    }

    /// Before a usage record of `source` is applied: an expired deciding record of its identity (whose
    /// key holds the same source) counts as absent.
    func forgetIfExpired(_ key: StateKey, source: String) {
        guard let current = decided[key], let limit = expiryLimit(of: source), current.time < limit else { return }
        forget(key)
    }

    /// Before a window's contribution is recomputed: its expired requests count as absent (their
    /// contribution, final, stays in the aggregates).
    func forgetExpiredEntries(of windowKey: StateKey) {
        guard let first = windows[windowKey]?.first, let limit = expiryLimit(of: first.source) else { return }
        while let entry = windows[windowKey]?.first, entry.time < limit {
            forget(entry.recordKey, window: .entry(windowKey, entry))
            if windows[windowKey]?.first == entry { removeEntry(entry, from: windowKey) }
        }
    }

    /// Drops a usage record from memory without touching the aggregates. `window`, when the caller knows
    /// it, is the deciding record's window entry (saves decoding the record to find it).
    private func forget(_ key: StateKey, window: KnownWindow = .unknown) {
        guard let held = decided.removeValue(forKey: key) else { return }
        switch window {
        case .entry(let windowKey, let entry):
            removeEntry(entry, from: windowKey)
        case .none:
            break
        case .unknown:
            if case .window(let windowKey, let entry) = effect(of: record(of: held, key: key)) { removeEntry(entry, from: windowKey) }
        }
        dirtyRecords.remove(key)
        evictedRecords.insert(key)
    }
}

/// The double-click window entry of a usage record, when known without decoding it.
enum KnownWindow {
    case unknown
    /// The record has none (a delete, or a robot's request).
    case none
    case entry(StateKey, WindowEntry)
}

struct Expiry: Comparable {
    let time: Int64
    let key: StateKey
    /// The row of the record scheduled and its window: while that row still decides, forgetting it needs
    /// no decoding.
    let row: [UInt8]
    let window: KnownWindow

    static func < (a: Expiry, b: Expiry) -> Bool {
        a.time != b.time ? a.time < b.time : a.key < b.key
    }

    static func == (a: Expiry, b: Expiry) -> Bool {
        a.time == b.time && a.key == b.key
    }
}
