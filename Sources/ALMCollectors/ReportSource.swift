/// A source that reports on many works at once, one report per target (a journal, a SUSHI customer)
/// and month: which parser reads the reports, and the request for a target and month. Credentials are
/// not part of the request built here: the collector appends them from the environment at send time,
/// so they never reach logs or error messages.
public struct ReportSource: Sendable {
    public let parser: any ResponseParser
    public let defaultBaseURL: String
    /// The path and query for one target and month (`YYYY-MM`).
    public let request: @Sendable (_ target: String, _ year: Int, _ month: Int) -> String

    public var source: String { parser.source }

    public init(parser: any ResponseParser, defaultBaseURL: String,
                request: @escaping @Sendable (_ target: String, _ year: Int, _ month: Int) -> String) {
        self.parser = parser
        self.defaultBaseURL = defaultBaseURL
        self.request = request
    }

    public static let all: [String: ReportSource] = {
        let sources = [
            // PubMed Central's publisher usage statistics, per journal (its `jrid`) and month.
            ReportSource(parser: PMCUsageReportParser(), defaultBaseURL: "https://www.ncbi.nlm.nih.gov/pmc") { journal, year, month in
                "/utils/publisher/pmcstat/pmcstat.cgi?year=\(year)&month=\(month)&jrid=\(PullSource.encode(journal, keepingSlash: false))"
            },
            // A COUNTER R5 SUSHI server's item report for one customer and month.
            ReportSource(parser: CounterSUSHIJSONParser(), defaultBaseURL: "https://sushi.example.org/counter/r5") { customer, year, month in
                let period = String(year) + "-" + (month < 10 ? "0" : "") + String(month)
                return "/reports/ir?customer_id=\(PullSource.encode(customer, keepingSlash: false))&begin_date=\(period)&end_date=\(period)"
                    + "&attributes_to_show=Data_Type%7CAccess_Method"
            },
        ]
        return Dictionary(uniqueKeysWithValues: sources.map { ($0.source, $0) })
    }()
}

/// A calendar month, for walking report periods.
public struct ReportMonth: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let year = Int(parts[0]), let month = Int(parts[1]), (1...12).contains(month), (1000...9999).contains(year)
        else { return nil }
        self.year = year
        self.month = month
    }

    public init(year: Int, month: Int) {
        self.year = year
        self.month = month
    }

    public var next: ReportMonth { month == 12 ? ReportMonth(year: year + 1, month: 1) : ReportMonth(year: year, month: month + 1) }
    public var previous: ReportMonth { month == 1 ? ReportMonth(year: year - 1, month: 12) : ReportMonth(year: year, month: month - 1) }
    public var description: String { String(year) + "-" + (month < 10 ? "0" : "") + String(month) }

    public static func < (a: ReportMonth, b: ReportMonth) -> Bool { (a.year, a.month) < (b.year, b.month) }

    /// first...last, in order (empty when first is after last).
    public static func range(_ first: ReportMonth, through last: ReportMonth) -> [ReportMonth] {
        var months: [ReportMonth] = []
        var month = first
        while month <= last {
            months.append(month)
            month = month.next
        }
        return months
    }
}
