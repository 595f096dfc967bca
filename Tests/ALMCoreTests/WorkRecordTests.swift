import ALMCore
import Testing

@Suite("work records of the registry")
struct WorkRecordTests {
    @Test("every id is normalised")
    func normalisation() throws {
        let record = try WorkRecord(doi: "https://doi.org/10.1371/JOURNAL.PONE.0008776", pmid: " PMID: 0020098740 ",
                                    pmcid: "2808249", arxiv: "arXiv:2101.00001v3", url: "https://journals.plos.org/x?id=1",
                                    title: "  Genes mirror geography  ", published: "2010-01-28T00:00:00Z")
        #expect(record.doi == "10.1371/journal.pone.0008776")
        #expect(record.pmid == "20098740")
        #expect(record.pmcid == "PMC2808249")
        #expect(record.arxiv == "2101.00001")
        #expect(record.title == "Genes mirror geography")
        #expect(record.published == "2010-01-28")
        #expect(try WorkRecord(doi: "10.1/x", pmcid: "pmc12", arxiv: "hep-th/9901001v1").arxiv == "hep-th/9901001")
        #expect(try WorkRecord(doi: "10.1/x", pmcid: "PMCID: PMC12").pmcid == "PMC12")
        #expect(try WorkRecord(doi: "10.1/x", published: "2019").published == "2019")
        #expect(try WorkRecord(doi: "10.1/x", pmid: "", title: "").pmid == nil, "empty means absent")
    }

    @Test("invalid values name their field", arguments: [
        ("not-a-doi", nil, nil, nil, nil, nil, "doi"),
        ("10.1/x", "12a", nil, nil, nil, nil, "pmid"),
        ("10.1/x", "000", nil, nil, nil, nil, "pmid"),
        ("10.1/x", nil, "PMC", nil, nil, nil, "pmcid"),
        ("10.1/x", nil, nil, "2101.1", nil, nil, "arxiv"),
        ("10.1/x", nil, nil, nil, "ftp://example.org/x", nil, "url"),
        ("10.1/x", nil, nil, nil, "https://example.org/a b", nil, "url"),
        ("10.1/x", nil, nil, nil, nil, "2010-13-01", "published"),
        ("10.1/x", nil, nil, nil, nil, "28/01/2010", "published"),
    ] as [(String, String?, String?, String?, String?, String?, String)])
    func invalid(doi: String, pmid: String?, pmcid: String?, arxiv: String?, url: String?, published: String?, field: String) {
        #expect(throws: WorkRecordError.self) {
            try WorkRecord(doi: doi, pmid: pmid, pmcid: pmcid, arxiv: arxiv, url: url, published: published)
        }
        do {
            _ = try WorkRecord(doi: doi, pmid: pmid, pmcid: pmcid, arxiv: arxiv, url: url, published: published)
        } catch {
            #expect(error.field == field)
        }
    }

    @Test("the alm.works value is a JSON object of the fields that are set, in a fixed order")
    func jsonLine() throws {
        let record = try WorkRecord(doi: "10.1/X", pmid: "7", title: #"A "quoted" title"#)
        #expect(String(decoding: record.jsonLine(), as: UTF8.self) == #"{"doi":"10.1/x","pmid":"7","title":"A \"quoted\" title"}"#)
    }
}
