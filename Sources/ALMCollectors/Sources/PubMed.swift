import ALMCore

/// NCBI Entrez PubMed → PMC citing form: the PMC articles citing the work's PMID, one `cites` event per
/// distinct PMCID (the service lists some twice). The list carries no dates.
public struct PubMedCitingParser: ResponseParser {
    public let source = "pubmed"
    public let format = "pmc-citing"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let root = try XMLNode.parse(body, source: source)
        guard root.name == "PubMedToPMCcitingformSET" else {
            throw CollectorError(source: source, kind: .malformedResponse, "expected <PubMedToPMCcitingformSET>, found <\(root.name)>")
        }
        let work = try context.requireWork(source).doi
        let factory = EventFactory(source: source, observedAt: context.observedAt)
        var seen: Set<String> = []
        var events: [RawEvent] = []
        for pmcid in root.descendants("PMCID").map(\.trimmedText) where seen.insert(pmcid).inserted {
            guard !pmcid.isEmpty, pmcid.allSatisfy(\.isNumber) else {
                throw CollectorError(source: source, kind: .malformedResponse, "<PMCID>: expected digits, found \"\(pmcid)\"")
            }
            events.append(try factory.event(id: "pubmed:PMC\(pmcid):\(work)", work: work, metric: "cites",
                                            subj: "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC\(pmcid)",
                                            obj: "https://doi.org/\(work)", occurredAt: nil))
        }
        return events
    }
}
