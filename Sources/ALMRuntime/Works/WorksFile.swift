import ALMCore
import Foundation
import SwiftCSV

/// A file of works for `alm works import`: CSV with a header row, or JSON lines, with the columns
/// `doi` (required), `pmid`, `pmcid`, `arxiv`, `url`, `title`, `published`. Header names are matched
/// case-insensitively and a few common spellings are accepted (`published_date`, `arxiv_id`, ...).
public enum WorksFile {
    public enum Format: String, Sendable, CaseIterable {
        case csv, jsonl
    }

    /// One row: the record, or why it was rejected. `row` counts data rows from 1 (a CSV header is not a row).
    public struct Row: Sendable {
        public let row: Int
        public let result: Result<WorkRecord, WorkRecordError>
    }

    static let aliases: [String: String] = [
        "doi": "doi", "pmid": "pmid", "pubmed_id": "pmid", "pmcid": "pmcid", "pmc_id": "pmcid",
        "arxiv": "arxiv", "arxiv_id": "arxiv", "url": "url", "link": "url", "title": "title",
        "published": "published", "published_date": "published", "publication_date": "published", "date": "published",
    ]

    public static func format(ofPath path: String) -> Format? {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") { return .csv }
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") || lower.hasSuffix(".json") { return .jsonl }
        return nil
    }

    public static func parse(_ text: String, format: Format) throws(ConfigurationError) -> [Row] {
        switch format {
        case .csv: try parseCSV(text)
        case .jsonl: parseJSONLines(text)
        }
    }

    private static func parseCSV(_ text: String) throws(ConfigurationError) -> [Row] {
        let body = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        let csv: CSV<Named>
        do {
            csv = try CSV<Named>(string: body, delimiter: .comma, loadColumns: false)
        } catch {
            throw ConfigurationError("not a CSV file: \(error)")
        }
        var columns: [String: String] = [:]  // header as written → field
        for name in csv.header {
            let key = name.trimmingCharacters(in: .whitespaces).lowercased()
            if let field = aliases[key] { columns[name] = field }
        }
        guard columns.values.contains("doi") else {
            throw ConfigurationError("the CSV header has no doi column (found: \(csv.header.joined(separator: ", ")))")
        }
        return csv.rows.enumerated().map { index, row in
            var fields: [String: String] = [:]
            for (name, field) in columns { fields[field] = row[name] }
            return Row(row: index + 1, result: record(fields))
        }
    }

    private static func parseJSONLines(_ text: String) -> [Row] {
        var rows: [Row] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.allSatisfy({ $0.isWhitespace }) else { continue }
            let number = index + 1
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                rows.append(Row(row: number, result: .failure(WorkRecordError(field: "line", "not a JSON object"))))
                continue
            }
            var fields: [String: String] = [:]
            for (key, value) in object {
                guard let field = aliases[key.lowercased()] else { continue }
                if let string = value as? String { fields[field] = string } else if let number = value as? NSNumber { fields[field] = number.stringValue }
            }
            rows.append(Row(row: number, result: record(fields)))
        }
        return rows
    }

    private static func record(_ fields: [String: String]) -> Result<WorkRecord, WorkRecordError> {
        guard let doi = fields["doi"], !doi.trimmingCharacters(in: .whitespaces).isEmpty else {
            return .failure(WorkRecordError(field: "doi", "missing: every work is keyed by its DOI"))
        }
        do {
            return .success(try WorkRecord(doi: doi, pmid: fields["pmid"], pmcid: fields["pmcid"], arxiv: fields["arxiv"],
                                           url: fields["url"], title: fields["title"], published: fields["published"]))
        } catch {
            return .failure(error)
        }
    }
}
