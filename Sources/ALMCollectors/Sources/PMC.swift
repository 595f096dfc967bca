import ALMCore

/// PubMed Central's publisher usage report (pmcstat) for one journal and month: per article, full-text
/// views and PDF downloads as monthly counts. The report names its works (each article's DOI), so one
/// response yields counts for many works.
public struct PMCUsageReportParser: ResponseParser {
    public let source = "pmc"
    public let format = "usage-report"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let root = try XMLNode.parse(body, source: source)
        guard root.name == "pmc-web-stat" else {
            throw CollectorError(source: source, kind: .malformedResponse, "expected <pmc-web-stat>, found <\(root.name)>")
        }
        if let response = root.child("response"), response.attributes["status"] != "0" {
            let message = response.child("error")?.trimmedText ?? "status \(response.attributes["status"] ?? "missing")"
            throw CollectorError(source: source, kind: .sourceError, message)
        }
        guard let request = root.child("request"), let year = request.attributes["year"].flatMap({ Int($0) }),
              let month = request.attributes["month"].flatMap({ Int($0) }),
              let period = try? Period(parsing: String(format: "%04d-%02d", year, month)) else {
            throw CollectorError(source: source, kind: .malformedResponse, "<request> without a valid year and month")
        }
        let factory = EventFactory(source: source, observedAt: context.observedAt)
        var events: [RawEvent] = []
        for article in root.child("articles")?.all("article") ?? [] {
            guard let doi = article.child("meta-data")?.attributes["doi"], !doi.isEmpty else { continue }  // no DOI: not trackable
            guard let usage = article.child("usage") else {
                throw CollectorError(source: source, kind: .malformedResponse, "article \(doi): no <usage>")
            }
            events.append(try factory.count(work: doi, metric: "views", value: try usage.countAttribute("full-text", source: source), period: period))
            events.append(try factory.count(work: doi, metric: "downloads", value: try usage.countAttribute("pdf", source: source), period: period))
        }
        return events
    }
}
