import ALMCore

/// OpenCitations COCI `GET /index/coci/api/v1/citations/{doi}`: one `cites` event per citing work,
/// identified by OpenCitations' citation id (`oci`), dated by the citation's `creation` (the citing
/// work's publication date, as `YYYY`, `YYYY-MM` or `YYYY-MM-DD`: its first day).
///
/// A deployment uses this or `OpenCitationsMetadataParser`'s total for OpenCitations' `cites`, not both.
public struct OpenCitationsCitationsParser: ResponseParser {
    public let source = "opencitations"
    public let format = "citations"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let json = JSONResponse(source: source)
        let rows = try json.topLevelArray(body)
        let factory = EventFactory(source: source, observedAt: context.observedAt)
        var events: [RawEvent] = []
        for (index, item) in rows.enumerated() {
            let path = "[\(index)]."
            let row = try json.element(item, at: "[\(index)]")
            let citing = try doi(in: try json.string(row, "citing", at: path), field: path + "citing")
            let work: String
            if let asked = context.work?.doi { work = asked } else { work = try doi(in: try json.string(row, "cited", at: path), field: path + "cited") }

            var occurred: Timestamp?
            if let creation = row["creation"] as? String, !creation.isEmpty {
                guard let start = startOfPartialDate(creation) else {
                    throw CollectorError(source: source, kind: .malformedResponse,
                                         "\(path)creation: expected YYYY, YYYY-MM or YYYY-MM-DD, found \"\(creation.prefix(40))\"")
                }
                occurred = start
            }
            let id: String
            if let oci = row["oci"] as? String, !oci.isEmpty {
                id = "opencitations:oci:" + (oci.hasPrefix("oci:") ? String(oci.dropFirst(4)) : oci)
            } else {
                id = stableEventID(source: source, citing, work, "cites")
            }
            events.append(try factory.event(id: id, work: work, metric: "cites", subj: "https://doi.org/\(citing)",
                                            obj: "https://doi.org/\(work)", occurredAt: occurred))
        }
        return events
    }

    /// The DOI in a COCI id field: `10.1145/…`, or the DOI among the ids of later API versions
    /// (`coci => 10.1145/…`, `omid:br/0612 doi:10.1145/… pmid:…`).
    private func doi(in field: String, field path: String) throws(CollectorError) -> String {
        let ids = field.components(separatedBy: "=>").last ?? field
        for token in ids.split(separator: " ") {
            let candidate = token.hasPrefix("doi:") ? token.dropFirst(4) : token
            if candidate.hasPrefix("10."), let doi = try? DOI.normalize(String(candidate)) { return doi }
        }
        throw CollectorError(source: source, kind: .malformedResponse, "\(path): no DOI in \"\(field.prefix(80))\"")
    }
}

/// OpenCitations COCI `GET /index/coci/api/v1/metadata/{doi}`: `citation_count` (a number written as a
/// string) is the total of works citing each DOI listed. An empty list means OpenCitations does not know
/// the DOI: no events.
public struct OpenCitationsMetadataParser: ResponseParser {
    public let source = "opencitations"
    public let format = "metadata"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let json = JSONResponse(source: source)
        let rows = try json.topLevelArray(body)
        let factory = EventFactory(source: source, observedAt: context.observedAt)
        var events: [RawEvent] = []
        for (index, item) in rows.enumerated() {
            let path = "[\(index)]."
            let row = try json.element(item, at: "[\(index)]")
            let work: String
            if let named = row["doi"] as? String, !named.isEmpty {
                work = named
            } else if let asked = context.work?.doi {
                work = asked
            } else {
                throw CollectorError(source: source, kind: .workRequired, "\(path)doi: the row names no DOI: pass --work DOI")
            }
            let count = try json.count(row, "citation_count", at: path, lenient: true)
            events.append(try factory.total(work: work, metric: "cites", value: count))
        }
        return events
    }
}
