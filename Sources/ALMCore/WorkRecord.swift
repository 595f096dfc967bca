/// One work of the registry (`alm.works`, keyed by its DOI): the ids other sources know it by, so a
/// collector can ask each source in its own terms and events naming a PMID, PMCID or arXiv id can be
/// resolved to the DOI. Built only through `init`, which normalises and validates every field.
public struct WorkRecord: Sendable, Equatable {
    public let doi: String
    /// Digits only (`PMID: 123` → `123`).
    public let pmid: String?
    /// `PMC` followed by digits (`123` → `PMC123`).
    public let pmcid: String?
    /// Lower-case, without `arXiv:` and without version (`arXiv:2101.00001v2` → `2101.00001`).
    public let arxiv: String?
    public let url: String?
    public let title: String?
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`: how old the work is decides how often collectors refresh it.
    public let published: String?

    public init(doi: String, pmid: String? = nil, pmcid: String? = nil, arxiv: String? = nil, url: String? = nil,
                title: String? = nil, published: String? = nil) throws(WorkRecordError) {
        func clean(_ value: String?) -> String? {
            guard let trimmed = value?.trimmingASCIIWhitespace(), !trimmed.isEmpty else { return nil }
            return trimmed
        }
        do {
            self.doi = try DOI.normalize(doi)
        } catch {
            throw WorkRecordError(field: "doi", "\(error)")
        }
        self.pmid = try clean(pmid).map { raw throws(WorkRecordError) in
            let digits = raw.droppingPrefix(caseInsensitive: "pmid:").trimmingASCIIWhitespace()
            guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy(\.isASCIIDigit), digits.contains(where: { $0 != "0" }) else {
                throw WorkRecordError(field: "pmid", "\"\(raw)\" is not a PubMed id (digits)")
            }
            return String(digits.drop { $0 == "0" })
        }
        self.pmcid = try clean(pmcid).map { raw throws(WorkRecordError) in
            let digits = raw.droppingPrefix(caseInsensitive: "pmcid:").trimmingASCIIWhitespace().droppingPrefix(caseInsensitive: "pmc")
            guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy(\.isASCIIDigit) else {
                throw WorkRecordError(field: "pmcid", "\"\(raw)\" is not a PubMed Central id (PMC and digits)")
            }
            return "PMC" + digits
        }
        self.arxiv = try clean(arxiv).map { raw throws(WorkRecordError) in
            var id = raw.droppingPrefix(caseInsensitive: "arxiv:").lowercased()
            if let v = id.lastIndex(of: "v"), id.index(after: v) < id.endIndex, id[id.index(after: v)...].allSatisfy(\.isASCIIDigit) {
                id = String(id[..<v])
            }
            let parts = id.split(separator: "/", omittingEmptySubsequences: false)
            let dotted = id.split(separator: ".", omittingEmptySubsequences: false)
            let modern = dotted.count == 2 && dotted[0].count == 4 && (4...5).contains(dotted[1].count)
                && dotted.allSatisfy { $0.allSatisfy(\.isASCIIDigit) }
            let legacy = parts.count == 2 && !parts[0].isEmpty && parts[0].allSatisfy { ("a"..."z").contains($0) || $0 == "." || $0 == "-" }
                && parts[1].count == 7 && parts[1].allSatisfy(\.isASCIIDigit)
            guard modern || legacy else { throw WorkRecordError(field: "arxiv", "\"\(raw)\" is not an arXiv id") }
            return id
        }
        self.url = try clean(url).map { raw throws(WorkRecordError) in
            let lower = raw.lowercased()
            // Spaces and control characters are not allowed in a URL; percent-encode them upstream.
            guard lower.hasPrefix("https://") || lower.hasPrefix("http://"), raw.count > 8,
                  !raw.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
                throw WorkRecordError(field: "url", "\"\(raw)\" is not an http(s) URL")
            }
            return raw
        }
        self.title = clean(title)
        self.published = try clean(published).map { raw throws(WorkRecordError) in
            let date = String(raw.prefix(10))
            let shaped = [4, 7, 10].contains(date.count) && date.enumerated().allSatisfy { index, character in
                index == 4 || index == 7 ? character == "-" : character.isASCIIDigit
            }
            guard shaped, raw.count == date.count || raw.dropFirst(10).first == "T" else {
                throw WorkRecordError(field: "published", "\"\(raw)\" is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
            }
            if date.count >= 7 {
                let month = Int(date.dropFirst(5).prefix(2)) ?? 0
                guard (1...12).contains(month) else { throw WorkRecordError(field: "published", "\"\(raw)\": month \(month)") }
            }
            if date.count == 10 {
                let day = Int(date.suffix(2)) ?? 0
                guard (1...31).contains(day) else { throw WorkRecordError(field: "published", "\"\(raw)\": day \(day)") }
            }
            return date
        }
    }

    /// The `alm.works` value: a JSON object with the fields that are set, in a fixed order.
    public func jsonLine() -> [UInt8] {
        var out: [UInt8] = Array(#"{"doi":"#.utf8)
        JSONOutput.appendString(doi, to: &out)
        for (name, value) in [("pmid", pmid), ("pmcid", pmcid), ("arxiv", arxiv), ("url", url), ("title", title), ("published", published)] {
            guard let value else { continue }
            out.append(contentsOf: ",\"\(name)\":".utf8)
            JSONOutput.appendString(value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

public struct WorkRecordError: Error, CustomStringConvertible, Sendable, Equatable {
    public let field: String
    public let message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }

    func droppingPrefix(caseInsensitive prefix: String) -> String {
        lowercased().hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
    }
}
