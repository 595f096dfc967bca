import ALMCore
import Foundation

/// Hypothes.is `GET /api/search?uri={url}`: each annotation (row) on the work's DOI URL or landing page
/// is an `annotates` event with Hypothes.is's own id, dated by `created`, linked by its `links.html` page
/// (else `links.incontext`), its annotator as `meta.author`. A row hidden by moderators or judged spam retracts the annotation
/// (`action: delete`, dated by `updated` so it wins over the earlier add).
public struct HypothesisSearchParser: ResponseParser {
    public let source = "hypothesis"
    public let format = "search"
    public init() {}

    private static let retractedStatuses: Set<String> = ["DENIED", "SPAM"]

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let json = JSONResponse(source: source)
        let root = try json.object(body)
        let work = try context.requireWork(source).doi
        _ = try json.count(root, "total", at: "")
        let rows = try json.array(root, "rows", at: "")
        let factory = EventFactory(source: source, observedAt: context.observedAt)
        var events: [RawEvent] = []
        for (index, element) in rows.enumerated() {
            let path = "rows[\(index)]."
            guard let row = element as? [String: Any] else {
                throw CollectorError(source: source, kind: .malformedResponse, "rows[\(index)]: expected an object")
            }
            let id = try json.string(row, "id", at: path)
            guard !id.isEmpty else { throw CollectorError(source: source, kind: .malformedResponse, "\(path)id: empty") }
            let created = try timestamp(row, "created", at: path)
            let links = try json.object(row, "links", at: path)
            let page: String
            if let html = links["html"] as? String, !html.isEmpty {
                page = html
            } else if let incontext = links["incontext"] as? String, !incontext.isEmpty {
                page = incontext
            } else {
                throw CollectorError(source: source, kind: .malformedResponse, "\(path)links: expected an html or incontext link")
            }
            let retracted = (row["hidden"] as? Bool) == true
                || (row["moderation_status"] as? String).map(Self.retractedStatuses.contains) == true
            let occurred = retracted && row["updated"] != nil ? try timestamp(row, "updated", at: path) : created
            // The annotator's account (`acct:<username>@<authority>`): one mention per author in the score.
            let author = (row["user"] as? String).flatMap { $0.isEmpty ? nil : metaText(["author": $0]) }
            events.append(try factory.event(id: "hypothesis:\(id)", work: work, metric: "annotates", subj: page,
                                            obj: row["uri"] as? String, occurredAt: occurred, action: retracted ? .delete : .add,
                                            meta: author))
        }
        return events
    }

    private func timestamp(_ row: [String: Any], _ key: String, at path: String) throws(CollectorError) -> Timestamp {
        let text = try JSONResponse(source: source).string(row, key, at: path)
        do {
            return try Timestamp(parsing: text)
        } catch {
            throw CollectorError(source: source, kind: .malformedResponse, "\(path)\(key): not an RFC 3339 date-time: \(text.prefix(40))")
        }
    }
}
