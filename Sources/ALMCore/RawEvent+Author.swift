import Foundation

extension RawEvent {
    /// Who made the mention, when the record tells: `meta.author` (a handle or account id), or else the
    /// authority of an AT Protocol URI in `subj` (`at://did:plc:.../app.bsky.feed.post/...`: the DID of
    /// the post's author). Nil when unknown. The attention score counts one mention per known author.
    public var author: String? {
        if let meta, meta.contains("\"author\""),
           let object = try? JSONSerialization.jsonObject(with: Data(meta.utf8)) as? [String: Any],
           let author = object["author"] as? String, !author.isEmpty {
            return author
        }
        guard let subj, subj.hasPrefix("at://") else { return nil }
        let authority = subj.dropFirst(5).prefix { $0 != "/" }
        return authority.isEmpty ? nil : String(authority)
    }
}
