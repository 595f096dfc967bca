import ALMCore
import Foundation

/// Finds the DOIs a link or a piece of text points at, for sources that report links rather than works
/// (Wikipedia's external links, Bluesky posts). Every result is normalised by `DOI.normalize`.
///
/// Recognised: resolver URLs (`doi.org`, `dx.doi.org`, `www.doi.org`, with or without a scheme, or
/// protocol-relative), `doi:` and `info:doi/` forms, a DOI as a path of a publisher URL
/// (`…/doi/full/10.1002/asi.4630240406/abstract`) or as a query value (`article?id=10.1371/…`), all
/// percent-encoded or not. A query string or fragment after a resolver URL's DOI is not part of it.
///
/// A DOI in a publisher URL has no marked end: the path is taken to its end, less the view segments
/// publishers append (`/abstract`, `/full`, `/pdf`, …). Bare DOIs (outside resolver URLs and `doi:`) must
/// have a registrant code of at least four digits, so "10.5/20" in prose is not a DOI.
public enum DOIExtractor {
    /// The DOIs `url` links, in the order found, without repeats; empty when it links none.
    public static func dois(inURL url: String) -> [String] {
        var found = OrderedDOIs()
        collect(fromURL: Substring(url.trimmingCharacters(in: .whitespacesAndNewlines)), into: &found)
        return found.dois
    }

    /// The DOIs `text` mentions (as links, `doi:` identifiers or bare `10.NNNN/…`), in the order found,
    /// without repeats.
    public static func dois(inText text: String) -> [String] {
        var found = OrderedDOIs()
        let separators = CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: "\"<>"))
        for token in text.components(separatedBy: separators) where !token.isEmpty {
            let trimmed = token.drop(while: { "([{'".contains($0) })
            if looksLikeURL(trimmed) {
                collect(fromURL: trimmed, into: &found)
            } else if let doi = bareDOI(trimmed) {
                found.add(doi)
            }
        }
        return found.dois
    }

    // MARK: - URLs

    static let resolverHosts: Set<String> = ["doi.org", "dx.doi.org", "www.doi.org"]

    /// Segments publishers put after a DOI in a landing-page URL to choose a view of the article.
    static let viewSegments: Set<String> = [
        "abstract", "full", "fulltext", "full-text", "pdf", "epdf", "pdfdirect", "pdfplus", "html", "epub",
        "summary", "references", "figures", "tables", "citedby", "metrics", "info", "suppl", "supplementary",
        "suppinfo", "meta", "download", "reader", "comments", "authors", "media",
    ]

    /// File-like endings a publisher appends to the last segment (`108480v1.full.pdf`).
    static let viewExtensions = [".full.pdf", ".full-text", ".full", ".abstract", ".pdf", ".html"]

    private static func collect(fromURL text: Substring, into found: inout OrderedDOIs) {
        let lowered = text.lowercased()
        if lowered.hasPrefix("doi:") || lowered.hasPrefix("info:doi/") {
            let rest = lowered.hasPrefix("doi:") ? text.dropFirst(4) : text.dropFirst(9)
            if let doi = normalized(rest.prefix(while: { $0 != "?" && $0 != "#" })) { found.add(doi) }
            return
        }

        var rest = text
        if let schemeEnd = rest.range(of: "://"), rest[..<schemeEnd.lowerBound].allSatisfy(isSchemeCharacter) {
            rest = rest[schemeEnd.upperBound...]
        } else if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
        }
        let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let host = hostName(rest[..<hostEnd])
        let afterHost = rest[hostEnd...]
        let pathEnd = afterHost.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? afterHost.endIndex
        let path = afterHost[..<pathEnd]
        let query: Substring
        if afterHost[pathEnd...].first == "?" {
            let queryPart = afterHost[afterHost.index(after: pathEnd)...]
            query = queryPart.prefix(while: { $0 != "#" })
        } else {
            query = ""
        }

        if resolverHosts.contains(host) {
            if let doi = normalized(path.drop(while: { $0 == "/" })) { found.add(doi) }
            return
        }
        if let doi = doiInPath(path) { found.add(doi) }
        for parameter in query.split(whereSeparator: { $0 == "&" || $0 == ";" }) {
            guard let equals = parameter.firstIndex(of: "=") else { continue }
            let rawValue = parameter[parameter.index(after: equals)...]
            let value = rawValue.removingPercentEncoding.map { Substring($0) } ?? rawValue
            if value.lowercased().hasPrefix("doi:") || isResolverURL(value) {
                collect(fromURL: value, into: &found)
            } else if let doi = bareDOI(value) {
                found.add(doi)
            }
        }
    }

    /// The DOI a publisher URL's path carries: from the first `10.NNNN` segment to the end of the path,
    /// without trailing view segments.
    private static func doiInPath(_ rawPath: Substring) -> String? {
        var path = rawPath.removingPercentEncoding ?? String(rawPath)
        // Punctuation of the prose around a link, before looking for view segments ("…/full!").
        while let last = path.last, ".,;:!?'\"".contains(last) { path.removeLast() }
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let start = segments.firstIndex(where: { isRegistrantSegment($0.lowercased().hasPrefix("doi:") ? $0.dropFirst(4) : $0[...]) })
        else { return nil }
        segments = Array(segments[start...])
        if segments[0].lowercased().hasPrefix("doi:") { segments[0].removeFirst(4) }
        while segments.count > 2, let last = segments.last, last.isEmpty || viewSegments.contains(last.lowercased()) {
            segments.removeLast()
        }
        guard segments.count >= 2, var last = segments.popLast(), !last.isEmpty else { return nil }
        for ending in viewExtensions where last.lowercased().hasSuffix(ending) && last.count > ending.count {
            last.removeLast(ending.count)
            break
        }
        // bioRxiv and medRxiv (registrant 10.1101) link versions as `…/10.1101/108480v2`; the DOI has no version.
        if segments == ["10.1101"], let version = last.range(of: #"v[0-9]+$"#, options: .regularExpression),
            version.lowerBound > last.startIndex {
            last.removeSubrange(version)
        }
        return try? DOI.normalize((segments + [last]).joined(separator: "/"))
    }

    // MARK: - Bare DOIs

    /// A DOI written without a resolver, `doi:` allowed, its registrant code at least four digits long.
    private static func bareDOI(_ text: Substring) -> String? {
        let candidate = text.lowercased().hasPrefix("doi:") ? text.dropFirst(4).drop(while: { $0 == " " }) : text
        guard let slash = candidate.firstIndex(of: "/"), isRegistrantSegment(candidate[..<slash]) else { return nil }
        return normalized(candidate)
    }

    /// `10.` followed by a registrant code whose first group has four to nine digits (`10.1371`, `10.1000.10`).
    private static func isRegistrantSegment(_ segment: Substring) -> Bool {
        guard segment.hasPrefix("10.") else { return false }
        let groups = segment.dropFirst(3).split(separator: ".", omittingEmptySubsequences: false)
        guard let first = groups.first, (4...9).contains(first.count) else { return false }
        return groups.allSatisfy { !$0.isEmpty && $0.allSatisfy { digit in digit.isASCII && digit.isNumber } }
    }

    // MARK: - Helpers

    private static func normalized(_ text: Substring) -> String? {
        guard !text.isEmpty else { return nil }
        return try? DOI.normalize(String(text))
    }

    private static func looksLikeURL(_ token: Substring) -> Bool {
        let lowered = token.lowercased()
        return lowered.contains("://") || lowered.hasPrefix("//") || lowered.hasPrefix("www.") || isResolverURL(token)
            || lowered.hasPrefix("info:doi/")
    }

    private static func isResolverURL(_ text: Substring) -> Bool {
        let lowered = text.lowercased()
        return resolverHosts.contains { lowered.hasPrefix($0 + "/") }
            || ["http://", "https://", "//"].contains { scheme in resolverHosts.contains { lowered.hasPrefix(scheme + $0 + "/") } }
    }

    /// The host of an authority, lower-cased, without user information or port.
    private static func hostName(_ authority: Substring) -> String {
        let afterUser = authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority
        let withoutPort = afterUser.firstIndex(of: ":").map { afterUser[..<$0] } ?? afterUser
        return withoutPort.lowercased()
    }

    private static func isSchemeCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "+-.".contains(character))
    }
}

/// DOIs in the order first found, each once.
struct OrderedDOIs {
    private(set) var dois: [String] = []
    private var seen: Set<String> = []

    mutating func add(_ doi: String) {
        if seen.insert(doi).inserted { dois.append(doi) }
    }
}

/// A work named by an identifier other than its DOI, as found in a link.
public enum OtherIdentifier: Sendable, Hashable {
    /// PubMed id, digits.
    case pmid(String)
    /// PubMed Central id, `PMC` and digits.
    case pmcid(String)
    /// arXiv id without version, lower case.
    case arxiv(String)
}

/// Maps an identifier to the registered work's DOI (the registry knows them), or nil.
public typealias IdentifierResolver = @Sendable (OtherIdentifier) -> String?

extension DOIExtractor {
    /// The DOIs a link names: directly, or through a PubMed, PubMed Central, Europe PMC or arXiv link that
    /// `resolve` maps to a registered DOI.
    public static func dois(inURL url: String, resolving resolve: IdentifierResolver?) -> [String] {
        let direct = dois(inURL: url)
        guard direct.isEmpty, let resolve, let identifier = otherIdentifier(inURL: url), let doi = resolve(identifier) else { return direct }
        return [doi]
    }

    /// The PMID, PMCID or arXiv id of a link to PubMed, PubMed Central, Europe PMC or arXiv.
    public static func otherIdentifier(inURL url: String) -> OtherIdentifier? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let host = rest[..<hostEnd].lowercased().split(separator: "@").last.map(String.init) ?? ""
        let pathEnd = rest[hostEnd...].firstIndex(where: { $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let segments = rest[hostEnd..<pathEnd].split(separator: "/").map(String.init)
        func digits(_ text: String?) -> String? {
            guard let text, !text.isEmpty, text.count <= 10, text.allSatisfy(\.isASCIIDigit) else { return nil }
            return String(text.drop { $0 == "0" })
        }
        func pmc(_ text: String?) -> OtherIdentifier? {
            guard let text, text.uppercased().hasPrefix("PMC"), let number = digits(String(text.dropFirst(3))) else { return nil }
            return .pmcid("PMC" + number)
        }
        switch host.hasPrefix("www.") ? String(host.dropFirst(4)) : host {
        case "pubmed.ncbi.nlm.nih.gov":
            return digits(segments.first).map(OtherIdentifier.pmid)
        case "ncbi.nlm.nih.gov":
            if segments.first == "pubmed" { return digits(segments.dropFirst().first).map(OtherIdentifier.pmid) }
            if segments.first == "pmc", segments.dropFirst().first == "articles" { return pmc(segments.dropFirst(2).first) }
            return nil
        case "pmc.ncbi.nlm.nih.gov":
            return segments.first == "articles" ? pmc(segments.dropFirst().first) : nil
        case "europepmc.org":
            guard segments.count >= 3, ["article", "abstract"].contains(segments[0].lowercased()) else { return nil }
            switch segments[1].uppercased() {
            case "MED": return digits(segments[2]).map(OtherIdentifier.pmid)
            case "PMC": return pmc(segments[2]) ?? pmc("PMC" + segments[2])
            default: return nil
            }
        case "arxiv.org", "export.arxiv.org":
            guard segments.count >= 2, ["abs", "pdf"].contains(segments[0]) else { return nil }
            var id = segments.dropFirst().joined(separator: "/").lowercased()
            if id.hasSuffix(".pdf") { id.removeLast(4) }
            if let v = id.lastIndex(of: "v"), id.index(after: v) < id.endIndex, id[id.index(after: v)...].allSatisfy(\.isASCIIDigit) {
                id = String(id[..<v])
            }
            return id.isEmpty ? nil : .arxiv(id)
        default:
            return nil
        }
    }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
