import ALMCore
import ALMRuntime
import Testing

@Suite("works files for alm works import")
struct WorksFileTests {
    @Test("CSV: header names in any case and common spellings, quoted fields, a byte-order mark, bad rows by number")
    func csv() throws {
        let text = "\u{FEFF}DOI,PubMed_ID,PMCID,arXiv_id,Link,Title,Publication_Date,Notes\n"
            + "https://doi.org/10.1371/JOURNAL.PONE.0008776,20098740,PMC2808249,,https://journals.plos.org/x,\"Genes, mirror \"\"maps\"\"\",2010-01-28,ignored\n"
            + ",1,,,,,,\n"
            + "10.1/x,abc,,,,,,\n"
            + "doi:10.5555/ALM.2,,,,,,2026-11,\n"
        let rows = try WorksFile.parse(text, format: .csv)
        #expect(rows.map(\.row) == [1, 2, 3, 4])
        let first = try rows[0].result.get()
        #expect(first.doi == "10.1371/journal.pone.0008776" && first.pmid == "20098740" && first.pmcid == "PMC2808249")
        #expect(first.title == #"Genes, mirror "maps""# && first.published == "2010-01-28" && first.url == "https://journals.plos.org/x")
        #expect(rowError(rows[1])?.field == "doi")
        #expect(rowError(rows[2])?.field == "pmid")
        #expect(try rows[3].result.get().doi == "10.5555/alm.2")
    }

    @Test("a CSV without a doi column is refused whole")
    func csvWithoutDOI() {
        #expect(throws: ConfigurationError.self) { try WorksFile.parse("pmid,title\n1,x\n", format: .csv) }
    }

    @Test("JSON lines: numbers for ids, unknown keys ignored, a broken line reported by its line number")
    func jsonLines() throws {
        let text = #"{"doi":"10.1/A","pmid":123,"published":"2024","extra":true}"# + "\n\n" + "{broken\n" + #"{"title":"no doi"}"#
        let rows = try WorksFile.parse(text, format: .jsonl)
        #expect(rows.map(\.row) == [1, 3, 4])
        #expect(try rows[0].result.get() == WorkRecord(doi: "10.1/a", pmid: "123", published: "2024"))
        #expect(rowError(rows[1])?.field == "line")
        #expect(rowError(rows[2])?.field == "doi")
    }

    @Test("the format follows the file name")
    func formats() {
        #expect(WorksFile.format(ofPath: "works.CSV") == .csv)
        #expect(WorksFile.format(ofPath: "works.jsonl") == .jsonl)
        #expect(WorksFile.format(ofPath: "works.txt") == nil)
    }

    private func rowError(_ row: WorksFile.Row) -> WorkRecordError? {
        if case .failure(let error) = row.result { return error }
        return nil
    }
}
