import ALMCore

/// Europe PMC `GET /{source}/{id}/citations?format=json`: one `cites` event per citing article, whose id
/// is Europe PMC's own (source + id), dated by its publication year (the list gives no finer date).
public struct EuropePMCCitationsParser: ResponseParser {
    public let source = "europepmc"
    public let format = "citations"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let json = JSONResponse(source: source)
        let root = try json.object(body)
        let work = try context.requireWork(source).doi
        let hits = try json.count(root, "hitCount", at: "")
        guard hits > 0 else { return [] }
        let list = try json.array(try json.object(root, "citationList", at: ""), "citation", at: "citationList.")
        let factory = EventFactory(source: source, observedAt: context.observedAt)
        var events: [RawEvent] = []
        for (index, item) in list.enumerated() {
            let path = "citationList.citation[\(index)]."
            guard let citation = item as? [String: Any] else {
                throw CollectorError(source: source, kind: .malformedResponse, "\(path.dropLast()): expected an object")
            }
            let id = try json.string(citation, "id", at: path), origin = try json.string(citation, "source", at: path)
            let year = (citation["pubYear"] as? Int) ?? (citation["pubYear"] as? String).flatMap { Int($0) }
            events.append(try factory.event(
                id: "europepmc:\(origin):\(id):\(work)", work: work, metric: "cites",
                subj: "https://europepmc.org/article/\(origin)/\(id)", obj: "https://doi.org/\(work)",
                occurredAt: year.flatMap(startOfYear)))
        }
        return events
    }
}
