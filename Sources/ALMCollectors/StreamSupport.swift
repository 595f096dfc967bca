import ALMCore
import Foundation

/// Helpers for the sources whose responses are not one JSON object: top-level arrays (OpenCitations),
/// JSON lines (Bluesky Jetstream), single stream events (Wikimedia EventStreams).
extension JSONResponse {
    /// The JSON value of `body` (any type at the top level), or a malformed-response error.
    func value(_ body: some Collection<UInt8>, at location: String = "") throws(CollectorError) -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
            throw CollectorError(source: source, kind: .malformedResponse, "\(location)not JSON: \(reason)")
        }
    }

    func topLevelArray(_ body: [UInt8]) throws(CollectorError) -> [Any] {
        guard let array = try value(body) as? [Any] else {
            throw CollectorError(source: source, kind: .malformedResponse, "expected a JSON array at the top level")
        }
        return array
    }

    /// The object on one line of a JSON-lines body; errors name the line (`line 12: …`).
    func object(line: ArraySlice<UInt8>, number: Int) throws(CollectorError) -> [String: Any] {
        guard let object = try value(line, at: "line \(number): ") as? [String: Any] else {
            throw CollectorError(source: source, kind: .malformedResponse, "line \(number): expected a JSON object")
        }
        return object
    }

    /// An RFC 3339 date-time field.
    func timestamp(_ parent: [String: Any], _ key: String, at path: String) throws(CollectorError) -> Timestamp {
        let text = try string(parent, key, at: path)
        do {
            return try Timestamp(parsing: text)
        } catch {
            throw CollectorError(source: source, kind: .malformedResponse, "\(path)\(key): \(error.description): \"\(text.prefix(60))\"")
        }
    }

    /// A non-negative integer field that may be absent (nil), but not of another type.
    func optionalCount(_ parent: [String: Any], _ key: String, at path: String) throws(CollectorError) -> UInt64? {
        guard parent[key] != nil, !(parent[key] is NSNull) else { return nil }
        return try count(parent, key, at: path)
    }

    /// An element of an array that must be an object.
    func element(_ item: Any, at path: String) throws(CollectorError) -> [String: Any] {
        guard let object = item as? [String: Any] else {
            throw CollectorError(source: source, kind: .malformedResponse, "\(path): expected an object, found \(type(of: item))")
        }
        return object
    }
}

/// The non-blank lines of a JSON-lines body with their 1-based line numbers; a CR before the LF is
/// dropped.
func jsonLines(_ body: [UInt8]) -> [(number: Int, bytes: ArraySlice<UInt8>)] {
    var lines: [(number: Int, bytes: ArraySlice<UInt8>)] = []
    var number = 0
    for var line in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
        number += 1
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
        lines.append((number, line))
    }
    return lines
}

/// The first instant of a date given as `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (sources that date citations
/// by the citing work's publication, to whatever precision they know it); nil when `text` is none of them.
func startOfPartialDate(_ text: String) -> Timestamp? {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard (1...3).contains(parts.count), parts[0].count == 4, parts.dropFirst().allSatisfy({ $0.count == 2 }),
        parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } })
    else { return nil }
    let month = parts.count > 1 ? parts[1] : "01", day = parts.count > 2 ? parts[2] : "01"
    return try? Timestamp(parsing: "\(parts[0])-\(month)-\(day)T00:00:00Z")
}

/// The `meta` text of a few string details, keys sorted so the same details always encode the same bytes.
func metaText(_ fields: [String: String]) -> String? {
    guard !fields.isEmpty, let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])
    else { return nil }
    return String(decoding: data, as: UTF8.self)
}

extension EventFactory {
    /// An `event` that stands for `value` occurrences (a source that reports several as one record);
    /// otherwise as `event(id:work:metric:…)`.
    func event(id: String, work: String, metric: String, value: UInt64, subj: String?, obj: String?, occurredAt: Timestamp,
               action: RawEvent.Action, meta: String?) throws(CollectorError) -> RawEvent {
        do {
            return try RawEvent(kind: .event, id: id, source: source, work: work, obj: obj, subj: subj, metric: metric,
                                value: value, action: action, occurredAt: occurredAt, observedAt: observedAt, meta: meta)
        } catch {
            throw CollectorError(source: source, kind: .invalidValue, error.description)
        }
    }
}
