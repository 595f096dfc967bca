import ALMCore

/// DataCite REST `GET /dois?query=uid:"{doi}"&detail=true`: `viewCount` and `downloadCount` (DataCite's
/// usage from COUNTER-compliant repositories) and `citationCount`, as totals of each DOI in the answer.
public struct DataCiteDOIParser: ResponseParser {
    public let source = "datacite"
    public let format = "doi-detail"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let json = JSONResponse(source: source)
        let root = try json.object(body)
        let records: [Any]
        if let list = root["data"] as? [Any] { records = list } else { records = [try json.object(root, "data", at: "")] }
        let factory = EventFactory(source: source, observedAt: context.observedAt)
        var events: [RawEvent] = []
        for (index, item) in records.enumerated() {
            let path = "data[\(index)].attributes."
            guard let attributes = (item as? [String: Any])?["attributes"] as? [String: Any] else {
                throw CollectorError(source: source, kind: .malformedResponse, "data[\(index)].attributes: expected an object")
            }
            let work = try json.string(attributes, "doi", at: path)
            for (field, metric) in [("viewCount", "views"), ("downloadCount", "downloads"), ("citationCount", "cites")] {
                events.append(try factory.total(work: work, metric: metric, value: try json.count(attributes, field, at: path)))
            }
        }
        return events
    }
}
