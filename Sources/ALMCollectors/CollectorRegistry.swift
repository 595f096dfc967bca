/// Every response parser, by source. A new source is one file in Sources/ and one line here.
public enum CollectorRegistry {
    /// A fresh instance each time: some parsers (Bluesky's) remember what they have read.
    public static var parsers: [any ResponseParser] {
        [
            CrossrefWorkParser(),
            CrossrefForwardLinksParser(),
            CrossrefOpenURLParser(),
            OpenAlexWorkParser(),
            EuropePMCCitationsParser(),
            EuropePMCSearchParser(),
            DataCiteDOIParser(),
            DataCiteRelatedParser(),
            RedditSearchParser(),
            PubMedCitingParser(),
            PMCUsageReportParser(),
            PLOSCounterParser(),
            CounterSUSHIJSONParser(),
            CounterSUSHITSVParser(),
            AccessLogParser(),
            HypothesisSearchParser(),
            WikipediaSearchParser(),
            WikipediaLinksChangeParser(),
            OpenCitationsCitationsParser(),
            OpenCitationsMetadataParser(),
            EventDataParser(),
            BlueskyJetstreamParser(),
        ]
    }

    public static var sources: [String] {
        var seen: Set<String> = []
        return parsers.map(\.source).filter { seen.insert($0).inserted }
    }

    /// The parser of `source`; `format` picks one when the source has several.
    public static func parser(source: String, format: String? = nil) throws(CollectorError) -> any ResponseParser {
        let candidates = parsers.filter { $0.source == source }
        guard !candidates.isEmpty else {
            throw CollectorError(source: source, kind: .invalidValue,
                                 "no collector for this source (known: \(sources.joined(separator: ", ")))")
        }
        if let format {
            guard let parser = candidates.first(where: { $0.format == format }) else {
                throw CollectorError(source: source, kind: .invalidValue,
                                     "no response format \(format) (known: \(candidates.map(\.format).joined(separator: ", ")))")
            }
            return parser
        }
        guard candidates.count == 1 else {
            throw CollectorError(source: source, kind: .invalidValue,
                                 "several response formats; pick one with --format (\(candidates.map(\.format).joined(separator: ", ")))")
        }
        return candidates[0]
    }
}
