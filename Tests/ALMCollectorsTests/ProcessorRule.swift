import ALMCore

/// The events that count under design.md's rule for `event` records, for checking what a parser's
/// output amounts to: per (source, id, work) the record with the latest `occurred_at` decides, `delete`
/// winning a tie; the event counts when the deciding record is an `add`. Arrival order does not matter.
func countedEvents(_ records: [RawEvent]) -> [RawEvent] {
    var deciding: [[String]: RawEvent] = [:]
    for record in records where record.kind == .event {
        let key = [record.source, record.id ?? "", record.work]
        guard let current = deciding[key] else {
            deciding[key] = record
            continue
        }
        let (candidateTime, currentTime) = (record.occurredAt ?? record.observedAt, current.occurredAt ?? current.observedAt)
        if candidateTime > currentTime || (candidateTime == currentTime && record.action == .delete) {
            deciding[key] = record
        }
    }
    return deciding.values.filter { $0.action == .add }
}

/// Counted events per (work, metric).
func countedByWork(_ records: [RawEvent]) -> [String: UInt64] {
    var counts: [String: UInt64] = [:]
    for event in countedEvents(records) { counts["\(event.work) \(event.metric)", default: 0] += event.value }
    return counts
}
