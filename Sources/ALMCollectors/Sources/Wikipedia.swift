import ALMCore
import Foundation

/// A wiki page as the Wikipedia parsers name it, so a page found by search and the same page seen in
/// EventStreams give the same event id: `wikipedia:<wiki>:<Title_with_underscores>:<doi>`, where the wiki
/// is the language (`en`) for a Wikipedia and the host for any other wiki (`www.wikidata.org`).
struct WikiPage {
    let host: String
    /// The title as MediaWiki writes it in URLs and in its database: spaces as underscores.
    let title: String

    init(host: String, title: String) {
        self.host = host.lowercased()
        self.title = title.replacingOccurrences(of: " ", with: "_")
    }

    var wiki: String {
        host.hasSuffix(".wikipedia.org") ? String(host.dropLast(".wikipedia.org".count)) : host
    }

    /// The page URL, percent-encoded as MediaWiki's own links are (it leaves `:/(),;@$!*~` readable).
    var url: String {
        "https://\(host)/wiki/" + (title.addingPercentEncoding(withAllowedCharacters: Self.titleCharacters) ?? title)
    }

    func eventID(doi: String) -> String {
        let id = "wikipedia:\(wiki):\(title):\(doi)"
        // An id may hold 512 characters; a long title and a long DOI together could exceed that.
        return id.unicodeScalars.count <= 512 ? id : stableEventID(source: "wikipedia", wiki, title, doi)
    }

    private static let titleCharacters = CharacterSet(charactersIn:
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/(),;@$!*")
}

/// MediaWiki `action=query&list=search&srsearch="{doi}"&srprop=timestamp`: each page found is one
/// `references` event (a Wikipedia page citing the work), dated by the page's last edit as search
/// reports it. The response does not say which wiki answered, so the parser is made for one.
///
/// `totalhits` is not turned into a total: events and a total of one metric add up, and search pages
/// overlap, so the distinct pages are the count.
public struct WikipediaSearchParser: ResponseParser {
    public let source = "wikipedia"
    public let format = "search"
    /// The language of the Wikipedia searched, as in its host name: `en` for en.wikipedia.org.
    public let language: String

    public init(language: String = "en") {
        self.language = language
    }

    /// One page of search results.
    public struct Page: Sendable {
        /// The number of hits the wiki reports for the whole search.
        public var totalHits: UInt64
        /// The `sroffset` of the next page, or nil on the last page.
        public var nextOffset: UInt64?
        public var events: [RawEvent]
    }

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        try page(from: body, context: context).events
    }

    public func page(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> Page {
        let json = JSONResponse(source: source)
        let root = try json.object(body)
        if let error = root["error"] as? [String: Any] {
            throw CollectorError(source: source, kind: .sourceError,
                                 "\(error["code"].map { "\($0)" } ?? "error"): \(error["info"].map { "\($0)" } ?? "")")
        }
        let work = try context.requireWork(source).doi
        let query = try json.object(root, "query", at: "")
        let totalHits = try json.count(try json.object(query, "searchinfo", at: "query."), "totalhits", at: "query.searchinfo.")
        let hits = try json.array(query, "search", at: "query.")
        let factory = EventFactory(source: source, observedAt: context.observedAt)
        var events: [RawEvent] = []
        for (index, item) in hits.enumerated() {
            let path = "query.search[\(index)]."
            let hit = try json.element(item, at: String(path.dropLast()))
            let page = WikiPage(host: "\(language).wikipedia.org", title: try json.string(hit, "title", at: path))
            events.append(try factory.event(id: page.eventID(doi: work), work: work, metric: "references", subj: page.url,
                                            obj: "https://doi.org/\(work)", occurredAt: try json.timestamp(hit, "timestamp", at: path)))
        }
        var nextOffset: UInt64?
        if let next = root["continue"] as? [String: Any] { nextOffset = try json.count(next, "sroffset", at: "continue.") }
        return Page(totalHits: totalHits, nextOffset: nextOffset, events: events)
    }
}

/// Wikimedia EventStreams `page-links-change` (one event, the `data` of one stream frame): each external
/// link to a DOI added to an article is a `references` add, each one removed a `delete` of the same id.
///
/// Only articles (namespace 0) count, as in the search. A link whose DOI is also among the event's
/// added links was changed, not removed (MediaWiki lists a changed link's old form as removed), so it is
/// not retracted. A page that links one DOI twice and loses one of the links is retracted all the same:
/// the event does not say whether another link to the DOI remains.
///
/// Both adds and deletes are dated by the event's `meta.dt`, so a removal always follows the addition it
/// undoes and wins under the processor's latest-`occurred_at` rule, in any arrival order.
public struct WikipediaLinksChangeParser: ResponseParser {
    public let source = "wikipedia"
    public let format = "page-links-change"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        let json = JSONResponse(source: source)
        let change = try json.object(body)
        let meta = try json.object(change, "meta", at: "")
        guard let namespace = change["page_namespace"] as? NSNumber, namespace.doubleValue == namespace.doubleValue.rounded() else {
            throw CollectorError(source: source, kind: .malformedResponse, "page_namespace: expected an integer")
        }
        guard namespace.intValue == 0 else { return [] }
        let page = WikiPage(host: try host(of: meta), title: try json.string(change, "page_title", at: ""))
        let occurred = try json.timestamp(meta, "dt", at: "meta.")

        let added = try doiLinks(change, "added_links", resolve: context.resolve)
        let addedDOIs = Set(added.map(\.doi))
        let removed = try doiLinks(change, "removed_links", resolve: context.resolve).filter { !addedDOIs.contains($0.doi) }

        let factory = EventFactory(source: source, observedAt: context.observedAt)
        var events: [RawEvent] = []
        for (links, action) in [(added, RawEvent.Action.add), (removed, .delete)] {
            var seen: Set<String> = []
            for link in links where seen.insert(link.doi).inserted {
                events.append(try factory.event(id: page.eventID(doi: link.doi), work: link.doi, metric: "references",
                                                subj: page.url, obj: link.url, occurredAt: occurred, action: action))
            }
        }
        return events
    }

    /// The wiki's host: `meta.domain`, or the host of `meta.uri`.
    private func host(of meta: [String: Any]) throws(CollectorError) -> String {
        if let domain = meta["domain"] as? String, !domain.isEmpty { return domain }
        if let uri = meta["uri"] as? String, let host = URLComponents(string: uri)?.host, !host.isEmpty { return host }
        throw CollectorError(source: source, kind: .malformedResponse, "meta: neither domain nor a uri with a host names the wiki")
    }

    /// The external links of `key` that point at a DOI, each with its first DOI.
    private func doiLinks(_ change: [String: Any], _ key: String, resolve: IdentifierResolver?) throws(CollectorError) -> [(url: String, doi: String)] {
        guard let value = change[key], !(value is NSNull) else { return [] }
        guard let links = value as? [Any] else {
            throw CollectorError(source: source, kind: .malformedResponse, "\(key): expected an array, found \(type(of: value))")
        }
        let json = JSONResponse(source: source)
        var found: [(url: String, doi: String)] = []
        for (index, item) in links.enumerated() {
            let path = "\(key)[\(index)]."
            let link = try json.element(item, at: String(path.dropLast()))
            if let external = link["external"], (external as? Bool) == nil {
                throw CollectorError(source: source, kind: .malformedResponse, "\(path)external: expected a boolean")
            }
            guard link["external"] as? Bool != false else { continue }
            let url = try json.string(link, "link", at: path)
            for doi in DOIExtractor.dois(inURL: url, resolving: resolve) { found.append((url, doi)) }
        }
        return found
    }
}
