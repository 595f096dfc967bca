import ALMCore
import Foundation

/// What one COUNTER report yields, with what had to be left out.
public struct CounterReportReading: Sendable {
    public var events: [RawEvent]
    /// Items the report lists without a DOI.
    public var itemsWithoutDOI: Int
    /// Items whose DOI field holds something `DOI.normalize` rejects.
    public var itemsWithInvalidDOI: Int
    /// The report's exceptions (warnings beside its items, or the reason it has none).
    public var exceptions: [CounterException]
}

/// A COUNTER/SUSHI exception: its number and message (with its data, when given).
public struct CounterException: Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var message: String

    /// 3030 No Usage Available for Requested Dates, 3031 Usage Not Ready for Requested Dates,
    /// 3032 Usage No Longer Available for Requested Dates.
    static let noUsageCodes: Set<Int> = [3030, 3031, 3032]

    public var description: String { "COUNTER exception \(code): \(message)" }
}

/// COUNTER Release 5 (5.0.x and 5.1) item reports, as a SUSHI server answers them (JSON) or as a
/// platform exports them (tab-separated). One report names many works, each by its item DOI; the
/// result is monthly `count`s per work.
///
/// Metric mapping. COUNTER counts two kinds of use of an item: an Investigation is any action on the
/// item or information about it (an abstract or landing page view, a figure, a full-text request), and
/// a Request is a full-text retrieval (HTML, PDF, ...). The Code of Practice counts every Request as an
/// Investigation too, so reading Total_Item_Investigations as `views` and
/// Total_Item_Requests as `downloads` would count every full text twice in the processor's `viewed`
/// category, which adds views and downloads. Instead, like PLOS's and PMC's disjoint HTML/PDF figures:
///   downloads = Total_Item_Requests
///   views     = Total_Item_Investigations − Total_Item_Requests (the investigations that were not full text)
/// so views + downloads = Total_Item_Investigations. The Unique_* metrics (one per session) are not read:
/// the processor applies the double-click rule to its own usage, and other sources report totals.
/// A report that carries only Requests (IR_A1) yields only `downloads`; one filtered to Investigations
/// only yields `views` = Total_Item_Investigations (nothing else from the report could double count it).
///
/// Rows: usage with Access_Method TDM (text and data mining) is machine use and is left out, as in
/// COUNTER's standard views; every other row of an item (one per Access_Type, YOP, ...) is summed per
/// month. Every month of the reporting period gets a count for every item the report lists, 0 where the
/// report has none: JSON reports omit zero months, and a restated 0 must replace an earlier number.
/// Items without a DOI cannot be keyed and are skipped; so are items whose DOI is not a DOI. Both are
/// counted in `CounterReportReading`.
///
/// Report-level exceptions: an empty report whose exceptions are 3030 (no usage for the dates), 3031
/// (usage not ready yet) or 3032 (usage no longer available) has no usage: no events, no error (the
/// reading keeps the exceptions, so a collector can retry a 3031). Any other exception without report
/// items (2000 not authorised, 3000 report not supported, ...) is a `sourceError`. Exceptions beside
/// items (3040 partial data) are kept in the reading and the items are read.
///
/// This parser reads the SUSHI JSON form (R5.0: `Performance` lists months of `{Metric_Type, Count}`; R5.1:
/// `Attribute_Performance` holds counts keyed by metric, then month); `CounterSUSHITSVParser` reads the
/// tab-separated form the same way.
public struct CounterSUSHIJSONParser: ResponseParser {
    public let source = "counter"
    public let format = "sushi-json"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        try read(body, context: context).events
    }

    public func read(_ body: [UInt8], context: ResponseContext) throws(CollectorError) -> CounterReportReading {
        let json = JSONResponse(source: source)
        let top: Any
        do {
            top = try JSONSerialization.jsonObject(with: Data(body), options: [])
        } catch {
            throw CollectorError(source: source, kind: .malformedResponse, "not JSON: \(error.localizedDescription)")
        }
        // A SUSHI server that cannot produce a report answers with bare exceptions instead.
        if let list = top as? [Any] {
            return try emptyReport(exceptions: try exceptions(list, at: ""))
        }
        guard let root = top as? [String: Any] else {
            throw CollectorError(source: source, kind: .malformedResponse, "expected a JSON object at the top level")
        }
        guard let header = root["Report_Header"] as? [String: Any] else {
            if root["Code"] != nil { return try emptyReport(exceptions: try exceptions([root], at: "")) }
            if let wrapped = root["Exception"] as? [String: Any] { return try emptyReport(exceptions: try exceptions([wrapped], at: "Exception")) }
            if let list = root["Exceptions"] as? [Any] { return try emptyReport(exceptions: try exceptions(list, at: "Exceptions")) }
            throw CollectorError(source: source, kind: .malformedResponse, "Report_Header: expected an object, found nothing")
        }
        try checkItemReport(id: try json.string(header, "Report_ID", at: "Report_Header."),
                            release: (header["Release"] as? String) ?? (header["Release"] as? NSNumber)?.stringValue)
        let reportExceptions = try exceptions(header["Exceptions"] as? [Any] ?? [], at: "Report_Header.Exceptions")
        if root["Report_Items"] == nil, !reportExceptions.isEmpty { return try emptyReport(exceptions: reportExceptions) }
        let items = try json.array(root, "Report_Items", at: "")
        if items.isEmpty { return try emptyReport(exceptions: reportExceptions) }

        var table = CounterUsageTable(source: source)
        for (index, element) in items.enumerated() {
            let path = "Report_Items[\(index)]"
            guard let object = element as? [String: Any] else {
                throw CollectorError(source: source, kind: .malformedResponse, "\(path): expected an object")
            }
            // R5.1 groups items under their parent (a journal, a book, or no parent at all).
            if object["Items"] != nil {
                let children = try json.array(object, "Items", at: path + ".")
                for (childIndex, child) in children.enumerated() {
                    guard let item = child as? [String: Any] else {
                        throw CollectorError(source: source, kind: .malformedResponse, "\(path).Items[\(childIndex)]: expected an object")
                    }
                    try readItem(item, at: "\(path).Items[\(childIndex)].", into: &table)
                }
            } else {
                try readItem(object, at: path + ".", into: &table)
            }
        }
        let period = try reportingPeriod(header)
        return CounterReportReading(events: try table.events(reportingMonths: period, observedAt: context.observedAt),
                                    itemsWithoutDOI: table.itemsWithoutDOI, itemsWithInvalidDOI: table.itemsWithInvalidDOI,
                                    exceptions: reportExceptions)
    }

    private func readItem(_ item: [String: Any], at path: String, into table: inout CounterUsageTable) throws(CollectorError) {
        guard let work = table.work(forDOI: try doi(of: item, at: path)) else { return }
        if item["Attribute_Performance"] != nil {
            try readRelease51Performance(item, at: path, work: work, into: &table)
        } else {
            try readRelease50Performance(item, at: path, work: work, into: &table)
        }
    }

    /// R5.0: `Item_ID` is a list of `{Type, Value}`; R5.1: an object keyed by type.
    private func doi(of item: [String: Any], at path: String) throws(CollectorError) -> String? {
        switch item["Item_ID"] {
        case nil:
            return nil
        case let ids as [String: Any]:
            return ids["DOI"] as? String
        case let ids as [Any]:
            for (index, entry) in ids.enumerated() {
                guard let id = entry as? [String: Any], let type = id["Type"] as? String else {
                    throw CollectorError(source: source, kind: .malformedResponse, "\(path)Item_ID[\(index)]: expected an object with a Type")
                }
                if type.caseInsensitiveCompare("DOI") == .orderedSame { return id["Value"] as? String }
            }
            return nil
        case let other?:
            throw CollectorError(source: source, kind: .malformedResponse, "\(path)Item_ID: expected an object or an array, found \(type(of: other))")
        }
    }

    /// R5.0: `Access_Method` on the item; `Performance` is a list of months, each a list of `{Metric_Type, Count}`.
    private func readRelease50Performance(_ item: [String: Any], at path: String, work: String,
                                          into table: inout CounterUsageTable) throws(CollectorError) {
        let json = JSONResponse(source: source)
        if (item["Access_Method"] as? String) == "TDM" { return }
        for (index, entry) in try json.array(item, "Performance", at: path).enumerated() {
            let entryPath = "\(path)Performance[\(index)]."
            guard let performance = entry as? [String: Any] else {
                throw CollectorError(source: source, kind: .malformedResponse, "\(entryPath.dropLast()): expected an object")
            }
            let dates = try json.object(performance, "Period", at: entryPath)
            let begin = try json.string(dates, "Begin_Date", at: entryPath + "Period."), end = try json.string(dates, "End_Date", at: entryPath + "Period.")
            guard let month = monthOf(begin), monthOf(end) == month else {
                throw CollectorError(source: source, kind: .invalidValue,
                                     "\(entryPath)Period: \(begin)..\(end) is not one month (ask for Granularity=Month)")
            }
            for (instanceIndex, element) in try json.array(performance, "Instance", at: entryPath).enumerated() {
                let instancePath = "\(entryPath)Instance[\(instanceIndex)]."
                guard let instance = element as? [String: Any] else {
                    throw CollectorError(source: source, kind: .malformedResponse, "\(instancePath.dropLast()): expected an object")
                }
                let metric = try json.string(instance, "Metric_Type", at: instancePath)
                guard CounterUsageTable.readMetrics.contains(metric) else { continue }
                try table.add(work: work, month: month, metric: metric, count: try json.count(instance, "Count", at: instancePath))
            }
        }
    }

    /// R5.1: `Attribute_Performance` is a list of attribute combinations, each with `Performance` keyed
    /// by metric, then by month (`"2022-01": 1104`).
    private func readRelease51Performance(_ item: [String: Any], at path: String, work: String,
                                          into table: inout CounterUsageTable) throws(CollectorError) {
        let json = JSONResponse(source: source)
        for (index, entry) in try json.array(item, "Attribute_Performance", at: path).enumerated() {
            let entryPath = "\(path)Attribute_Performance[\(index)]."
            guard let attributes = entry as? [String: Any] else {
                throw CollectorError(source: source, kind: .malformedResponse, "\(entryPath.dropLast()): expected an object")
            }
            if (attributes["Access_Method"] as? String) == "TDM" { continue }
            let performance = try json.object(attributes, "Performance", at: entryPath)
            for metric in CounterUsageTable.readMetrics.sorted() {
                guard let value = performance[metric] else { continue }
                let metricPath = "\(entryPath)Performance.\(metric)"
                guard let months = value as? [String: Any] else {
                    throw CollectorError(source: source, kind: .invalidValue,
                                         "\(metricPath): expected counts by month, found \(type(of: value)) (ask for Granularity=Month)")
                }
                for key in months.keys.sorted() {
                    guard let month = try? Period(parsing: key), month.day == nil else {
                        throw CollectorError(source: source, kind: .malformedResponse, "\(metricPath): \(key) is not a month (YYYY-MM)")
                    }
                    try table.add(work: work, month: month, metric: metric, count: try json.count(months, key, at: metricPath + "."))
                }
            }
        }
    }

    /// Begin_Date and End_Date from R5.0's list of `{Name, Value}` filters or R5.1's object.
    private func reportingPeriod(_ header: [String: Any]) throws(CollectorError) -> [Period] {
        var begin: String?, end: String?
        if let filters = header["Report_Filters"] as? [String: Any] {
            begin = filters["Begin_Date"] as? String
            end = filters["End_Date"] as? String
        } else if let filters = header["Report_Filters"] as? [Any] {
            for case let filter as [String: Any] in filters {
                switch filter["Name"] as? String {
                case "Begin_Date": begin = filter["Value"] as? String
                case "End_Date": end = filter["Value"] as? String
                default: break
                }
            }
        }
        guard let begin, let end else { return [] }
        return try monthsBetween(begin, end, source: source, field: "Report_Header.Report_Filters")
    }

    private func exceptions(_ list: [Any], at path: String) throws(CollectorError) -> [CounterException] {
        try counterExceptions(list, at: path, source: source)
    }
}

/// A COUNTER R5 or R5.1 item report (IR, IR_A1, IR_M1) as tab-separated text: a header block
/// (`Report_ID<TAB>IR`, ...), a blank row, then a table with one row per item, metric and attribute
/// combination and one column per month (`Jan-2022` or `2022-01`). Metrics, rows and exceptions are
/// treated as `CounterSUSHIJSONParser` describes.
public struct CounterSUSHITSVParser: ResponseParser {
    public let source = "counter"
    public let format = "sushi-tsv"
    public init() {}

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        try read(body, context: context).events
    }

    public func read(_ body: [UInt8], context: ResponseContext) throws(CollectorError) -> CounterReportReading {
        var text = String(decoding: body, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? line.dropLast() : line
        }
        func cells(_ line: Substring) -> [Substring] { line.split(separator: "\t", omittingEmptySubsequences: false) }
        func isBlank(_ line: Substring) -> Bool { line.allSatisfy { $0 == "\t" || $0 == " " } }

        var header: [String: String] = [:]
        var index = 0
        // The header block ends at a blank row; some exports go straight on to the table's heading.
        while index < lines.count, !isBlank(lines[index]) {
            let row = cells(lines[index])
            if row.contains("Metric_Type") { break }
            header[String(row[0])] = row.count > 1 ? String(row[1]) : ""
            index += 1
        }
        guard let reportID = header["Report_ID"] else {
            throw CollectorError(source: source, kind: .malformedResponse, "line 1: no Report_ID row in the header block: not a COUNTER report")
        }
        try checkItemReport(id: reportID, release: header["Release"])
        let reportExceptions = try tsvExceptions(header["Exceptions"] ?? "")
        while index < lines.count, isBlank(lines[index]) { index += 1 }
        guard index < lines.count else { return try emptyReport(exceptions: reportExceptions) }

        let columns = cells(lines[index]).map { String($0) }
        let columnLine = index + 1
        func column(_ name: String) -> Int? { columns.firstIndex(of: name) }
        guard let metricColumn = column("Metric_Type") else {
            throw CollectorError(source: source, kind: .malformedResponse, "line \(columnLine): no Metric_Type column")
        }
        guard let doiColumn = column("DOI") else {
            throw CollectorError(source: source, kind: .malformedResponse, "line \(columnLine): no DOI column")
        }
        let accessMethodColumn = column("Access_Method")
        let monthColumns: [(index: Int, month: Period)] = columns.enumerated().compactMap { column in
            monthOfColumnHeading(column.element).map { (column.offset, $0) }
        }
        guard !monthColumns.isEmpty else {
            throw CollectorError(source: source, kind: .invalidValue,
                                 "line \(columnLine): no month columns (Jan-2022 or 2022-01): ask for Granularity=Month")
        }
        let itemNameColumns = ["Item", "Proprietary_ID", "URI"].compactMap(column)

        var table = CounterUsageTable(source: source)
        var itemsSeen: Set<[Substring]> = []
        for lineIndex in (index + 1)..<lines.count where !isBlank(lines[lineIndex]) {
            let lineNumber = lineIndex + 1
            let row = cells(lines[lineIndex])
            guard row.count > max(metricColumn, doiColumn, monthColumns.last?.index ?? 0) else {
                throw CollectorError(source: source, kind: .malformedResponse,
                                     "line \(lineNumber): \(row.count) columns, the heading on line \(columnLine) has \(columns.count)")
            }
            let itemKey = itemNameColumns.map { row[$0] } + [row[doiColumn]]
            let firstRowOfItem = itemsSeen.insert(itemKey).inserted
            let rawDOI = String(row[doiColumn])
            let work: String?
            if firstRowOfItem {
                work = table.work(forDOI: rawDOI.isEmpty ? nil : rawDOI)
            } else {
                work = rawDOI.isEmpty ? nil : try? DOI.normalize(rawDOI)
            }
            guard let work else { continue }
            if let accessMethodColumn, row.count > accessMethodColumn, row[accessMethodColumn] == "TDM" { continue }
            let metric = String(row[metricColumn])
            guard CounterUsageTable.readMetrics.contains(metric) else { continue }
            for (columnIndex, month) in monthColumns {
                guard let count = UInt64(row[columnIndex]) else {
                    throw CollectorError(source: source, kind: .malformedResponse,
                                         "line \(lineNumber), column \(columns[columnIndex]): expected a non-negative integer, found \"\(row[columnIndex].prefix(40))\"")
                }
                try table.add(work: work, month: month, metric: metric, count: count)
            }
        }
        return CounterReportReading(events: try table.events(reportingMonths: monthColumns.map(\.month), observedAt: context.observedAt),
                                    itemsWithoutDOI: table.itemsWithoutDOI, itemsWithInvalidDOI: table.itemsWithInvalidDOI,
                                    exceptions: reportExceptions)
    }

    private static let monthAbbreviations = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Jan-2022` (R5 and R5.1 TSV) or `2022-01`.
    private func monthOfColumnHeading(_ heading: String) -> Period? {
        if let period = try? Period(parsing: heading), period.day == nil { return period }
        let parts = heading.split(separator: "-")
        guard parts.count == 2, parts[1].count == 4, let year = Int(parts[1]),
              let month = Self.monthAbbreviations.firstIndex(of: String(parts[0])) else { return nil }
        return try? Period(parsing: String(format: "%04d-%02d", year, month + 1))
    }

    /// `3030: No Usage Available for Requested Dates (...); 3040: ...`
    private func tsvExceptions(_ text: String) throws(CollectorError) -> [CounterException] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return [] }
        var found: [CounterException] = []
        for piece in trimmed.components(separatedBy: "; ") {
            let parts = piece.split(separator: ":", maxSplits: 1)
            if let code = parts.first.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) {
                found.append(CounterException(code: code, message: parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""))
            } else if let last = found.popLast() {
                // "; " inside an exception's data, not between exceptions.
                found.append(CounterException(code: last.code, message: last.message + "; " + piece))
            } else {
                throw CollectorError(source: source, kind: .malformedResponse, "Exceptions: expected \"code: message\", found \"\(piece.prefix(60))\"")
            }
        }
        return found
    }
}

/// Usage summed per work and month over a report's rows, and the `views`/`downloads` counts it makes.
struct CounterUsageTable {
    static let investigations = "Total_Item_Investigations"
    static let requests = "Total_Item_Requests"
    static let readMetrics: Set<String> = [investigations, requests]

    private struct Usage {
        var investigations: UInt64 = 0
        var requests: UInt64 = 0
    }

    let source: String
    private(set) var itemsWithoutDOI = 0
    private(set) var itemsWithInvalidDOI = 0
    private var works: [String] = []
    private var usage: [String: [Period: Usage]] = [:]
    private var reportsInvestigations = false
    private var reportsRequests = false

    init(source: String) { self.source = source }

    /// The work an item's DOI names, registering it; nil (and counted) when the item cannot be keyed.
    mutating func work(forDOI raw: String?) -> String? {
        guard let raw, !raw.trimmingCharacters(in: .whitespaces).isEmpty else {
            itemsWithoutDOI += 1
            return nil
        }
        guard let work = try? DOI.normalize(raw) else {
            itemsWithInvalidDOI += 1
            return nil
        }
        if usage[work] == nil {
            usage[work] = [:]
            works.append(work)
        }
        return work
    }

    mutating func add(work: String, month: Period, metric: String, count: UInt64) throws(CollectorError) {
        var cell = usage[work]?[month] ?? Usage()
        let (sum, overflow): (UInt64, Bool)
        if metric == Self.investigations {
            reportsInvestigations = true
            (sum, overflow) = cell.investigations.addingReportingOverflow(count)
            cell.investigations = sum
        } else {
            reportsRequests = true
            (sum, overflow) = cell.requests.addingReportingOverflow(count)
            cell.requests = sum
        }
        guard !overflow else { throw CollectorError(source: source, kind: .invalidValue, "\(work) \(month) \(metric): the sum overflows") }
        usage[work, default: [:]][month] = cell
    }

    func events(reportingMonths: [Period], observedAt: Timestamp) throws(CollectorError) -> [RawEvent] {
        let factory = EventFactory(source: source, observedAt: observedAt)
        var events: [RawEvent] = []
        for work in works {
            let byMonth = usage[work] ?? [:]
            for month in Set(reportingMonths).union(byMonth.keys).sorted() {
                let cell = byMonth[month] ?? Usage()
                if reportsInvestigations {
                    let requests = reportsRequests ? cell.requests : 0
                    guard cell.investigations >= requests else {
                        throw CollectorError(source: source, kind: .invalidValue,
                                             "\(work) \(month): \(Self.requests) \(requests) exceeds \(Self.investigations) \(cell.investigations), which include them")
                    }
                    events.append(try factory.count(work: work, metric: "views", value: cell.investigations - requests, period: month))
                }
                if reportsRequests {
                    events.append(try factory.count(work: work, metric: "downloads", value: cell.requests, period: month))
                }
            }
        }
        return events
    }
}

/// Only item reports name works by item DOI: a title report's DOI is a journal's or a book's.
private func checkItemReport(id: String, release: String?) throws(CollectorError) {
    if let release, !(release == "5" || release.hasPrefix("5.")) {
        throw CollectorError(source: "counter", kind: .invalidValue, "Release \(release): only COUNTER Release 5 (5.0.x, 5.1) is read")
    }
    guard id == "IR" || id.hasPrefix("IR_") else {
        throw CollectorError(source: "counter", kind: .invalidValue,
                             "Report_ID \(id): only item reports (IR, IR_A1, IR_M1) give usage per article DOI")
    }
}

/// A report without items: no usage when its exceptions say so, the source's error otherwise.
private func emptyReport(exceptions: [CounterException]) throws(CollectorError) -> CounterReportReading {
    if let failure = exceptions.first(where: { !CounterException.noUsageCodes.contains($0.code) }) {
        throw CollectorError(source: "counter", kind: .sourceError, failure.description)
    }
    return CounterReportReading(events: [], itemsWithoutDOI: 0, itemsWithInvalidDOI: 0, exceptions: exceptions)
}

/// `{Code, Message, Data}` objects (R5.0 adds `Severity`); `Code` is a number, or digits in a string.
private func counterExceptions(_ list: [Any], at path: String, source: String) throws(CollectorError) -> [CounterException] {
    var found: [CounterException] = []
    for (index, element) in list.enumerated() {
        let entryPath = path.isEmpty ? "[\(index)]" : "\(path)[\(index)]"
        guard let object = element as? [String: Any] else {
            throw CollectorError(source: source, kind: .malformedResponse, "\(entryPath): expected an exception object")
        }
        let code: Int
        if let number = object["Code"] as? NSNumber, number.doubleValue == number.doubleValue.rounded() {
            code = number.intValue
        } else if let text = object["Code"] as? String, let number = Int(text) {
            code = number
        } else {
            throw CollectorError(source: source, kind: .malformedResponse, "\(entryPath).Code: expected an exception number")
        }
        var message = object["Message"] as? String ?? ""
        if let data = object["Data"] as? String, !data.isEmpty { message += " (\(data))" }
        found.append(CounterException(code: code, message: message))
    }
    return found
}

/// `2016-02-01` or `2016-02` → 2016-02.
private func monthOf(_ date: String) -> Period? {
    guard date.count >= 7, let period = try? Period(parsing: String(date.prefix(7))) else { return nil }
    return period
}

/// Every month from `begin`'s to `end`'s, inclusive.
private func monthsBetween(_ begin: String, _ end: String, source: String, field: String) throws(CollectorError) -> [Period] {
    guard let first = monthOf(begin), let last = monthOf(end), first <= last else {
        throw CollectorError(source: source, kind: .malformedResponse, "\(field): Begin_Date \(begin) and End_Date \(end) are not a period")
    }
    let count = (last.year - first.year) * 12 + last.month - first.month + 1
    guard count <= 1200 else {
        throw CollectorError(source: source, kind: .invalidValue, "\(field): \(begin)..\(end) spans more than 100 years")
    }
    var months: [Period] = []
    for offset in 0..<count {
        let index = first.year * 12 + first.month - 1 + offset
        if let month = try? Period(parsing: String(format: "%04d-%02d", index / 12, index % 12 + 1)) { months.append(month) }
    }
    return months
}
