@testable import ALMCollectors
import ALMCore
import Foundation
import Testing

/// One response each registered parser must read: a recorded fixture where one exists, otherwise a
/// body built from the source's schema or recorded neighbours.
struct ConformanceSample: CustomTestStringConvertible, Sendable {
    let source: String
    let format: String
    let work: String?
    let body: @Sendable () throws -> [UInt8]
    /// A body meaning "nothing here", where the source has one.
    var empty: (@Sendable () throws -> [UInt8])?

    var testDescription: String { "\(source)/\(format)" }

    func parser() throws -> any ResponseParser { try CollectorRegistry.parser(source: source, format: format) }
}

let conformanceSamples: [ConformanceSample] = [
    .init(source: "crossref", format: "rest-work", work: nil, body: { try fixture("crossref/rest-work.json") }),
    .init(source: "crossref", format: "cited-by", work: "10.1371/journal.pone.0043007", body: { try fixture("crossref/cited-by-forward-links.xml") },
          empty: { try fixture("crossref/cited-by-forward-links-empty.xml") }),
    .init(source: "crossref", format: "openurl", work: nil, body: { try fixture("crossref/openurl-fl-count.xml") }),
    .init(source: "openalex", format: "work", work: nil, body: { try fixture("openalex/work-by-doi.json") }),
    .init(source: "europepmc", format: "citations", work: "10.1371/journal.pone.0000001", body: { try fixture("europepmc/citations.json") },
          empty: { try fixture("europepmc/citations-empty.json") }),
    .init(source: "europepmc", format: "search", work: nil, body: { try fixture("europepmc/search-lite.json") }),
    .init(source: "datacite", format: "doi-detail", work: nil, body: { try fixture("datacite/doi-detail.json") }),
    .init(source: "datacite", format: "related", work: "10.1371/journal.ppat.1000446", body: { try fixture("datacite/search-related.json") }),
    .init(source: "reddit", format: "search", work: "10.1371/journal.pone.0008776", body: { try fixture("reddit/search.json") },
          empty: { try fixture("reddit/search-empty.json") }),
    .init(source: "pubmed", format: "pmc-citing", work: "10.1371/journal.pone.0000001", body: { try fixture("pubmed/pmc-citing.xml") },
          empty: { try fixture("pubmed/pmc-citing-empty.xml") }),
    .init(source: "pmc", format: "usage-report", work: nil, body: { try fixture("pmc/usage-report-single-journal.xml") }),
    .init(source: "counter", format: "plos-xml", work: nil, body: { try fixture("counter/plos-counter.xml") },
          empty: { try fixture("counter/plos-counter-empty.xml") }),
    .init(source: "counter", format: "sushi-json", work: nil, body: { try sample("COUNTER-samples/r5.0.3/Sample-IR.json") }),
    .init(source: "counter", format: "sushi-tsv", work: nil, body: { try sample("COUNTER-samples/r5.0.3/Sample-IR.tsv") }),
    .init(source: "accesslog", format: "combined", work: nil, body: {
        Array(("192.0.2.7 - - [10/Oct/2026:13:55:36 -0700] \"GET /article?id=10.1371/journal.pone.0008776 HTTP/1.1\" 200 5120 \"-\" \"Mozilla/5.0 Firefox/133.0\"\n"
            + "192.0.2.7 - - [10/Oct/2026:13:56:01 -0700] \"GET /article/file?id=10.1371/journal.pone.0008776&type=printable HTTP/1.1\" 200 90210 \"-\" \"Mozilla/5.0 Firefox/133.0\"\n").utf8)
    }),
    .init(source: "hypothesis", format: "search", work: "10.1371/journal.pone.0000001", body: {
        Array(try search(total: 2, [annotation(id: "Qm9vaDZ0aGlz"), annotation(id: "c2Vjb25k")]).utf8)
    }, empty: { Array(try search(total: 0, []).utf8) }),
    .init(source: "wikipedia", format: "search", work: "10.1371/journal.pone.0008776", body: {
        try Cassette(fixture: "wikipedia/search-doi.cassette.yml").interactions[0].body
    }, empty: { try Cassette(fixture: "wikipedia/search-doi-none.cassette.yml").interactions[0].body }),
    .init(source: "wikipedia", format: "page-links-change", work: nil, body: {
        try WikipediaLinksChangeTests().linksChange(["added_links": [["external": true, "link": "https://doi.org/10.1371/journal.pone.0008776"]]])
    }),
    .init(source: "opencitations", format: "citations", work: "10.1108/jd-12-2013-0166", body: {
        try Cassette(fixture: "opencitations/coci-citations.cassette.yml").interactions[0].body
    }),
    .init(source: "opencitations", format: "metadata", work: nil, body: {
        try Cassette(fixture: "opencitations/coci-metadata.cassette.yml").interactions[0].body
    }),
    .init(source: "eventdata", format: "events", work: nil, body: { try fixture("eventdata/events-with-edits-and-deletes.json") }),
    .init(source: "bluesky", format: "jetstream", work: nil, body: {
        let tests = BlueskyTests()
        return try tests.jsonLines([try tests.recordedPost(facetURL: "https://doi.org/10.1038/nature19798",
                                                           embedURL: "https://doi.org/10.1371/journal.pone.0008776")])
    }, empty: { try fixture("bluesky/jetstream-v1.jsonl") }),
]

private func sample(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: sharedDirectory.appendingPathComponent("data").appendingPathComponent(path)))
}

/// What every collector guarantees, checked for every registered parser: a new one without a sample
/// here fails the first test.
@Suite("collectors: conformance of every parser")
struct ConformanceTests {
    @Test("every registered parser has a conformance sample")
    func everyParserIsCovered() {
        let registered = Set(CollectorRegistry.parsers.map { "\($0.source)/\($0.format)" })
        let sampled = Set(conformanceSamples.map(\.testDescription))
        #expect(registered == sampled, "missing: \(registered.subtracting(sampled).sorted()); stale: \(sampled.subtracting(registered).sorted())")
    }

    @Test("events are schema-valid, of the parser's source, keyed by normalised DOIs, with stable ids", arguments: conformanceSamples)
    func validStableEvents(sample: ConformanceSample) throws {
        let body = try sample.body()
        let first = try sample.parser().events(from: body, context: context(sample.work))
        #expect(!first.isEmpty)
        for event in first {
            #expect(event.source == sample.source)
            #expect(DOI.isNormalized(event.work), "\(event.work)")
            let bytes = event.encodedJSON()
            #expect(try RawEventDecoder.decode(bytes).encodedJSON() == bytes, "re-reads as the same event")
            if event.kind == .event { #expect(event.id?.isEmpty == false) }
        }
        // Collected again later: the same occurrences, the same ids; only observed_at moves.
        let later = ResponseContext(work: sample.work.map { WorkIdentifiers(doi: try! DOI.normalize($0)) },
                                    observedAt: try Timestamp(parsing: "2027-01-01T00:00:00Z"))
        let second = try sample.parser().events(from: body, context: later)
        func identity(_ events: [RawEvent]) -> [String] {
            events.map { "\($0.kind) \($0.id ?? "-") \($0.work) \($0.metric) \($0.value) \($0.period?.text ?? "-") \($0.action)" }
        }
        #expect(identity(second) == identity(first))
    }

    @Test("a body that says there is nothing yields no events and no error", arguments: conformanceSamples.filter { $0.empty != nil })
    func emptyMeansNoEvents(sample: ConformanceSample) throws {
        #expect(try sample.parser().events(from: try sample.empty!(), context: context(sample.work)).isEmpty)
    }

    @Test("garbage is a typed error of the parser's source; a body cut short is an error or fewer events, never a crash",
          arguments: conformanceSamples)
    func malformedIsATypedError(sample: ConformanceSample) throws {
        let parser = try sample.parser()
        do {
            let events = try parser.events(from: Array("\u{1}\u{2} <html>502 Bad Gateway".utf8), context: context(sample.work))
            Issue.record("\(sample.testDescription) accepted garbage: \(events.count) events")
        } catch {
            #expect(error.source == sample.source)
            #expect(!error.message.isEmpty)
        }
        let whole = try parser.events(from: try sample.body(), context: context(sample.work)).count
        do {
            // Line-oriented formats (logs, JSON lines) may read the lines before the cut; nothing more.
            let events = try parser.events(from: Array(try sample.body().prefix(200)), context: context(sample.work))
            #expect(events.count < whole, "\(sample.testDescription) read \(events.count) of \(whole) events from 200 bytes")
        } catch let error as CollectorError {
            #expect(error.source == sample.source)
        }
    }
}
