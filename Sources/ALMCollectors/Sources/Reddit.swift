import ALMCore
import Foundation

/// reddit `GET /search.json?q="{doi}"`: each post linking the work is a `discusses` event (reddit's
/// own fullname as id, its poster as `meta.author`); the posts' scores and comment counts are `likes`
/// and `comments` totals.
public struct RedditSearchParser: ResponseParser {
    public let source = "reddit"
    public let format = "search"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let json = JSONResponse(source: source)
        let root = try json.object(body)
        let work = try context.requireWork(source).doi
        let children = try json.array(try json.object(root, "data", at: ""), "children", at: "data.")
        let factory = EventFactory(source: source, observedAt: context.observedAt)
        var events: [RawEvent] = []
        var likes: UInt64 = 0, comments: UInt64 = 0
        for (index, child) in children.enumerated() {
            let path = "data.children[\(index)].data."
            guard let post = (child as? [String: Any])?["data"] as? [String: Any] else {
                throw CollectorError(source: source, kind: .malformedResponse, "\(path.dropLast()): expected an object")
            }
            let name = try json.string(post, "name", at: path)
            let permalink = try json.string(post, "permalink", at: path)
            let created = (post["created_utc"] as? NSNumber)?.doubleValue
            let occurred = created.flatMap { Timestamp(microsecondsSinceEpoch: Int64($0) * 1_000_000) }
            // The poster, so that the attention score counts one mention per author; a deleted account
            // ("[deleted]") names no one, and its post counts alone.
            let author = (post["author"] as? String).flatMap { $0.isEmpty || $0 == "[deleted]" ? nil : "reddit:u/" + $0 }
            events.append(try factory.event(id: "reddit:\(name)", work: work, metric: "discusses",
                                            subj: "https://www.reddit.com" + permalink, obj: "https://doi.org/\(work)",
                                            occurredAt: occurred, meta: author.flatMap { metaText(["author": $0]) }))
            // reddit reports a negative score for downvoted posts; the likes total counts upvotes only.
            if let score = (post["score"] as? NSNumber)?.int64Value, score > 0 { likes += UInt64(score) }
            comments += try json.count(post, "num_comments", at: path)
        }
        guard !events.isEmpty else { return [] }
        events.append(try factory.total(work: work, metric: "likes", value: likes))
        events.append(try factory.total(work: work, metric: "comments", value: comments))
        return events
    }
}
