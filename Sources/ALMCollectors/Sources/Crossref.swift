import ALMCore

/// Crossref REST `GET /works/{doi}`: `is-referenced-by-count` is the total of works citing this one.
public struct CrossrefWorkParser: ResponseParser {
    public let source = "crossref"
    public let format = "rest-work"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let json = JSONResponse(source: source)
        let root = try json.object(body)
        if let status = root["status"] as? String, status != "ok" {
            throw CollectorError(source: source, kind: .sourceError, "status \(status): \(root["message"].map { "\($0)" } ?? "")")
        }
        let message = try json.object(root, "message", at: "")
        let work: String
        if let asked = context.work?.doi { work = asked } else { work = try json.string(message, "DOI", at: "message.") }
        let cites = try json.count(message, "is-referenced-by-count", at: "message.")
        return [try EventFactory(source: source, observedAt: context.observedAt).total(work: work, metric: "cites", value: cites)]
    }
}
