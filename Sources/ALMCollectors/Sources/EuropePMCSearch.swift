import ALMCore

/// Europe PMC `GET /search?query=...&format=json&resultType=lite`: each result with a DOI gets its
/// `citedByCount` as a `cites` total. The response names its works; results without a DOI (some
/// preprints, patents, books) cannot be keyed and are left out.
public struct EuropePMCSearchParser: ResponseParser {
    public let source = "europepmc"
    public let format = "search"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let json = JSONResponse(source: source)
        let root = try json.object(body)
        let hits = try json.count(root, "hitCount", at: "")
        if hits == 0, root["resultList"] == nil { return [] }
        let results = try json.array(try json.object(root, "resultList", at: ""), "result", at: "resultList.")
        let factory = EventFactory(source: source, observedAt: context.observedAt)
        var events: [RawEvent] = []
        for (index, element) in results.enumerated() {
            let path = "resultList.result[\(index)]."
            guard let result = element as? [String: Any] else {
                throw CollectorError(source: source, kind: .malformedResponse, "\(path.dropLast()): expected an object")
            }
            guard let doi = result["doi"] as? String, !doi.isEmpty else { continue }
            let cited = try json.count(result, "citedByCount", at: path, lenient: true)
            events.append(try factory.total(work: doi, metric: "cites", value: cited))
        }
        return events
    }
}
