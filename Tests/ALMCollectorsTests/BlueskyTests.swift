import ALMCollectors
import ALMCore
import Foundation
import Testing

@Suite("collectors: Bluesky Jetstream")
struct BlueskyTests {
    /// The recorded lines, as JSON objects.
    func recordedLines() throws -> [[String: Any]] {
        let text = String(decoding: try fixture("bluesky/jetstream-v1.jsonl"), as: UTF8.self)
        return try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    func jsonLines(_ objects: [[String: Any]]) throws -> [UInt8] {
        try objects.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
            .joined(separator: "\n").utf8.map { $0 }
    }

    /// The recorded post `3mptbyoeyc22k` (a link facet and an external embed, both to YouTube), its links
    /// replaced: the facet links `facetURL`, the embed `embedURL`.
    func recordedPost(facetURL: String, embedURL: String, createdAt: String? = nil) throws -> [String: Any] {
        var line = try #require(try recordedLines().first { ($0["commit"] as? [String: Any])?["rkey"] as? String == "3mptbyoeyc22k" })
        var commit = try #require(line["commit"] as? [String: Any])
        var record = try #require(commit["record"] as? [String: Any])
        var facet = try #require((record["facets"] as? [[String: Any]])?.first)
        var feature = try #require((facet["features"] as? [[String: Any]])?.first)
        feature["uri"] = facetURL
        facet["features"] = [feature]
        record["facets"] = [facet]
        var embed = try #require(record["embed"] as? [String: Any])
        var external = try #require(embed["external"] as? [String: Any])
        external["uri"] = embedURL
        embed["external"] = external
        record["embed"] = embed
        if let createdAt { record["createdAt"] = createdAt }
        commit["record"] = record
        line["commit"] = commit
        return line
    }

    let did = "did:plc:dclwtltrt2ggsryagfzk7dp4"
    let postTime: Int64 = 1_783_175_888_090_631

    func commitLine(_ operation: String, timeMicroseconds: Int64, record: [String: Any]? = nil) -> [String: Any] {
        var commit: [String: Any] = ["rev": "3mptbz", "operation": operation, "collection": "app.bsky.feed.post", "rkey": "3mptbyoeyc22k"]
        commit["record"] = record
        return ["did": did, "time_us": timeMicroseconds, "kind": "commit", "commit": commit]
    }

    @Test("the recorded 152 events: 144 creates, 2 updates, 4 deletes, 1 identity, 1 account; no DOI → 0 events")
    func recorded() throws {
        var memory = JetstreamMemory()
        let batch = try memory.read(try fixture("bluesky/jetstream-v1.jsonl"), observedAt: observed)
        #expect(batch.events.isEmpty)
        #expect(batch.tally == JetstreamTally(creates: 144, updates: 2, deletes: 4, identity: 1, account: 1))

        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(try fixture("bluesky/jetstream-v1.manifest.json"))) as? [String: Any])
        let manifestCounts = ["creates", "updates", "deletes", "identity", "account"].map { manifest[$0] as? Int }
        #expect(manifestCounts == [batch.tally.creates, batch.tally.updates, batch.tally.deletes, batch.tally.identity, batch.tally.account])
        #expect(memory.cursor == 1_783_175_888_390_226, "the last line's time_us")
        #expect(memory.linkedDOIs.isEmpty)
    }

    @Test("a post linking DOIs in a facet and an embed: one discusses event per DOI; its delete, in a later batch, retracts both")
    func postThenDelete() throws {
        let parser = BlueskyJetstreamParser()
        let post = try recordedPost(facetURL: "https://doi.org/10.1038/nature19798",
                                    embedURL: "https://journals.plos.org/plosone/article?id=10.1371/journal.pone.0008776")
        let added = try parser.events(from: try jsonLines([post]), context: context(nil))
        let key = "\(did)/3mptbyoeyc22k"
        #expect(added.map(\.id) == ["bluesky:\(key):10.1038/nature19798", "bluesky:\(key):10.1371/journal.pone.0008776"])
        #expect(added.map(\.work) == ["10.1038/nature19798", "10.1371/journal.pone.0008776"])
        #expect(added.allSatisfy { $0.action == .add && $0.metric == "discusses" && $0.source == "bluesky" })
        #expect(added.allSatisfy { $0.subj == "at://\(did)/app.bsky.feed.post/3mptbyoeyc22k" })
        #expect(added.map(\.obj) == ["https://doi.org/10.1038/nature19798",
                                     "https://journals.plos.org/plosone/article?id=10.1371/journal.pone.0008776"])
        #expect(added.allSatisfy { $0.occurredAt?.text == "2026-07-04T14:38:06.240Z" }, "the post's createdAt")
        #expect(parser.memory.linkedDOIs == [key: ["10.1038/nature19798", "10.1371/journal.pone.0008776"]])

        let deleteTime = postTime + 5_000_000
        let retracted = try parser.events(from: try jsonLines([commitLine("delete", timeMicroseconds: deleteTime)]), context: context(nil))
        #expect(retracted.map(\.action) == [.delete, .delete])
        #expect(retracted.map(\.id) == added.map(\.id))
        #expect(retracted.map(\.work) == added.map(\.work))
        #expect(retracted.allSatisfy { $0.occurredAt == Timestamp(microsecondsSinceEpoch: deleteTime) })
        #expect(countedEvents(added + retracted).isEmpty && countedEvents(retracted + added).isEmpty, "retracted in any order")
        #expect(parser.memory.linkedDOIs.isEmpty)
        #expect(parser.memory.cursor == deleteTime)
    }

    @Test("the same DOI in facet and embed is one event; an update retracts a dropped link and adds a new one")
    func sameDOIAndUpdates() throws {
        var memory = JetstreamMemory()
        let post = try recordedPost(facetURL: "https://doi.org/10.1038/nature19798", embedURL: "http://dx.doi.org/10.1038/NATURE19798")
        let created = try memory.read(try jsonLines([post]), observedAt: observed).events
        #expect(created.map(\.work) == ["10.1038/nature19798"])

        var record = try #require((post["commit"] as? [String: Any])?["record"] as? [String: Any])
        record["facets"] = [["features": [["$type": "app.bsky.richtext.facet#link", "uri": "https://doi.org/10.5555/12345678"]],
                             "index": ["byteStart": 0, "byteEnd": 10]]]
        record["embed"] = nil
        let updateTime = postTime + 60_000_000
        let updated = try memory.read(try jsonLines([commitLine("update", timeMicroseconds: updateTime, record: record)]), observedAt: observed).events
        #expect(updated.map(\.action) == [.add, .delete])
        #expect(updated.map(\.work) == ["10.5555/12345678", "10.1038/nature19798"])
        #expect(updated.allSatisfy { $0.occurredAt == Timestamp(microsecondsSinceEpoch: updateTime) })
        #expect(countedByWork(created + updated) == ["10.5555/12345678 discusses": 1])
    }

    @Test("a createdAt ahead of Jetstream's clock is capped, so the post's delete still follows it; a replayed create adds again")
    func futureCreatedAtAndReplay() throws {
        var memory = JetstreamMemory()
        let post = try recordedPost(facetURL: "https://doi.org/10.1038/nature19798", embedURL: "https://example.org/",
                                    createdAt: "2030-01-01T00:00:00Z")
        let body = try jsonLines([post])
        let added = try memory.read(body, observedAt: observed).events
        #expect(added.map(\.occurredAt) == [Timestamp(microsecondsSinceEpoch: postTime)])
        let replayed = try memory.read(body, observedAt: observed).events
        #expect(replayed == added, "idempotent: the same ids again")
        let deleted = try memory.read(try jsonLines([commitLine("delete", timeMicroseconds: postTime + 1)]), observedAt: observed).events
        #expect(countedEvents(added + deleted).isEmpty)
    }

    @Test("the memory survives a restart: persisted and restored, a later delete still retracts")
    func persistedMemory() throws {
        let first = BlueskyJetstreamParser()
        let post = try recordedPost(facetURL: "https://doi.org/10.1038/nature19798", embedURL: "https://example.org/")
        _ = try first.events(from: try jsonLines([post]), context: context(nil))
        let saved = try JSONEncoder().encode(first.memory)

        let restarted = BlueskyJetstreamParser(memory: try JSONDecoder().decode(JetstreamMemory.self, from: saved))
        #expect(restarted.memory.cursor == postTime)
        let retracted = try restarted.events(from: try jsonLines([commitLine("delete", timeMicroseconds: postTime + 1)]), context: context(nil))
        #expect(retracted.map(\.work) == ["10.1038/nature19798"])
        #expect(retracted.map(\.action) == [.delete])
    }

    @Test("a malformed line is a typed error naming its line; the memory is left as it was")
    func malformedLines() throws {
        var memory = JetstreamMemory(cursor: 42)
        let good = String(decoding: try jsonLines([try recordedPost(facetURL: "https://doi.org/10.1/x", embedURL: "https://example.org/")]), as: UTF8.self)
        do {
            _ = try memory.read(Array("\(good)\n\n{\"did\":\"did:plc:x\",\"time_us\":1,".utf8), observedAt: observed)
            Issue.record("no error")
        } catch {
            #expect(error.kind == .malformedResponse)
            #expect(error.message.hasPrefix("line 3: not JSON"), "\(error.message)")
        }
        #expect(memory == JetstreamMemory(cursor: 42))

        let cases = [
            (#"{"did":"did:plc:x","kind":"commit"}"#, "line 1: time_us"),
            (#"{"did":"did:plc:x","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post"}}"#, "line 1: commit.rkey"),
            (#"{"did":"did:plc:x","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"r"}}"#, "line 1: commit.record"),
            ("[1]", "line 1: expected a JSON object"),
        ]
        for (body, mentions) in cases {
            let error = parseError(BlueskyJetstreamParser(), body, work: nil)
            #expect(error?.source == "bluesky")
            #expect(error?.message.hasPrefix(mentions) == true, "\(error?.description ?? "no error")")
        }
    }
}
