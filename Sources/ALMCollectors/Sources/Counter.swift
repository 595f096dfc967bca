import ALMCore
import Foundation

/// PLOS's usage statistics (the XML Lagotto's `counter` source read): per month, HTML views
/// (`get-document` → views), PDF downloads (`get-pdf` → downloads) and XML downloads (`get-xml` →
/// xml_downloads, uncategorised by default), as monthly counts.
public struct PLOSCounterParser: ResponseParser {
    public let source = "counter"
    public let format = "plos-xml"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let root = try XMLNode.parse(body, source: source)
        guard root.name == "rest", let response = root.child("response") else {
            throw CollectorError(source: source, kind: .malformedResponse, "expected <rest><response>")
        }
        if let status = root.child("status")?.trimmedText, status != "success" {
            throw CollectorError(source: source, kind: .sourceError, "status \(status)")
        }
        let work: String
        if let asked = context.work?.doi { work = asked } else if let named = response.child("criteria")?.child("doi")?.trimmedText, !named.isEmpty {
            work = named
        } else {
            throw CollectorError(source: source, kind: .workRequired, "<criteria> names no doi: pass --work DOI")
        }
        let factory = EventFactory(source: source, observedAt: context.observedAt)
        var events: [RawEvent] = []
        for item in response.child("results")?.all("item") ?? [] {
            let year = try item.countChild("year", source: source), month = try item.countChild("month", source: source)
            guard let period = try? Period(parsing: String(format: "%04d-%02d", year, month)) else {
                throw CollectorError(source: source, kind: .malformedResponse, "<item id=\"\(item.attributes["id"] ?? "")\">: no valid year and month")
            }
            // A month's count is emitted even when 0 (it may restate an earlier number); XML only where reported.
            for (element, metric) in [("get-document", "views"), ("get-pdf", "downloads"), ("get-xml", "xml_downloads")]
            where element != "get-xml" || item.child(element) != nil {
                let value = try item.countChild(element, source: source, absent: 0)
                events.append(try factory.count(work: work, metric: metric, value: value, period: period))
            }
        }
        return events
    }
}
