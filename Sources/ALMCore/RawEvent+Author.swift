import Foundation

extension RawEvent {
    /// Who made the mention, when the record tells: `meta.author` (a handle or account id), or else the
    /// authority of an AT Protocol URI in `subj` (`at://did:plc:.../app.bsky.feed.post/...`: the DID of
    /// the post's author). Nil when unknown. The attention score counts one mention per known author.
    public var author: String? {
        if let meta, Self.mentionsAuthor(meta),
           let object = try? JSONSerialization.jsonObject(with: Data(meta.utf8)) as? [String: Any],
           let author = object["author"] as? String, !author.isEmpty {
            return author
        }
        guard let subj, subj.hasPrefix("at://") else { return nil }
        let authority = subj.dropFirst(5).prefix { $0 != "/" }
        return authority.isEmpty ? nil : String(authority)
    }

    /// Whether the text holds `"author"` (a byte search: Foundation's `contains` was a hot spot).
    private static func mentionsAuthor(_ meta: String) -> Bool {
        let needle: StaticString = "\"author\""
        var meta = meta
        return meta.withUTF8 { bytes in
            let count = needle.utf8CodeUnitCount, start = needle.utf8Start
            guard bytes.count >= count else { return false }
            for offset in 0...(bytes.count - count) where bytes[offset] == start[0] {
                var index = 1
                while index < count && bytes[offset + index] == start[index] { index += 1 }
                if index == count { return true }
            }
            return false
        }
    }
}
