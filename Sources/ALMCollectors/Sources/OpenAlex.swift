import ALMCore

/// OpenAlex `GET /works/doi:{doi}`: `cited_by_count` is the total of citing works.
///
/// `counts_by_year` is not emitted: per-year counts of the same metric would add to the total, and the
/// schema's periods are months. Month-level history comes from the total's successive observations.
public struct OpenAlexWorkParser: ResponseParser {
    public let source = "openalex"
    public let format = "work"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let json = JSONResponse(source: source)
        let root = try json.object(body)
        let work: String
        if let asked = context.work?.doi { work = asked } else { work = try json.string(root, "doi", at: "") }
        let cites = try json.count(root, "cited_by_count", at: "")
        return [try EventFactory(source: source, observedAt: context.observedAt).total(work: work, metric: "cites", value: cites)]
    }
}
