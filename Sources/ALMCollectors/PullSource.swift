import ALMCore

/// A source a pull collector asks about one work at a time: which parser reads its answers, and the
/// request for a work (relative to a configurable base URL). Pure: building a URL needs no network.
public struct PullSource: Sendable {
    public let parser: any ResponseParser
    /// The public API's base URL; configuration (and tests) point it elsewhere.
    public let defaultBaseURL: String
    /// The path and query for `work` (appended to the base URL), or nil when the source cannot be asked
    /// about it (e.g. Europe PMC without a PMID).
    public let request: @Sendable (WorkIdentifiers) -> String?
    /// For a paged answer: the request for the page after the one whose body is given, or nil on the last.
    public let nextPage: (@Sendable (_ work: WorkIdentifiers, _ body: [UInt8]) -> String?)?
    /// For a source with one site per language (Wikipedia): the parser for a language's site, whose base
    /// URL is the base URL with `{language}` replaced by the language code.
    public let parserForLanguage: (@Sendable (_ language: String) -> any ResponseParser)?

    public var source: String { parser.source }

    public init(parser: any ResponseParser, defaultBaseURL: String,
                nextPage: (@Sendable (_ work: WorkIdentifiers, _ body: [UInt8]) -> String?)? = nil,
                parserForLanguage: (@Sendable (_ language: String) -> any ResponseParser)? = nil,
                request: @escaping @Sendable (WorkIdentifiers) -> String?) {
        self.parser = parser
        self.defaultBaseURL = defaultBaseURL
        self.nextPage = nextPage
        self.parserForLanguage = parserForLanguage
        self.request = request
    }

    /// The sites to ask about each work: one, or one per language for a source with language editions.
    public func sites(baseURL: String, languages: [String]) -> [(baseURL: String, parser: any ResponseParser)] {
        guard let parserForLanguage else { return [(baseURL, parser)] }
        return languages.map { (baseURL.replacingOccurrences(of: "{language}", with: $0), parserForLanguage($0)) }
    }

    /// Percent-encodes a DOI (or any id) for a path segment or query value: only unreserved characters
    /// and `/` stay as they are (DOIs are path-like and APIs expect their slash).
    public static func encode(_ value: String, keepingSlash: Bool = true) -> String {
        var out = ""
        for byte in value.utf8 {
            let unreserved = (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E || (keepingSlash && byte == 0x2F)
            if unreserved {
                out.append(Character(Unicode.Scalar(byte)))
            } else {
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xF)])
            }
        }
        return out
    }

    /// The pull sources by name. Sources that answer for many works at once (usage reports) or that
    /// are streams are not pull sources.
    public static let all: [String: PullSource] = {
        let sources = [
            PullSource(parser: CrossrefWorkParser(), defaultBaseURL: "https://api.crossref.org") { work in
                "/works/" + encode(work.doi)
            },
            PullSource(parser: OpenAlexWorkParser(), defaultBaseURL: "https://api.openalex.org") { work in
                "/works/doi:" + encode(work.doi)
            },
            PullSource(parser: EuropePMCCitationsParser(), defaultBaseURL: "https://www.ebi.ac.uk/europepmc/webservices/rest") { work in
                work.pmid.map { "/MED/\($0)/citations?format=json&pageSize=1000" }
            },
            PullSource(parser: DataCiteDOIParser(), defaultBaseURL: "https://api.datacite.org") { work in
                "/dois?query=" + encode("uid:\"\(work.doi)\"", keepingSlash: false) + "&detail=true"
            },
            PullSource(parser: RedditSearchParser(), defaultBaseURL: "https://www.reddit.com") { work in
                "/search.json?q=" + encode("\"\(work.doi)\"", keepingSlash: false) + "&limit=100"
            },
            PullSource(parser: PubMedCitingParser(), defaultBaseURL: "https://www.ncbi.nlm.nih.gov") { work in
                work.pmid.map { "/pmc/utils/entrez2pmcciting.cgi?view=xml&id=\($0)" }
            },
            PullSource(parser: OpenCitationsCitationsParser(), defaultBaseURL: "https://opencitations.net/index/coci/api/v1") { work in
                "/citations/" + encode(work.doi)
            },
            // Each configured language's Wikipedia (`collectors.wikipedia.languages`, default English), 500
            // hits a page (the most an ordinary client may ask for), following `continue.sroffset` to the last page.
            PullSource(parser: WikipediaSearchParser(language: "en"), defaultBaseURL: "https://{language}.wikipedia.org",
                       nextPage: { work, body in
                           let context = ResponseContext(work: work, observedAt: Timestamp(microsecondsSinceEpoch: 0)!)
                           guard let offset = try? WikipediaSearchParser().page(from: body, context: context).nextOffset else { return nil }
                           return wikipediaSearch(work) + "&sroffset=\(offset)"
                       }, parserForLanguage: { WikipediaSearchParser(language: $0) }, request: wikipediaSearch),
            PullSource(parser: HypothesisSearchParser(), defaultBaseURL: "https://api.hypothes.is") { work in
                "/api/search?limit=200&uri=" + encode("https://doi.org/\(work.doi)", keepingSlash: false)
            },
        ]
        return Dictionary(uniqueKeysWithValues: sources.map { ($0.source, $0) })
    }()

    private static func wikipediaSearch(_ work: WorkIdentifiers) -> String {
        "/w/api.php?action=query&list=search&format=json&srnamespace=0&srprop=timestamp&srinfo=totalhits&srlimit=500&srsearch="
            + encode("\"\(work.doi)\"", keepingSlash: false)
    }
}
