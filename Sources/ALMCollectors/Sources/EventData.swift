import ALMCore
import Foundation

/// One Crossref Event Data event as its API gives it (`event-data-event-bus` schema).
public struct EventDataEvent: Sendable, Equatable {
    public var id: String
    public var sourceID: String
    public var subjID: String
    public var objID: String
    public var relationType: String
    public var occurredAt: Timestamp
    /// When Event Data received it; orders versions of one event when `updatedDate` is absent.
    public var timestamp: Timestamp?
    /// `edited` or `deleted` for an event Event Data changed after publishing it.
    public var updated: String?
    public var updatedDate: Timestamp?
    /// Experimental events are not part of Event Data's standard set.
    public var experimental: Bool
    /// The number of occurrences the event stands for (early Event Data, e.g. a month of Facebook).
    public var total: UInt64?
}

/// Crossref Event Data events, from a Query API page (`{"status":"ok","message":{"events":[…]}}`), an
/// Event Bus archive (`{"events":[…]}`) or a bare list: one raw event per link to a DOI.
///
/// Mapping: the work is the DOI the relation points at, `obj_id` (`references`, `cites`, `discusses`…),
/// or `subj_id` for a passive relation (`is_referenced_by`, DataCite's `isReferencedBy`…), whose metric
/// is the active form. Other relation names are kept, in snake case, as the metric. Events whose work
/// side is not a DOI (Wikipedia's `is_version_of` between revisions) and experimental events are not
/// turned into raw events.
///
/// Ids: Event Data sometimes publishes the same link twice under two UUIDs (its "distinct" view collapses
/// them), so the id is not the UUID but a hash of the link, relation, work and other side (DOIs
/// normalised), the UUID going to `meta.eventdata_id`. Both ends of a DataCite/Crossref Scholix pair
/// (`A isReferencedBy B`, `B references A`) are then also one event.
///
/// How the processor's rule (per id and work, the latest `occurred_at` decides, `delete` wins a tie)
/// gives Event Data's semantics:
/// - duplicates share an id, so they count once;
/// - `updated: "deleted"` is a `delete` dated by the event's own `occurred_at`: it ties with the add and
///   wins, in any order;
/// - `updated: "edited"` keeps the link (Event Data's edits changed details such as a tweet's author),
///   so the edited version has the same id and work as the earlier one and replaces it: the later
///   `occurred_at` decides, and on a tie both versions are adds of the same value, so the count is that
///   of one. An edit that changes the link itself gives another id: when both versions are in one body
///   the earlier one is retracted; across bodies the earlier one stays counted (Event Data never sent
///   the old version with the edit).
public struct EventDataParser: ResponseParser {
    public let source = "eventdata"
    public let format = "events"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        try events(from: try decode(body), observedAt: context.observedAt)
    }

    /// The Event Data events of a response, every one, before mapping.
    public func decode(_ body: [UInt8]) throws(CollectorError) -> [EventDataEvent] {
        let json = JSONResponse(source: source)
        let list: [Any], path: String
        switch try json.value(body) {
        case let array as [Any]:
            (list, path) = (array, "")
        case let root as [String: Any]:
            if let status = root["status"] as? String, status != "ok" {
                throw CollectorError(source: source, kind: .sourceError, "status \(status): \(root["message"].map { "\($0)" } ?? "")")
            }
            if let message = root["message"] as? [String: Any] {
                (list, path) = (try json.array(message, "events", at: "message."), "message.events")
            } else {
                (list, path) = (try json.array(root, "events", at: ""), "events")
            }
        default:
            throw CollectorError(source: source, kind: .malformedResponse, "expected a JSON object or array at the top level")
        }
        var events: [EventDataEvent] = []
        for (index, item) in list.enumerated() {
            let at = "\(path)[\(index)]."
            let event = try json.element(item, at: String(at.dropLast()))
            var updatedDate: Timestamp?, timestamp: Timestamp?
            if event["updated_date"] != nil { updatedDate = try json.timestamp(event, "updated_date", at: at) }
            if event["timestamp"] != nil { timestamp = try json.timestamp(event, "timestamp", at: at) }
            events.append(EventDataEvent(
                id: try json.string(event, "id", at: at), sourceID: try json.string(event, "source_id", at: at),
                subjID: try json.string(event, "subj_id", at: at), objID: try json.string(event, "obj_id", at: at),
                relationType: try json.string(event, "relation_type_id", at: at),
                occurredAt: try json.timestamp(event, "occurred_at", at: at), timestamp: timestamp,
                updated: event["updated"] as? String, updatedDate: updatedDate,
                experimental: event["experimental"] as? Bool ?? false, total: try json.optionalCount(event, "total", at: at)))
        }
        return events
    }

    /// The raw events for decoded Event Data events: one per link to a DOI, the latest version of each
    /// Event Data id, plus retractions of earlier versions that linked something else.
    public func events(from decoded: [EventDataEvent], observedAt: Timestamp) throws(CollectorError) -> [RawEvent] {
        let factory = EventFactory(source: source, observedAt: observedAt)
        var versions: [String: [(position: Int, event: EventDataEvent)]] = [:]
        for (position, event) in decoded.enumerated() where !event.experimental {
            versions[event.id, default: []].append((position, event))
        }

        var latest: [(position: Int, event: EventDataEvent)] = []
        var superseded: [(position: Int, event: EventDataEvent)] = []
        for (_, group) in versions {
            let ordered = group.sorted { a, b in
                let (ta, tb) = (versionTime(a.event), versionTime(b.event))
                return ta != tb ? ta < tb : a.position < b.position
            }
            latest.append(ordered[ordered.count - 1])
            superseded += ordered.dropLast()
        }

        var events: [RawEvent] = []
        var added: Set<[String]> = []
        for (_, event) in latest.sorted(by: { $0.position < $1.position }) {
            guard let link = try link(of: event) else { continue }
            let deleted = event.updated == "deleted"
            if !deleted { added.insert([link.id, link.work]) }
            events.append(try factory.event(
                id: link.id, work: link.work, metric: link.metric, value: event.total ?? 1, subj: link.subj, obj: link.obj,
                occurredAt: event.occurredAt, action: deleted ? .delete : .add,
                meta: metaText(["eventdata_id": event.id, "eventdata_source": event.sourceID])))
        }
        for (_, event) in superseded.sorted(by: { $0.position < $1.position }) {
            guard let link = try link(of: event), !added.contains([link.id, link.work]) else { continue }
            events.append(try factory.event(
                id: link.id, work: link.work, metric: link.metric, value: event.total ?? 1, subj: link.subj, obj: link.obj,
                occurredAt: event.occurredAt, action: .delete,
                meta: metaText(["eventdata_id": event.id, "eventdata_source": event.sourceID])))
        }
        return events
    }

    private func versionTime(_ event: EventDataEvent) -> Timestamp {
        event.updatedDate ?? event.timestamp ?? event.occurredAt
    }

    /// Passive relations whose subject is the work, with the metric of their active form.
    static let passiveRelations: [String: String] = [
        "is_referenced_by": "references", "is_cited_by": "cites", "is_discussed_by": "discusses",
        "is_mentioned_by": "mentions", "is_reviewed_by": "reviews", "is_annotated_by": "annotates",
        "is_bookmarked_by": "bookmarks", "is_liked_by": "likes", "is_recommended_by": "recommends",
    ]

    private struct Link {
        var id: String
        var work: String
        var metric: String
        var subj: String
        var obj: String
    }

    private func link(of event: EventDataEvent) throws(CollectorError) -> Link? {
        let relation = Self.snakeCase(event.relationType)
        let passive = Self.passiveRelations[relation]
        let (workSide, otherSide) = passive == nil ? (event.objID, event.subjID) : (event.subjID, event.objID)
        guard let work = try? DOI.normalize(workSide) else { return nil }
        let metric = passive ?? relation
        guard metric.first?.isLetter == true, metric.allSatisfy({ ($0.isASCII && $0.isLowercase) || $0 == "_" }) else {
            throw CollectorError(source: source, kind: .invalidValue,
                                 "event \(event.id): relation_type_id \"\(event.relationType.prefix(64))\" cannot be a metric name")
        }
        let otherKey = (try? DOI.normalize(otherSide)) ?? otherSide
        return Link(id: stableEventID(source: source, metric, work, otherKey), work: work, metric: metric,
                    subj: otherSide, obj: workSide)
    }

    /// `isReferencedBy` → `is_referenced_by`; `is-part-of` → `is_part_of`.
    static func snakeCase(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase {
                if !result.isEmpty && result.last != "_" { result.append("_") }
                result += character.lowercased()
            } else {
                result.append(character == "-" ? "_" : character)
            }
        }
        return result
    }
}
