import ALMCore

/// DataCite search for records related to a work (`q=relatedIdentifier:{doi}`, the Solr API Lagotto
/// used): each DataCite record (a dataset, software, ...) lists `relatedIdentifier`s as
/// `Relation:Type:Identifier`. A DOI relation naming the work is one event, with the record as `subj`:
/// - the record cites or builds on the work (`Cites`, `References`, `IsSupplementTo`, `IsDerivedFrom`):
///   `cites`, attention to the work like any citation;
/// - the work cites or contains the record (`IsCitedBy`, `IsReferencedBy`, `IsSupplementedBy`, `IsSourceOf`,
///   `IsDocumentedBy`, `IsDescribedBy`) — a Dryad dataset `IsReferencedBy` the article it came from:
///   `data_references`. This is a link from the work to its data, not attention the work receives, so
///   neither `cites` (the dataset does not cite the work) nor `references` (design.md's "a page
///   referencing the work", counted as discussion) fits; it has no default category and an operator may
///   put it in one (`processor.categories.datacite.data_references`). Lagotto counted these as citations.
/// Other relations (`HasPart`, versions, ...) and empty or non-DOI identifiers are ignored. With a work in
/// the context only relations naming it count; without one, every related DOI is a work.
public struct DataCiteRelatedParser: ResponseParser {
    public let source = "datacite"
    public let format = "related"
    public init() {}

    private static let metricsByRelation: [String: String] = [
        "Cites": "cites", "References": "cites", "IsSupplementTo": "cites", "IsDerivedFrom": "cites",
        "IsCitedBy": "data_references", "IsReferencedBy": "data_references", "IsSupplementedBy": "data_references",
        "IsSourceOf": "data_references", "IsDocumentedBy": "data_references", "IsDescribedBy": "data_references",
    ]

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let json = JSONResponse(source: source)
        let root = try json.object(body)
        if let status = (root["responseHeader"] as? [String: Any])?["status"] as? Int, status != 0 {
            throw CollectorError(source: source, kind: .sourceError, "responseHeader.status \(status)")
        }
        let docs = try json.array(try json.object(root, "response", at: ""), "docs", at: "response.")
        let factory = EventFactory(source: source, observedAt: context.observedAt)
        var events: [RawEvent] = []
        for (index, element) in docs.enumerated() {
            let path = "response.docs[\(index)]."
            guard let doc = element as? [String: Any] else {
                throw CollectorError(source: source, kind: .malformedResponse, "\(path.dropLast()): expected an object")
            }
            let givenDOI = try json.string(doc, "doi", at: path)
            let recordDOI: String
            do {
                recordDOI = try DOI.normalize(givenDOI)
            } catch {
                throw CollectorError(source: source, kind: .invalidValue, "\(path)doi: \(error)")
            }
            guard let related = doc["relatedIdentifier"] else { continue }
            guard let relations = related as? [String] else {
                throw CollectorError(source: source, kind: .malformedResponse, "\(path)relatedIdentifier: expected an array of strings")
            }
            let year = (doc["publicationYear"] as? String).flatMap { Int($0) } ?? (doc["publicationYear"] as? Int)
            for (relationIndex, relation) in relations.enumerated() {
                let parts = relation.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count == 3 else {
                    throw CollectorError(source: source, kind: .malformedResponse,
                                         "\(path)relatedIdentifier[\(relationIndex)]: expected Relation:Type:Identifier, found \(relation.prefix(60))")
                }
                let relationType = String(parts[0]), identifier = String(parts[2])
                guard parts[1] == "DOI", let metric = Self.metricsByRelation[relationType],
                      let work = try? DOI.normalize(identifier), context.work.map({ $0.doi == work }) ?? true else { continue }
                events.append(try factory.event(
                    id: "datacite:\(relationType):\(recordDOI):\(work)", work: work, metric: metric,
                    subj: "https://doi.org/\(recordDOI)", obj: identifier, occurredAt: year.flatMap(startOfYear),
                    meta: #"{"relation":"\#(relationType)"}"#))
            }
        }
        return events
    }
}
