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

/// Crossref cited-by (`getForwardLinks`, for members with credentials): one `cites` event per citing
/// item, identified by the citing DOI, dated by its publication year.
///
/// A deployment uses this or `CrossrefWorkParser`'s total for Crossref's `cites`, not both: events and
/// a total of one metric add up.
public struct CrossrefForwardLinksParser: ResponseParser {
    public let source = "crossref"
    public let format = "cited-by"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let root = try XMLNode.parse(body, source: source)
        guard root.name == "crossref_result" else {
            throw CollectorError(source: source, kind: .malformedResponse, "expected <crossref_result>, found <\(root.name)>")
        }
        let factory = EventFactory(source: source, observedAt: context.observedAt)
        var events: [RawEvent] = []
        for link in root.descendants("forward_link") {
            guard let work = context.work?.doi ?? link.attributes["doi"] else {
                throw CollectorError(source: source, kind: .workRequired, "<forward_link> names no doi: pass --work DOI")
            }
            for cite in link.children where cite.name.hasSuffix("_cite") {
                guard let citing = cite.child("doi")?.trimmedText, !citing.isEmpty else {
                    throw CollectorError(source: source, kind: .malformedResponse, "<\(cite.name)> without <doi>")
                }
                let year = cite.child("year").flatMap { Int($0.trimmedText) }
                events.append(try factory.event(
                    id: "crossref:cites:\(citing.lowercased()):\(work)", work: work, metric: "cites",
                    subj: "https://doi.org/\(citing)", obj: "https://doi.org/\(work)", occurredAt: year.flatMap(startOfYear)))
            }
        }
        return events
    }
}

/// Crossref OpenURL with `fl_count`: the number of citing items as a total.
public struct CrossrefOpenURLParser: ResponseParser {
    public let source = "crossref"
    public let format = "openurl"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let root = try XMLNode.parse(body, source: source)
        guard let query = root.descendants("query").first else {
            throw CollectorError(source: source, kind: .malformedResponse, "no <query> in the response")
        }
        guard query.attributes["status"] == "resolved" else {
            throw CollectorError(source: source, kind: .sourceError, "query status \(query.attributes["status"] ?? "missing"): the DOI was not resolved")
        }
        let work: String
        if let asked = context.work?.doi { work = asked } else if let named = query.child("doi")?.trimmedText { work = named } else {
            throw CollectorError(source: source, kind: .workRequired, "<query> names no doi: pass --work DOI")
        }
        let count = try query.countAttribute("fl_count", source: source)
        return [try EventFactory(source: source, observedAt: context.observedAt).total(work: work, metric: "cites", value: count)]
    }
}
