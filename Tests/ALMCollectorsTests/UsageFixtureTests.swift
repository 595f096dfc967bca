@testable import ALMCollectors
import ALMCore
import Foundation
import Testing

/// A COUNTER sample report from ../shared/data/COUNTER-samples.
private func counterSample(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: sharedDirectory.appendingPathComponent("data/COUNTER-samples").appendingPathComponent(path)))
}

private func readJSON(_ path: String) throws -> CounterReportReading {
    try CounterSUSHIJSONParser().read(try counterSample(path), context: context(nil))
}

private func readTSV(_ path: String) throws -> CounterReportReading {
    try CounterSUSHITSVParser().read(try counterSample(path), context: context(nil))
}

/// metric → sum of values.
private func sums(_ events: [RawEvent]) -> [String: UInt64] {
    events.reduce(into: [:]) { $0[$1.metric, default: 0] += $1.value }
}

/// metric → value for one work and month.
private func month(_ events: [RawEvent], _ work: String, _ period: String) -> [String: UInt64] {
    Dictionary(uniqueKeysWithValues: events.filter { $0.work == work && $0.period?.text == period }.map { ($0.metric, $0.value) })
}

private struct CountKey: Hashable {
    let work: String, metric: String, period: String?, value: UInt64
}

private func keys(_ events: [RawEvent]) -> Set<CountKey> {
    Set(events.map { CountKey(work: $0.work, metric: $0.metric, period: $0.period?.text, value: $0.value) })
}

@Suite("collectors: COUNTER R5 and R5.1 item reports")
struct CounterSUSHITests {
    @Test("R5.0.3 IR JSON: 3 works with a DOI (1 item without), 3 months each, views 2 and downloads 11")
    func release50ItemReport() throws {
        let reading = try readJSON("r5.0.3/Sample-IR.json")
        #expect(reading.itemsWithoutDOI == 1, "Item 100029 has only its parent's DOI")
        #expect(reading.exceptions.isEmpty)
        let events = reading.events
        #expect(Set(events.map(\.work)) == ["10.1729/jhik.345", "10.1729/zbcd.457", "10.1729/abcd.434"])
        #expect(events.count == 18, "3 works × 2016-01...2016-03 × views and downloads, zero months included")
        #expect(events.allSatisfy { $0.kind == .count && $0.source == "counter" && $0.observedAt == observed })
        #expect(sums(events) == ["views": 2, "downloads": 11])
        // Total_Item_Investigations 5, Total_Item_Requests 4 → 1 view that was not a full text, 4 downloads.
        #expect(month(events, "10.1729/abcd.434", "2016-01") == ["views": 1, "downloads": 4])
        #expect(month(events, "10.1729/abcd.434", "2016-03") == ["views": 0, "downloads": 2])
        #expect(month(events, "10.1729/jhik.345", "2016-01") == ["views": 0, "downloads": 0], "a month the JSON omits is 0")
        #expect(month(events, "10.1729/jhik.345", "2016-02") == ["views": 0, "downloads": 1])
    }

    @Test("R5.0.3 IR TSV (Jan-2016 columns) gives exactly the JSON's 18 counts")
    func release50ItemReportTSV() throws {
        let tsv = try readTSV("r5.0.3/Sample-IR.tsv")
        #expect(tsv.itemsWithoutDOI == 1)
        #expect(tsv.events.count == 18)
        #expect(keys(tsv.events) == keys(try readJSON("r5.0.3/Sample-IR.json").events))
    }

    @Test("R5.0.3 IR_A1 (requests only): downloads 0, 1, 0 for 10.1729/jhik.345 in 2016-01...03, no views")
    func release50ArticleRequests() throws {
        let events = try readJSON("r5.0.3/Sample-IR_A1.json").events
        #expect(events.map(\.metric) == ["downloads", "downloads", "downloads"])
        #expect(events.map(\.period?.text) == ["2016-01", "2016-02", "2016-03"])
        #expect(events.map(\.value) == [0, 1, 0])
    }

    @Test("R5.1 IR JSON: 25 works × 12 months × 2 = 600 counts; TDM rows left out; views 169825, downloads 254742")
    func release51ItemReport() throws {
        let reading = try readJSON("r5.1/IR_sample_r51.json")
        #expect(reading.itemsWithoutDOI == 0 && reading.itemsWithInvalidDOI == 0)
        let events = reading.events
        #expect(Set(events.map(\.work)).count == 25)
        #expect(events.count == 600)
        #expect(sums(events) == ["views": 169_825, "downloads": 254_742])
        // Item 1, 2022-01, Regular: investigations 1461, requests 877 (the TDM row's 1328 and 797 are not counted).
        #expect(month(events, "10.9999/xxxxi01", "2022-01") == ["views": 584, "downloads": 877])
        // Item 3 sits under its parent book (Title 1, 10.9999/xxxxt01), which gets no counts of its own.
        #expect(month(events, "10.9999/xxxxi03", "2022-12") == ["views": 418, "downloads": 627])
        #expect(!events.contains { $0.work == "10.9999/xxxxt01" })
    }

    @Test("R5.1 IR TSV gives exactly the JSON's 600 counts")
    func release51ItemReportTSV() throws {
        let tsv = try readTSV("r5.1/IR_sample_r51.tsv").events
        #expect(tsv.count == 600)
        #expect(keys(tsv) == keys(try readJSON("r5.1/IR_sample_r51.json").events))
    }

    @Test("R5.1 IR_A1: 3 works × 12 months of downloads (36), 20556 in all; 10.9999/xxxxi11 2022-01 is 150")
    func release51ArticleRequests() throws {
        let events = try readJSON("r5.1/IRA1_sample_r51.json").events
        #expect(events.count == 36)
        #expect(sums(events) == ["downloads": 20_556])
        #expect(month(events, "10.9999/xxxxi11", "2022-01") == ["downloads": 150])
    }

    @Test("title reports are refused: their DOIs are journals' and books'",
          arguments: ["r5.0.3/Sample-TR.json", "r5.1/TR_sample_r51.json", "r5.0.3/Sample-TR.tsv", "r5.1/TR_sample_r51.tsv"])
    func titleReports(path: String) throws {
        let parser: any ResponseParser = path.hasSuffix(".tsv") ? CounterSUSHITSVParser() : CounterSUSHIJSONParser()
        let error = parseError(parser, String(decoding: try counterSample(path), as: UTF8.self))
        #expect(error?.kind == .invalidValue)
        #expect(error?.message.contains("Report_ID TR") == true, "\(error?.description ?? "no error")")
    }

    @Test("3030 No Usage Available (in the header, bare, or in a TSV) is no events and no error; the exception is kept")
    func noUsage() throws {
        let json = CounterSUSHIJSONParser(), tsv = CounterSUSHITSVParser()
        let release50 = #"{"Report_Header":{"Report_ID":"IR","Release":"5","Exceptions":[{"Code":3030,"Severity":"Error","Message":"No Usage Available for Requested Dates","Data":"2016-01-01 to 2016-03-31"}]},"Report_Items":[]}"#
        let reading = try json.read(Array(release50.utf8), context: context(nil))
        #expect(reading.events.isEmpty)
        #expect(reading.exceptions == [CounterException(code: 3030, message: "No Usage Available for Requested Dates (2016-01-01 to 2016-03-31)")])
        let release51 = #"{"Report_Header":{"Report_ID":"IR","Release":"5.1","Exceptions":[{"Code":3030,"Message":"No Usage Available for Requested Dates"}]}}"#
        #expect(try json.events(from: Array(release51.utf8), context: context(nil)).isEmpty)
        #expect(try json.events(from: Array(#"[{"Code":3031,"Message":"Usage Not Ready for Requested Dates"}]"#.utf8), context: context(nil)).isEmpty)
        let text = "Report_Name\tItem Report\nReport_ID\tIR\nRelease\t5.1\nExceptions\t3030: No Usage Available for Requested Dates (2022-01-01; 2022-12-31)\n\n"
        let tsvReading = try tsv.read(Array(text.utf8), context: context(nil))
        #expect(tsvReading.events.isEmpty)
        #expect(tsvReading.exceptions.map(\.code) == [3030])
    }

    @Test("an item whose DOI is not a DOI is skipped and counted")
    func invalidDOI() throws {
        let body = #"{"Report_Header":{"Report_ID":"IR","Release":"5.1","Report_Filters":{"Begin_Date":"2022-01-01","End_Date":"2022-01-31"}},"Report_Items":[{"Items":[{"Item":"x","Item_ID":{"DOI":"not a doi"},"Attribute_Performance":[{"Performance":{"Total_Item_Requests":{"2022-01":3}}}]}]}]}"#
        let reading = try CounterSUSHIJSONParser().read(Array(body.utf8), context: context(nil))
        #expect(reading.events.isEmpty)
        #expect(reading.itemsWithInvalidDOI == 1)
    }

    @Test("broken reports and SUSHI errors are typed errors naming the field or line",
          arguments: [
            (CounterSUSHIJSONParser() as any ResponseParser, #"{"Report_Header":{"Report_ID":"IR""#, CollectorError.Kind.malformedResponse, "not JSON"),
            (CounterSUSHIJSONParser(), #"{"Code":2000,"Severity":"Error","Message":"Requestor Not Authorized to Access Service"}"#, .sourceError, "2000: Requestor Not Authorized"),
            (CounterSUSHIJSONParser(), #"{"Report_Header":{"Report_ID":"IR","Release":"5"}}"#, .malformedResponse, "Report_Items"),
            (CounterSUSHIJSONParser(), #"{"Report_Header":{"Report_ID":"IR","Release":"4"},"Report_Items":[]}"#, .invalidValue, "Release 4"),
            (CounterSUSHIJSONParser(), #"{"Report_Header":{"Report_ID":"IR","Release":"5.1"},"Report_Items":[{"Items":[{"Item_ID":{"DOI":"10.1/x"},"Attribute_Performance":[{"Performance":{"Total_Item_Requests":{"2022-01":"many"}}}]}]}]}"#, .malformedResponse, "Report_Items[0].Items[0].Attribute_Performance[0].Performance.Total_Item_Requests.2022-01"),
            (CounterSUSHIJSONParser(), #"{"Report_Header":{"Report_ID":"IR","Release":"5.1"},"Report_Items":[{"Items":[{"Item_ID":{"DOI":"10.1/x"},"Attribute_Performance":[{"Performance":{"Total_Item_Requests":{"2022-13":1}}}]}]}]}"#, .malformedResponse, "2022-13 is not a month"),
            (CounterSUSHIJSONParser(), #"{"Report_Header":{"Report_ID":"IR","Release":"5.1"},"Report_Items":[{"Items":[{"Item_ID":{"DOI":"10.1/x"},"Attribute_Performance":[{"Performance":{"Total_Item_Requests":12}}]}]}]}"#, .invalidValue, "Granularity=Month"),
            (CounterSUSHIJSONParser(), #"{"Report_Header":{"Report_ID":"IR","Release":"5"},"Report_Items":[{"Item_ID":[{"Type":"DOI","Value":"10.1/x"}],"Performance":[{"Period":{"Begin_Date":"2016-01-01","End_Date":"2016-03-31"},"Instance":[{"Metric_Type":"Total_Item_Requests","Count":1}]}]}]}"#, .invalidValue, "is not one month"),
            (CounterSUSHIJSONParser(), #"{"Report_Header":{"Report_ID":"IR","Release":"5"},"Report_Items":[{"Item_ID":[{"Type":"DOI","Value":"10.1/x"}],"Performance":[{"Period":{"Begin_Date":"2016-01-01","End_Date":"2016-01-31"},"Instance":[{"Metric_Type":"Total_Item_Investigations","Count":1},{"Metric_Type":"Total_Item_Requests","Count":2}]}]}]}"#, .invalidValue, "exceeds Total_Item_Investigations"),
            (CounterSUSHITSVParser(), "Item\tDOI\tMetric_Type\tJan-2022\n", .malformedResponse, "Report_ID"),
            (CounterSUSHITSVParser(), "Report_ID\tIR\nRelease\t5\n\nItem\tDOI\tMetric_Type\tJan-2022\nA\t10.1/x\tTotal_Item_Requests\tmany\n", .malformedResponse, "line 5, column Jan-2022"),
            (CounterSUSHITSVParser(), "Report_ID\tIR\nRelease\t5\n\nItem\tDOI\tMetric_Type\tReporting_Period_Total\nA\t10.1/x\tTotal_Item_Requests\t4\n", .invalidValue, "Granularity=Month"),
          ] as [(any ResponseParser, String, CollectorError.Kind, String)])
    func malformed(parser: any ResponseParser, body: String, kind: CollectorError.Kind, mentions: String) {
        let error = parseError(parser, body, work: nil)
        #expect(error?.source == "counter")
        #expect(error?.kind == kind)
        #expect(error?.description.contains(mentions) == true, "\(error?.description ?? "no error")")
    }
}
