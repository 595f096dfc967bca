import ALMCollectors
import ALMCore
import Foundation
import Testing
import Yams

@Suite("collectors: Wikipedia search")
struct WikipediaSearchTests {
    static let work = "10.1371/journal.pone.0008776"

    @Test("14 recorded pages: totalhits 677, 627 distinct pages → 627 distinct ids; the first Bostrycapulus aculeatus 2015-03-21T07:47:45Z")
    func recordedSearch() throws {
        let cassette = try Cassette(fixture: "wikipedia/search-doi.cassette.yml")
        #expect(cassette.interactions.count == 14)
        var pages: [WikipediaSearchParser.Page] = []
        for interaction in cassette.interactions {
            // The wiki's language comes from the host the request went to.
            let host = try #require(URLComponents(string: interaction.uri)?.host)
            #expect(host == "en.wikipedia.org")
            let parser = WikipediaSearchParser(language: String(host.prefix { $0 != "." }))
            pages.append(try parser.page(from: interaction.body, context: context(Self.work)))
        }
        #expect(pages.allSatisfy { $0.totalHits == 677 })
        #expect(pages.map(\.nextOffset) == (1...13).map { UInt64($0 * 50) } + [nil])

        let events = pages.flatMap(\.events)
        #expect(events.count == 677, "every hit of every page, overlaps included")
        #expect(Set(events.compactMap(\.id)).count == 627, "pages overlap: 627 distinct page titles")
        #expect(Set(events.compactMap(\.subj)).count == 627)
        #expect(events.allSatisfy { $0.kind == .event && $0.metric == "references" && $0.work == Self.work && $0.source == "wikipedia" })

        let first = events[0]
        #expect(first.id == "wikipedia:en:Bostrycapulus_aculeatus:10.1371/journal.pone.0008776")
        #expect(first.subj == "https://en.wikipedia.org/wiki/Bostrycapulus_aculeatus")
        #expect(first.obj == "https://doi.org/10.1371/journal.pone.0008776")
        #expect(first.occurredAt?.text == "2015-03-21T07:47:45Z")
        #expect(first.observedAt == observed)
    }

    @Test("the search with no hits: totalhits 0, no events, no error")
    func noHits() throws {
        let cassette = try Cassette(fixture: "wikipedia/search-doi-none.cassette.yml")
        #expect(cassette.interactions.count == 1)
        let page = try WikipediaSearchParser().page(from: cassette.interactions[0].body, context: context("10.1371/journal.pone.0044294"))
        #expect(page.totalHits == 0)
        #expect(page.events.isEmpty)
        #expect(page.nextOffset == nil)
    }

    @Test("the wiki is the parser's language; titles are percent-encoded as MediaWiki links them")
    func languageAndTitles() throws {
        let body = #"{"query":{"searchinfo":{"totalhits":1},"search":[{"ns":0,"title":"AT&T 100% – Q?","timestamp":"2020-01-02T03:04:05Z"}]}}"#
        let events = try WikipediaSearchParser(language: "de").events(from: Array(body.utf8), context: context("10.1/x"))
        #expect(events.map(\.id) == ["wikipedia:de:AT&T_100%_–_Q?:10.1/x"])
        #expect(events.map(\.subj) == ["https://de.wikipedia.org/wiki/AT%26T_100%25_%E2%80%93_Q%3F"])
    }

    @Test("an API error, a hit without timestamp, and a missing work are typed errors")
    func errors() {
        let apiError = parseError(WikipediaSearchParser(), #"{"error":{"code":"srsearch-text-disabled","info":"text search is disabled"}}"#)
        #expect(apiError?.kind == .sourceError)
        #expect(apiError?.message.contains("text search is disabled") == true)
        let noTimestamp = parseError(WikipediaSearchParser(), #"{"query":{"searchinfo":{"totalhits":1},"search":[{"title":"X"}]}}"#)
        #expect(noTimestamp?.kind == .malformedResponse)
        #expect(noTimestamp?.message.contains("query.search[0].timestamp") == true)
        let badTimestamp = parseError(WikipediaSearchParser(), #"{"query":{"searchinfo":{"totalhits":1},"search":[{"title":"X","timestamp":"yesterday"}]}}"#)
        #expect(badTimestamp?.message.contains("query.search[0].timestamp") == true)
        #expect(parseError(WikipediaSearchParser(), #"{"query":{"searchinfo":{"totalhits":0},"search":[]}}"#, work: nil)?.kind == .workRequired)
    }
}

@Suite("collectors: Server-Sent Events")
struct ServerSentEventTests {
    @Test("the recorded recentchange stream: 3 frames with id and JSON data; resume from the last id")
    func recordedStream() throws {
        let bytes = try fixture("wikipedia/eventstreams-recentchange.sse")
        let frames = ServerSentEventParser.frames(in: bytes)
        #expect(frames.count == 3)
        #expect(frames.allSatisfy { $0.event == "message" && $0.id?.hasPrefix(#"[{"topic":"eqiad.mediawiki.recentchange""#) == true })
        var domains: [String] = []
        for frame in frames {
            let change = try #require(try JSONSerialization.jsonObject(with: Data(frame.data.utf8)) as? [String: Any])
            domains.append(try #require((change["meta"] as? [String: Any])?["domain"] as? String))
        }
        #expect(domains == ["commons.wikimedia.org", "en.wiktionary.org", "www.wikidata.org"])

        // The capture ends without the blank line after its last frame: only `finish` completes it.
        var parser = ServerSentEventParser()
        var chunked: [ServerSentEvent] = []
        for start in stride(from: 0, to: bytes.count, by: 7) {
            chunked += parser.feed(bytes[start..<min(start + 7, bytes.count)])
        }
        #expect(chunked.count == 2)
        chunked += parser.finish().map { [$0] } ?? []
        #expect(chunked == frames, "chunk boundaries change nothing")
        #expect(parser.lastEventID == frames[2].id)
    }

    @Test("multi-line data, comments, CRLF and CR endings, a CRLF split across chunks, id persistence")
    func framing() {
        var parser = ServerSentEventParser()
        var frames = parser.feed(Array(": a comment\r\nevent: update\r\ndata: first\r\ndata:second\r\nid: 7\r\n\r".utf8))
        frames += parser.feed(Array("\ndata: no id field\r\rdata\n\nid\nretry: 2500\ndata: x\n".utf8))
        #expect(frames == [
            ServerSentEvent(id: "7", event: "update", data: "first\nsecond"),
            ServerSentEvent(id: "7", data: "no id field"),
            ServerSentEvent(id: "7", data: ""),
        ])
        #expect(parser.reconnectionMilliseconds == 2500)
        #expect(parser.finish() == ServerSentEvent(id: "", data: "x"), "an empty id field resets the id")
        #expect(parser.finish() == nil)
    }

    @Test("a frame without data is not dispatched but its id counts; an id with NUL is ignored; a BOM is skipped")
    func edgeCases() {
        #expect(ServerSentEventParser.frames(in: Array("id: 1\n\nid: 2\u{0}\ndata: a\n\n".utf8)) == [ServerSentEvent(id: "1", data: "a")])
        #expect(ServerSentEventParser.frames(in: Array("\u{FEFF}data: b\n\n".utf8)) == [ServerSentEvent(id: nil, data: "b")])
        var parser = ServerSentEventParser(lastEventID: "resumed")
        #expect(parser.feed(line: "data: c") == nil)
        #expect(parser.feed(line: "") == ServerSentEvent(id: "resumed", data: "c"))
    }
}

@Suite("collectors: Wikipedia page-links-change")
struct WikipediaLinksChangeTests {
    /// The example of wikipedia/page-links-change.schema.yaml, on an article of the English Wikipedia,
    /// with `changes` merged in (`dt` goes to `meta.dt`).
    func linksChange(_ changes: [String: Any]) throws -> [UInt8] {
        var changes = changes
        let schema = try #require(try Yams.load(yaml: String(decoding: try fixture("wikipedia/page-links-change.schema.yaml"), as: UTF8.self)) as? [String: Any])
        var event = try #require((schema["examples"] as? [Any])?.first as? [String: Any])
        var meta = try #require(event["meta"] as? [String: Any])
        meta["domain"] = "en.wikipedia.org"
        meta["stream"] = "mediawiki.page-links-change"
        if let dt = changes.removeValue(forKey: "dt") { meta["dt"] = dt }
        event["meta"] = meta
        event["page_title"] = "Bostrycapulus_aculeatus"
        event["database"] = "enwiki"
        event.merge(changes) { _, new in new }
        return Array(try JSONSerialization.data(withJSONObject: event))
    }

    let parser = WikipediaLinksChangeParser()

    @Test("an added DOI link is a references add with the search's id; its removal a delete of that id, later")
    func addThenRemove() throws {
        let added = try parser.events(from: try linksChange(["added_links": [
            ["external": true, "link": "https://doi.org/10.1371/journal.pone.0008776"],
            ["external": false, "link": "Crepidula"],
            ["external": true, "link": "https://example.org/about"],
        ]]), context: context(nil))
        #expect(added.count == 1)
        let add = try #require(added.first)
        #expect(add.action == .add && add.metric == "references" && add.work == "10.1371/journal.pone.0008776")
        #expect(add.id == "wikipedia:en:Bostrycapulus_aculeatus:10.1371/journal.pone.0008776", "the id search gives this page")
        #expect(add.subj == "https://en.wikipedia.org/wiki/Bostrycapulus_aculeatus")
        #expect(add.obj == "https://doi.org/10.1371/journal.pone.0008776")
        #expect(add.occurredAt?.text == "2020-07-01T00:00:00Z", "meta.dt of the schema's example")

        let removed = try parser.events(from: try linksChange([
            "dt": "2020-07-02T00:00:00Z",
            "removed_links": [["external": true, "link": "http://dx.doi.org/10.1371/JOURNAL.PONE.0008776"]],
        ]), context: context(nil))
        #expect(removed.count == 1)
        let delete = try #require(removed.first)
        #expect(delete.action == .delete)
        #expect(delete.id == add.id && delete.work == add.work)
        #expect(try #require(delete.occurredAt) > #require(add.occurredAt), "the removal decides under latest occurred_at")
    }

    @Test("a changed link (old form removed, new form added) stays; a non-article page gives nothing")
    func changedLinkAndNamespaces() throws {
        let changed = try parser.events(from: try linksChange([
            "added_links": [["external": true, "link": "https://doi.org/10.1371/journal.pone.0008776"]],
            "removed_links": [["external": true, "link": "http://dx.doi.org/10.1371/journal.pone.0008776"],
                              ["external": true, "link": "https://doi.org/10.5555/12345678"]],
        ]), context: context(nil))
        #expect(changed.map(\.action) == [.add, .delete])
        #expect(changed.map(\.work) == ["10.1371/journal.pone.0008776", "10.5555/12345678"])

        let talkPage = try parser.events(from: try linksChange([
            "page_namespace": 1, "added_links": [["external": true, "link": "https://doi.org/10.5555/12345678"]],
        ]), context: context(nil))
        #expect(talkPage.isEmpty)
    }

    @Test("missing page_title, a bad meta.dt, or links that are not a list are typed errors")
    func errors() throws {
        let noTitle = String(decoding: try linksChange(["page_title": NSNull()]), as: UTF8.self)
        #expect(parseError(parser, noTitle)?.message.contains("page_title") == true)
        let badDate = String(decoding: try linksChange(["dt": "July 2020"]), as: UTF8.self)
        #expect(parseError(parser, badDate)?.message.contains("meta.dt") == true)
        let badLinks = String(decoding: try linksChange(["added_links": "https://doi.org/10.1/x"]), as: UTF8.self)
        #expect(parseError(parser, badLinks)?.message.contains("added_links") == true)
    }
}
