import ALMCore
import Foundation

extension WorkAggregate {
    /// Reads back a line written by `jsonLine()` (a snapshot line, a stored aggregate, an
    /// `alm.metrics` record). Not on the hot path: snapshots and the read side use it.
    public init(jsonLine: [UInt8]) throws {
        guard let object = try JSONSerialization.jsonObject(with: Data(jsonLine)) as? [String: Any],
              let work = object["work"] as? String else {
            throw AggregateParseError("not an aggregate line: no work")
        }
        func count(_ value: Any?) throws -> UInt64 {
            guard let number = value as? NSNumber, number.int64Value >= 0,
                  Double(number.int64Value) == number.doubleValue else {
                throw AggregateParseError("\(work): expected a non-negative integer, got \(String(describing: value))")
            }
            return UInt64(number.int64Value)
        }
        func categories(_ value: Any?) throws -> [Category: UInt64] {
            var result: [Category: UInt64] = [:]
            for (name, number) in value as? [String: Any] ?? [:] {
                guard let category = Category(rawValue: name) else { continue }
                let n = try count(number)
                if n > 0 { result[category] = n }
            }
            return result
        }
        var sources: [String: [String: UInt64]] = [:]
        for (source, metrics) in object["sources"] as? [String: Any] ?? [:] {
            for (metric, number) in metrics as? [String: Any] ?? [:] {
                sources[source, default: [:]][metric] = try count(number)
            }
        }
        var byMonth: [String: [Category: UInt64]] = [:]
        for (month, values) in object["by_month"] as? [String: Any] ?? [:] {
            byMonth[month] = try categories(values)
        }
        self.init(work: work, sources: sources, categories: try categories(object["categories"]), byMonth: byMonth,
                  firstSeen: try (object["first_seen"] as? String).map { try Timestamp(parsing: $0) },
                  lastSeen: try (object["last_seen"] as? String).map { try Timestamp(parsing: $0) })
    }
}

public struct AggregateParseError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
