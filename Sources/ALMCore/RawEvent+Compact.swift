/// A compact binary form of a raw event, for the processor's state store and memory: every field of the
/// event, so it decodes back to the identical `RawEvent` (timestamps keep their spelling, `meta` its
/// text), without JSON's member names and with instants as 8 bytes. `work` and `source` are never
/// written, and `id`, `metric` and `period` may be left out (`CompactEventOmissions`): the caller keeps
/// them elsewhere (the processor's state key) and hands them back to decode.
///
/// Layout: a format byte (1), the flags (LEB128), the value (LEB128), `observed_at`, then whichever of
/// `occurred_at`, id, metric, period, obj, subj, session, agent, meta the flags say are present, in that
/// order. A timestamp is 8 bytes of big-endian microseconds when its text is the canonical UTC spelling
/// of that instant, else its text (a flag says which); strings are a LEB128 byte length and UTF-8.
public struct CompactEventOmissions: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let id = CompactEventOmissions(rawValue: 1)
    public static let metric = CompactEventOmissions(rawValue: 2)
    public static let period = CompactEventOmissions(rawValue: 4)
}

public struct CompactEventError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

enum CompactEventFlag {
    static let kindMask: UInt32 = 0b11
    static let delete: UInt32 = 1 << 2
    static let hasOccurredAt: UInt32 = 1 << 3
    static let occurredAtAsText: UInt32 = 1 << 4
    static let observedAtAsText: UInt32 = 1 << 5
    static let hasID: UInt32 = 1 << 6
    static let hasMetric: UInt32 = 1 << 7
    static let hasPeriod: UInt32 = 1 << 8
    static let hasObj: UInt32 = 1 << 9
    static let hasSubj: UInt32 = 1 << 10
    static let hasSession: UInt32 = 1 << 11
    static let hasAgent: UInt32 = 1 << 12
    static let hasMeta: UInt32 = 1 << 13
    /// An id, metric or period that was left out for the caller to supply.
    static let idOmitted: UInt32 = 1 << 14
    static let periodOmitted: UInt32 = 1 << 15
}

extension RawEvent {
    static let compactFormat: UInt8 = 1

    /// The compact encoding (see `CompactEventOmissions`). `omitting` names fields the reader will supply.
    public func compactEncoding(omitting omissions: CompactEventOmissions = []) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(48 + (omissions.contains(.id) ? 0 : id?.utf8.count ?? 0) + (obj?.utf8.count ?? 0)
            + (subj?.utf8.count ?? 0) + (session?.utf8.count ?? 0) + (agent?.utf8.count ?? 0) + (meta?.utf8.count ?? 0))
        appendCompact(to: &out, omitting: omissions)
        return out
    }

    public func appendCompact(to out: inout [UInt8], omitting omissions: CompactEventOmissions = []) {
        var flags: UInt32
        switch kind {
        case .event: flags = 0
        case .total: flags = 1
        case .count: flags = 2
        }
        if action == .delete { flags |= CompactEventFlag.delete }
        let occurredCanonical = occurredAt.map(Self.isCanonical) ?? true
        let observedCanonical = Self.isCanonical(observedAt)
        if occurredAt != nil { flags |= CompactEventFlag.hasOccurredAt }
        if !occurredCanonical { flags |= CompactEventFlag.occurredAtAsText }
        if !observedCanonical { flags |= CompactEventFlag.observedAtAsText }
        let writeID = id != nil && !omissions.contains(.id)
        let writeMetric = !omissions.contains(.metric)
        let writePeriod = period != nil && !omissions.contains(.period)
        if writeID { flags |= CompactEventFlag.hasID }
        if id != nil && !writeID { flags |= CompactEventFlag.idOmitted }
        if writeMetric { flags |= CompactEventFlag.hasMetric }
        if writePeriod { flags |= CompactEventFlag.hasPeriod }
        if period != nil && !writePeriod { flags |= CompactEventFlag.periodOmitted }
        if obj != nil { flags |= CompactEventFlag.hasObj }
        if subj != nil { flags |= CompactEventFlag.hasSubj }
        if session != nil { flags |= CompactEventFlag.hasSession }
        if agent != nil { flags |= CompactEventFlag.hasAgent }
        if meta != nil { flags |= CompactEventFlag.hasMeta }

        out.append(Self.compactFormat)
        appendLEB128(UInt64(flags), to: &out)
        appendLEB128(value, to: &out)
        Self.appendTimestamp(observedAt, canonical: observedCanonical, to: &out)
        if let occurredAt { Self.appendTimestamp(occurredAt, canonical: occurredCanonical, to: &out) }
        if writeID, let id { appendCompactString(id, to: &out) }
        if writeMetric { appendCompactString(metric, to: &out) }
        if writePeriod, let period { appendCompactString(period.text, to: &out) }
        if let obj { appendCompactString(obj, to: &out) }
        if let subj { appendCompactString(subj, to: &out) }
        if let session { appendCompactString(session, to: &out) }
        if let agent { appendCompactString(agent, to: &out) }
        if let meta { appendCompactString(meta, to: &out) }
    }

    /// Decodes `compactEncoding(omitting:)`; `work` and `source`, and the omitted fields, come from the
    /// caller. Trusts that the event was valid when encoded; throws on bytes that are not such an encoding.
    public init(compact bytes: [UInt8], work: String, source: String, id suppliedID: String? = nil,
                metric suppliedMetric: String? = nil, period suppliedPeriod: String? = nil) throws(CompactEventError) {
        var reader = CompactReader(bytes: bytes)
        guard try reader.byte() == Self.compactFormat else { throw CompactEventError("unknown compact event format") }
        let flags = UInt32(truncatingIfNeeded: try reader.leb128())
        let kind: Kind
        switch flags & CompactEventFlag.kindMask {
        case 0: kind = .event
        case 1: kind = .total
        case 2: kind = .count
        default: throw CompactEventError("unknown kind")
        }
        let value = try reader.leb128()
        let observedAt = try reader.timestamp(asText: flags & CompactEventFlag.observedAtAsText != 0)
        let occurredAt = flags & CompactEventFlag.hasOccurredAt != 0
            ? try reader.timestamp(asText: flags & CompactEventFlag.occurredAtAsText != 0) : nil
        var id = flags & CompactEventFlag.hasID != 0 ? try reader.string() : nil
        if flags & CompactEventFlag.idOmitted != 0 {
            guard let suppliedID else { throw CompactEventError("the id was left out and not supplied") }
            id = suppliedID
        }
        let metric: String
        if flags & CompactEventFlag.hasMetric != 0 {
            metric = try reader.string()
        } else {
            guard let suppliedMetric else { throw CompactEventError("the metric was left out and not supplied") }
            metric = suppliedMetric
        }
        var periodText = flags & CompactEventFlag.hasPeriod != 0 ? try reader.string() : nil
        if flags & CompactEventFlag.periodOmitted != 0 {
            guard let suppliedPeriod else { throw CompactEventError("the period was left out and not supplied") }
            periodText = suppliedPeriod
        }
        let period: Period?
        do {
            period = try periodText.map { text throws(PeriodError) in try Period(parsing: text) }
        } catch {
            throw CompactEventError("malformed period")
        }
        let obj = flags & CompactEventFlag.hasObj != 0 ? try reader.string() : nil
        let subj = flags & CompactEventFlag.hasSubj != 0 ? try reader.string() : nil
        let session = flags & CompactEventFlag.hasSession != 0 ? try reader.string() : nil
        let agent = flags & CompactEventFlag.hasAgent != 0 ? try reader.string() : nil
        let meta = flags & CompactEventFlag.hasMeta != 0 ? try reader.string() : nil
        guard reader.isAtEnd else { throw CompactEventError("bytes after the compact event") }
        self.init(validatedKind: kind, id: id, source: source, work: work, obj: obj, subj: subj, metric: metric,
                  value: value, period: period, action: flags & CompactEventFlag.delete != 0 ? .delete : .add,
                  occurredAt: occurredAt, observedAt: observedAt, session: session, agent: agent, meta: meta)
    }

    /// The instant's fields of a compact encoding, read without building the event: what the engine
    /// compares to pick a deciding record.
    public static func compactHeader(_ bytes: [UInt8]) -> CompactEventHeader? {
        var reader = CompactReader(bytes: bytes)
        guard (try? reader.byte()) == compactFormat, let flags = try? reader.leb128(),
              let value = try? reader.leb128(),
              let observed = try? reader.instant(asText: flags & UInt64(CompactEventFlag.observedAtAsText) != 0)
        else { return nil }
        var occurred: Int64?
        if flags & UInt64(CompactEventFlag.hasOccurredAt) != 0 {
            guard let instant = try? reader.instant(asText: flags & UInt64(CompactEventFlag.occurredAtAsText) != 0) else { return nil }
            occurred = instant
        }
        return CompactEventHeader(isDelete: flags & UInt64(CompactEventFlag.delete) != 0, value: value,
                                  observedAt: observed, occurredAt: occurred)
    }

    private static func isCanonical(_ timestamp: Timestamp) -> Bool { timestamp.hasCanonicalText }

    private static func appendTimestamp(_ timestamp: Timestamp, canonical: Bool, to out: inout [UInt8]) {
        if canonical {
            let bits = UInt64(bitPattern: timestamp.microsecondsSinceEpoch)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        } else {
            appendCompactString(timestamp.text, to: &out)
        }
    }
}

public struct CompactEventHeader: Sendable, Equatable {
    public let isDelete: Bool
    public let value: UInt64
    public let observedAt: Int64
    public let occurredAt: Int64?
}

func appendLEB128(_ value: UInt64, to out: inout [UInt8]) {
    var rest = value
    repeat {
        let low = UInt8(rest & 0x7F)
        rest >>= 7
        out.append(rest == 0 ? low : low | 0x80)
    } while rest != 0
}

private func appendCompactString(_ text: String, to out: inout [UInt8]) {
    appendLEB128(UInt64(text.utf8.count), to: &out)
    out.append(contentsOf: text.utf8)
}

private struct CompactReader {
    let bytes: [UInt8]
    var index = 0

    var isAtEnd: Bool { index == bytes.count }

    mutating func byte() throws(CompactEventError) -> UInt8 {
        guard index < bytes.count else { throw CompactEventError("truncated compact event") }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func leb128() throws(CompactEventError) -> UInt64 {
        var result: UInt64 = 0, shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64 else { throw CompactEventError("malformed length") }
            result |= UInt64(next & 0x7F) << shift
            shift += 7
            if next & 0x80 == 0 { return result }
        }
    }

    mutating func string() throws(CompactEventError) -> String {
        let length = try leb128()
        guard length <= UInt64(bytes.count - index) else { throw CompactEventError("truncated compact event") }
        let start = index
        index += Int(length)
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    mutating func instant(asText: Bool) throws(CompactEventError) -> Int64 {
        if asText { return try timestamp(asText: true).microsecondsSinceEpoch }
        guard bytes.count - index >= 8 else { throw CompactEventError("truncated compact event") }
        var bits: UInt64 = 0
        for offset in 0..<8 { bits = bits << 8 | UInt64(bytes[index + offset]) }
        index += 8
        return Int64(bitPattern: bits)
    }

    mutating func timestamp(asText: Bool) throws(CompactEventError) -> Timestamp {
        if asText {
            do {
                return try Timestamp(parsing: try string())
            } catch let error as CompactEventError {
                throw error
            } catch {
                throw CompactEventError("malformed timestamp")
            }
        }
        guard let timestamp = Timestamp(microsecondsSinceEpoch: try instant(asText: false)) else {
            throw CompactEventError("timestamp out of range")
        }
        return timestamp
    }
}
