import ALMCore
import Crypto
import Foundation

/// Reading source responses: JSON through Foundation (responses are small and off the hot path), with
/// every missing or wrong-typed field reported as a `CollectorError` naming its path.
struct JSONResponse {
    let source: String

    func object(_ body: [UInt8]) throws(CollectorError) -> [String: Any] {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            throw CollectorError(source: source, kind: .malformedResponse, "not JSON: \(describe(error))")
        }
        guard let object = value as? [String: Any] else {
            throw CollectorError(source: source, kind: .malformedResponse, "expected a JSON object at the top level")
        }
        return object
    }

    func object(_ parent: [String: Any], _ key: String, at path: String) throws(CollectorError) -> [String: Any] {
        guard let value = parent[key] as? [String: Any] else { throw missing(path + key, "an object", parent[key]) }
        return value
    }

    func array(_ parent: [String: Any], _ key: String, at path: String) throws(CollectorError) -> [Any] {
        guard let value = parent[key] as? [Any] else { throw missing(path + key, "an array", parent[key]) }
        return value
    }

    func string(_ parent: [String: Any], _ key: String, at path: String) throws(CollectorError) -> String {
        guard let value = parent[key] as? String else { throw missing(path + key, "a string", parent[key]) }
        return value
    }

    /// A non-negative integer; `lenient` also accepts one spelled as a string ("20").
    func count(_ parent: [String: Any], _ key: String, at path: String, lenient: Bool = false) throws(CollectorError) -> UInt64 {
        if let number = parent[key] as? NSNumber, number.doubleValue >= 0, number.doubleValue == number.doubleValue.rounded(), number.doubleValue < 9.007e15 {
            return UInt64(number.doubleValue)
        }
        if lenient, let text = parent[key] as? String, let value = UInt64(text) { return value }
        throw missing(path + key, "a non-negative integer", parent[key])
    }

    private func missing(_ path: String, _ expected: String, _ found: Any?) -> CollectorError {
        let what = found.map { "\(type(of: $0)) \(String(describing: $0).prefix(60))" } ?? "nothing"
        return CollectorError(source: source, kind: .malformedResponse, "\(path): expected \(expected), found \(what)")
    }

    private func describe(_ error: Error) -> String {
        (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
    }
}

/// Builds events for one source, turning schema violations into `CollectorError`s.
struct EventFactory {
    let source: String
    let observedAt: Timestamp

    func total(work: String, metric: String, value: UInt64) throws(CollectorError) -> RawEvent {
        try make { () throws(EventValidationError) in
            try RawEvent(kind: .total, source: source, work: work, metric: metric, value: value, observedAt: observedAt)
        }
    }

    func count(work: String, metric: String, value: UInt64, period: Period) throws(CollectorError) -> RawEvent {
        try make { () throws(EventValidationError) in
            try RawEvent(kind: .count, source: source, work: work, metric: metric, value: value, period: period, observedAt: observedAt)
        }
    }

    func event(id: String, work: String, metric: String, subj: String?, obj: String?, occurredAt: Timestamp?,
               action: RawEvent.Action = .add, meta: String? = nil) throws(CollectorError) -> RawEvent {
        try make { () throws(EventValidationError) in
            try RawEvent(kind: .event, id: id, source: source, work: work, obj: obj, subj: subj, metric: metric, value: 1,
                         action: action, occurredAt: occurredAt ?? observedAt, observedAt: observedAt, meta: meta)
        }
    }

    private func make(_ build: () throws(EventValidationError) -> RawEvent) throws(CollectorError) -> RawEvent {
        do {
            return try build()
        } catch {
            throw CollectorError(source: source, kind: .invalidValue, error.description)
        }
    }
}

/// A stable event id where the source has none of its own: the source, then a hash of what identifies
/// the occurrence (subject, object, relation), so collecting the same thing twice gives the same id.
public func stableEventID(source: String, _ parts: String...) -> String {
    let digest = SHA256.hash(data: Data(parts.joined(separator: "\u{1F}").utf8))
    return source + ":" + digest.prefix(16).map { String(format: "%02x", $0) }.joined()
}

/// The start of a publication year, for citations whose source gives only the year.
func startOfYear(_ year: Int) -> Timestamp? {
    guard (1000...9999).contains(year) else { return nil }
    return try? Timestamp(parsing: "\(year)-01-01T00:00:00Z")
}
