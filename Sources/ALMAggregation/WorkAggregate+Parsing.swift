import ALMCore
import Foundation

extension WorkAggregate {
    /// Reads back a line written by `jsonLine()` (a snapshot line, a stored aggregate, an
    /// `alm.metrics` record). Snapshots read every stored aggregate, so lines in `jsonLine()`'s own
    /// form take a direct path; anything else (escapes, spaces, other key orders) goes through
    /// JSONSerialization, with the same result.
    public init(jsonLine: [UInt8]) throws {
        if let parsed = jsonLine.withUnsafeBufferPointer({ bytes in
            var reader = CanonicalAggregateLine(bytes: bytes)
            return reader.parse()
        }) {
            self = parsed
            return
        }
        try self.init(generalJSONLine: jsonLine)
    }

    init(generalJSONLine jsonLine: [UInt8]) throws {
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
        var authors: [String: UInt64] = [:]
        for (source, number) in object["authors"] as? [String: Any] ?? [:] {
            let n = try count(number)
            if n > 0 { authors[source] = n }
        }
        self.init(work: work, sources: sources, categories: try categories(object["categories"]), byMonth: byMonth,
                  firstSeen: try (object["first_seen"] as? String).map { try Timestamp(parsing: $0) },
                  lastSeen: try (object["last_seen"] as? String).map { try Timestamp(parsing: $0) }, authors: authors)
    }
}

/// A reader of exactly the form `jsonLine()` writes: keys in its order, no whitespace, strings without
/// escapes, integers without sign. It answers nil at the first byte that differs, and the caller falls
/// back to a general JSON parser.
private struct CanonicalAggregateLine {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func parse() -> WorkAggregate? {
        var sources: [String: [String: UInt64]] = [:], byMonth: [String: [Category: UInt64]] = [:]
        guard literal(#"{"work":"#), let work = string(), literal(#","sources":"#),
              object({ reader, source in
                  sources[source] = reader.counts()
                  return sources[source] != nil
              }),
              literal(#","categories":"#), let categories = categoryCounts(), literal(#","by_month":"#),
              object({ reader, month in
                  byMonth[month] = reader.categoryCounts()
                  return byMonth[month] != nil
              })
        else { return nil }
        var authors: [String: UInt64] = [:]
        if literal(#","authors":"#) {
            guard let counts = counts() else { return nil }
            authors = counts.filter { $0.value > 0 }
        }
        var firstSeen: Timestamp?, lastSeen: Timestamp?
        if literal(#","first_seen":"#) {
            guard let text = string(), let time = try? Timestamp(parsing: text) else { return nil }
            firstSeen = time
        }
        if literal(#","last_seen":"#) {
            guard let text = string(), let time = try? Timestamp(parsing: text) else { return nil }
            lastSeen = time
        }
        guard literal("}"), index == bytes.count else { return nil }
        return WorkAggregate(work: work, sources: sources, categories: categories, byMonth: byMonth,
                             firstSeen: firstSeen, lastSeen: lastSeen, authors: authors)
    }

    /// `{"name":value,...}`: `member` reads the value after each name; false ends the reading.
    private mutating func object(_ member: (inout CanonicalAggregateLine, String) -> Bool) -> Bool {
        guard literal("{") else { return false }
        if literal("}") { return true }
        repeat {
            guard let name = string(), literal(":"), member(&self, name) else { return false }
        } while literal(",")
        return literal("}")
    }

    /// `{"viewed":1,...}`: unknown names are read and left out, zeros too (as the general reader does).
    private mutating func categoryCounts() -> [Category: UInt64]? {
        var result: [Category: UInt64] = [:]
        let read = object { reader, name in
            guard let value = reader.unsigned() else { return false }
            let category: Category? = switch name {
            case "viewed": .viewed
            case "saved": .saved
            case "discussed": .discussed
            case "cited": .cited
            case "recommended": .recommended
            default: nil
            }
            if let category, value > 0 { result[category] = value }
            return true
        }
        return read ? result : nil
    }

    /// `{"name":123,...}`.
    private mutating func counts() -> [String: UInt64]? {
        var result: [String: UInt64] = [:]
        let read = object { reader, name in
            result[name] = reader.unsigned()
            return result[name] != nil
        }
        return read ? result : nil
    }

    private mutating func string() -> String? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 { end += 1 }
        guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return nil }
        index = end + 1
        let text = UnsafeBufferPointer(rebasing: bytes[start..<end])
        // ASCII (nearly every DOI, source and metric) needs no validation; anything else must be valid UTF-8.
        return text.allSatisfy { $0 < 0x80 } ? String(decoding: text, as: UTF8.self) : String(validating: text, as: UTF8.self)
    }

    /// A non-negative integer that fits an Int64, as the general parser accepts.
    private mutating func unsigned() -> UInt64? {
        var value: UInt64 = 0
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = times + UInt64(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        guard index > start, index - start == 1 || bytes[start] != UInt8(ascii: "0"), value <= UInt64(Int64.max) else { return nil }
        return value
    }

    private func peek(_ byte: Unicode.Scalar) -> Bool { index < bytes.count && bytes[index] == UInt8(ascii: byte) }

    private mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return false }
        index += count
        return true
    }
}

public struct AggregateParseError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
