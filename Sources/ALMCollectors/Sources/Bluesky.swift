import ALMCore
import Foundation
import Synchronization

/// What the Bluesky Jetstream reader must remember between batches: a delete names only the post, so
/// the DOIs each post linked are kept to retract them. Only posts that link a DOI are remembered.
///
/// The live collector persists this value (it is `Codable`, and carries the cursor) once a batch's
/// events are produced, and restores it on restart: without it, a post deleted after a restart keeps
/// counting; persisted before producing, a crash in between would lose that batch's retractions.
public struct JetstreamMemory: Sendable, Equatable, Codable {
    /// `did/rkey` of a post → the DOIs it links now.
    public var linkedDOIs: [String: [String]]
    /// The `time_us` of the last event read: where to reconnect (`?cursor=`). Reconnecting a few seconds
    /// earlier is harmless, since the same post gives the same event ids.
    public var cursor: Int64?

    public init(linkedDOIs: [String: [String]] = [:], cursor: Int64? = nil) {
        self.linkedDOIs = linkedDOIs
        self.cursor = cursor
    }
}

/// How many Jetstream events of each kind a batch held.
public struct JetstreamTally: Sendable, Equatable {
    public var creates = 0
    public var updates = 0
    public var deletes = 0
    public var identity = 0
    public var account = 0
    /// Lines of a kind or commit operation this reader does not know.
    public var other = 0

    public init(creates: Int = 0, updates: Int = 0, deletes: Int = 0, identity: Int = 0, account: Int = 0, other: Int = 0) {
        (self.creates, self.updates, self.deletes, self.identity, self.account, self.other) = (creates, updates, deletes, identity, account, other)
    }
}

/// What one Jetstream batch yields.
public struct JetstreamBatch: Sendable {
    public var events: [RawEvent]
    public var tally: JetstreamTally
}

extension JetstreamMemory {
    static let source = "bluesky"

    /// Reads a batch of Jetstream v1 JSON lines (`wss://…/subscribe?wantedCollections=app.bsky.feed.post`):
    /// each post that links a DOI (a link facet, or an external embed) is a `discusses` event per DOI, id
    /// `bluesky:<did>/<rkey>:<doi>`; deleting the post, or updating it to drop the link, retracts it.
    ///
    /// Dates: an add is dated by the post's `createdAt`, but never later than the `time_us` at which
    /// Jetstream saw it (`createdAt` is the client's clock, and can be in the future); a retraction by
    /// its own `time_us`. So a retraction is dated after its add and wins under the processor's
    /// latest-`occurred_at` rule, whatever order the records arrive in. A DOI added by an update is
    /// dated by the update's `time_us`, so it also follows an earlier retraction of the same link.
    ///
    /// Strict about Jetstream's envelope (a line that is not JSON, or lacks `did`, `time_us`, `kind` or a
    /// commit's `operation`, `collection`, `rkey`, is an error naming the line; the memory is then left as
    /// it was); lenient inside a post's record, which is user content: a facet or embed of an unexpected
    /// shape links nothing, an unreadable `createdAt` falls back to `time_us`.
    public mutating func read(_ body: [UInt8], observedAt: Timestamp, resolve: IdentifierResolver? = nil) throws(CollectorError) -> JetstreamBatch {
        var next = self
        let json = JSONResponse(source: Self.source)
        let factory = EventFactory(source: Self.source, observedAt: observedAt)
        var events: [RawEvent] = []
        var tally = JetstreamTally()
        for (number, bytes) in jsonLines(body) {
            let line = try json.object(line: bytes, number: number)
            let at = "line \(number): "
            let did = try json.string(line, "did", at: at)
            let timeMicroseconds = try json.count(line, "time_us", at: at)
            guard let seen = Timestamp(microsecondsSinceEpoch: Int64(timeMicroseconds)) else {
                throw CollectorError(source: Self.source, kind: .malformedResponse, "\(at)time_us: \(timeMicroseconds) is not a date")
            }
            next.cursor = Int64(timeMicroseconds)
            switch try json.string(line, "kind", at: at) {
            case "identity": tally.identity += 1
            case "account": tally.account += 1
            case "commit":
                let commit = try json.object(line, "commit", at: at)
                let path = at + "commit."
                let operation = try json.string(commit, "operation", at: path)
                let collection = try json.string(commit, "collection", at: path)
                let rkey = try json.string(commit, "rkey", at: path)
                switch operation {
                case "create": tally.creates += 1
                case "update": tally.updates += 1
                case "delete": tally.deletes += 1
                default: tally.other += 1
                }
                guard collection == "app.bsky.feed.post" else { continue }
                let post = Post(did: did, rkey: rkey)
                let before = next.linkedDOIs[post.key] ?? []
                var links: [(url: String, doi: String)] = []
                var added: [String] = [], occurred = seen
                switch operation {
                case "create", "update":
                    let record = try json.object(commit, "record", at: path)
                    links = Self.doiLinks(in: record, resolve: resolve)
                    let now = links.map(\.doi)
                    // A create is read in full even when remembered (a replayed batch): its adds are idempotent.
                    added = operation == "create" ? now : now.filter { !before.contains($0) }
                    if operation == "create", let createdAt = (record["createdAt"] as? String).flatMap({ try? Timestamp(parsing: $0) }) {
                        occurred = min(createdAt, seen)
                    }
                    next.linkedDOIs[post.key] = now.isEmpty ? nil : now
                case "delete":
                    next.linkedDOIs[post.key] = nil
                default:
                    continue
                }
                let current = next.linkedDOIs[post.key] ?? []
                for doi in added {
                    let url = links.first { $0.doi == doi }?.url
                    events.append(try factory.event(id: post.eventID(doi: doi), work: doi, metric: "discusses",
                                                    subj: post.uri, obj: url, occurredAt: occurred))
                }
                for doi in before where !current.contains(doi) {
                    events.append(try factory.event(id: post.eventID(doi: doi), work: doi, metric: "discusses",
                                                    subj: post.uri, obj: nil, occurredAt: seen, action: .delete))
                }
            default:
                tally.other += 1
            }
        }
        self = next
        return JetstreamBatch(events: events, tally: tally)
    }

    private struct Post {
        let did: String
        let rkey: String
        var key: String { "\(did)/\(rkey)" }
        var uri: String { "at://\(did)/app.bsky.feed.post/\(rkey)" }
        func eventID(doi: String) -> String { "bluesky:\(key):\(doi)" }
    }

    /// The DOI links of a post record: link facets, and an external embed (alone or beside a quoted post).
    private static func doiLinks(in record: [String: Any], resolve: IdentifierResolver?) -> [(url: String, doi: String)] {
        var urls: [String] = []
        for facet in record["facets"] as? [Any] ?? [] {
            for feature in (facet as? [String: Any])?["features"] as? [Any] ?? [] {
                guard let feature = feature as? [String: Any], feature["$type"] as? String == "app.bsky.richtext.facet#link",
                    let uri = feature["uri"] as? String
                else { continue }
                urls.append(uri)
            }
        }
        if let embed = record["embed"] as? [String: Any] {
            for candidate in [embed, embed["media"] as? [String: Any] ?? [:]] {
                if let uri = (candidate["external"] as? [String: Any])?["uri"] as? String { urls.append(uri) }
            }
        }
        var seen = OrderedDOIs()
        var links: [(url: String, doi: String)] = []
        for url in urls {
            for doi in DOIExtractor.dois(inURL: url, resolving: resolve) where !seen.dois.contains(doi) {
                seen.add(doi)
                links.append((url, doi))
            }
        }
        return links
    }
}

/// Bluesky Jetstream as a `ResponseParser` (format `jetstream`): a body of JSON lines, read with the
/// `JetstreamMemory` this parser holds, so a later batch's deletes retract earlier batches' posts.
/// `memory` is what the live collector persists after each batch and passes to `init(memory:)` on restart.
public final class BlueskyJetstreamParser: ResponseParser {
    public let source = JetstreamMemory.source
    public let format = "jetstream"
    private let state: Mutex<JetstreamMemory>

    public init(memory: JetstreamMemory = JetstreamMemory()) {
        state = Mutex(memory)
    }

    public var memory: JetstreamMemory {
        state.withLock { $0 }
    }

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        try read(body, observedAt: context.observedAt, resolve: context.resolve).events
    }

    /// The events of a batch and the count of each kind of line it held.
    public func read(_ body: [UInt8], observedAt: Timestamp, resolve: IdentifierResolver? = nil) throws(CollectorError) -> JetstreamBatch {
        try state.withLock { (memory: inout JetstreamMemory) throws(CollectorError) -> JetstreamBatch in
            try memory.read(body, observedAt: observedAt, resolve: resolve)
        }
    }
}
