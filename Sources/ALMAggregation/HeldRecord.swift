import ALMCore

/// A deciding record as the engine holds it and the store keeps it: the record's compact encoding
/// without the fields its state key already holds (the stored row's value, `StoredRecord`), and the
/// few numbers that choosing a winner and expiring usage need without decoding it.
struct HeldRecord {
    /// `StoredRecord.value(of:)`: what the store holds for the key.
    let row: [UInt8]
    /// `PartitionEngine.recordTime`: `occurred_at` of events, `observed_at` of totals and counts.
    let time: Int64
    let observedAt: Int64
    let value: UInt64
    let isDelete: Bool

    init(_ record: RawEvent, row: [UInt8]) {
        self.row = row
        time = record.kind == .event ? (record.occurredAt ?? record.observedAt).microsecondsSinceEpoch
                                     : record.observedAt.microsecondsSinceEpoch
        observedAt = record.observedAt.microsecondsSinceEpoch
        value = record.value
        isDelete = record.action == .delete
    }
}

/// The value of a deciding record's row in the state store: `RawEvent.compactEncoding` without what the
/// key (`StateKey(decidingRecordOf:)`) holds: the work and source always, an event's id, a total's or
/// count's metric and a count's period. It decodes back to the identical record.
public enum StoredRecord {
    /// The fields the key of a record of this kind holds (besides work and source).
    static func omissions(for kind: RawEvent.Kind) -> CompactEventOmissions {
        switch kind {
        case .event: [.id]
        case .total: [.metric]
        case .count: [.metric, .period]
        }
    }

    /// The stored value of `record` (whose key is `StateKey(decidingRecordOf: record)`).
    public static func value(of record: RawEvent) -> [UInt8] {
        record.compactEncoding(omitting: omissions(for: record.kind))
    }

    /// The record of a stored row; throws when the key is not a deciding record's or the value does not
    /// decode to the record of that key.
    public static func record(key: StateKey, value: [UInt8]) throws(RestoreError) -> RawEvent {
        guard let kind = key.kind, [.event, .total, .count].contains(kind), let fields = key.fields else {
            throw RestoreError("not the key of a deciding record (kind \(key.bytes.first.map(String.init) ?? "none"))")
        }
        let record: RawEvent
        do {
            switch kind {
            case .event:
                guard fields.count == 3 else { throw RestoreError("malformed event key") }
                record = try RawEvent(compact: value, work: fields[0], source: fields[1], id: fields[2])
            case .total:
                guard fields.count == 3 else { throw RestoreError("malformed total key") }
                record = try RawEvent(compact: value, work: fields[0], source: fields[1], metric: fields[2])
            default:
                guard fields.count == 4 else { throw RestoreError("malformed count key") }
                record = try RawEvent(compact: value, work: fields[0], source: fields[1], metric: fields[2], period: fields[3])
            }
        } catch let error as RestoreError {
            throw error
        } catch {
            throw RestoreError("stored record does not decode: \(error)")
        }
        guard record.kind == kind.recordKind, StateKey(decidingRecordOf: record) == key else {
            throw RestoreError("stored record does not match its key")
        }
        return record
    }
}

extension StateKey.Kind {
    /// The kind of record whose deciding record has a key of this kind.
    var recordKind: RawEvent.Kind? {
        switch self {
        case .event: .event
        case .total: .total
        case .count: .count
        case .watermark, .window: nil
        }
    }
}
