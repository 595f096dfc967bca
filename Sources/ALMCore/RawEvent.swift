/// One record of an `alm.raw.<source>` topic (`shared/spec/event.schema.json`, version 1).
///
/// A `RawEvent` always satisfies the schema: the decoder and the public initialiser check every rule,
/// so an event built by a collector encodes to a record the processor accepts. `work` is always the
/// normalised DOI (the record key); the text a source gave belongs in `obj`.
public struct RawEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// One occurrence, counted once per `(source, id)`.
        case event
        /// A running total reported by the source; the newest observation wins.
        case total
        /// A count for a `period`; the newest observation per period wins.
        case count
    }

    public enum Action: String, Sendable, Hashable, CaseIterable {
        case add
        /// Retracts an earlier `event` with the same `(source, id)`.
        case delete
    }

    public static let currentSchemaVersion = 1
    /// The largest `value`: 2^53 − 1, the largest integer every JSON reader holds exactly.
    public static let maximumValue: UInt64 = 9_007_199_254_740_991
    /// The largest `meta` object, in bytes of its JSON text.
    public static let maximumMetaBytes = 8192

    public var schemaVersion: Int { Self.currentSchemaVersion }
    public let kind: Kind
    public let id: String?
    public let source: String
    /// The normalised DOI of the work (see `DOI.normalize`).
    public let work: String
    public let obj: String?
    public let subj: String?
    public let metric: String
    public let value: UInt64
    public let period: Period?
    public let action: Action
    public let occurredAt: Timestamp?
    public let observedAt: Timestamp
    public let session: String?
    public let agent: String?
    /// The `meta` object as JSON text, exactly as the record carried it.
    public let meta: String?

    /// Builds an event, checking it against the schema. `work` may be any spelling `DOI.normalize`
    /// accepts; the event holds the normalised form. `meta`, when given, must be the JSON text of an
    /// object with nothing before `{` or after `}`.
    public init(
        kind: Kind,
        id: String? = nil,
        source: String,
        work: String,
        obj: String? = nil,
        subj: String? = nil,
        metric: String,
        value: UInt64,
        period: Period? = nil,
        action: Action = .add,
        occurredAt: Timestamp? = nil,
        observedAt: Timestamp,
        session: String? = nil,
        agent: String? = nil,
        meta: String? = nil
    ) throws(EventValidationError) {
        if let id { try EventRules.checkLength(of: .id, scalarCount: id.unicodeScalars.count) }
        try EventRules.checkSource(source)
        let normalizedWork = try EventRules.normalizeWork(work, scalarCount: work.unicodeScalars.count)
        if let obj { try EventRules.checkLength(of: .obj, scalarCount: obj.unicodeScalars.count) }
        if let subj { try EventRules.checkLength(of: .subj, scalarCount: subj.unicodeScalars.count) }
        try EventRules.checkMetric(metric)
        try EventRules.checkValue(value)
        if let session { try EventRules.checkLength(of: .session, scalarCount: session.unicodeScalars.count) }
        if let agent { try EventRules.checkLength(of: .agent, scalarCount: agent.unicodeScalars.count) }
        if let meta { try EventRules.checkMetaText(meta) }
        try EventRules.checkKindRequirements(
            kind: kind, hasID: id != nil, hasOccurredAt: occurredAt != nil, hasPeriod: period != nil)

        self.init(
            validatedKind: kind, id: id, source: source, work: normalizedWork, obj: obj, subj: subj,
            metric: metric, value: value, period: period, action: action, occurredAt: occurredAt,
            observedAt: observedAt, session: session, agent: agent, meta: meta)
    }

    /// For callers that have already checked every rule (the decoder).
    init(
        validatedKind kind: Kind, id: String?, source: String, work: String, obj: String?, subj: String?,
        metric: String, value: UInt64, period: Period?, action: Action, occurredAt: Timestamp?,
        observedAt: Timestamp, session: String?, agent: String?, meta: String?
    ) {
        self.kind = kind
        self.id = id
        self.source = source
        self.work = work
        self.obj = obj
        self.subj = subj
        self.metric = metric
        self.value = value
        self.period = period
        self.action = action
        self.occurredAt = occurredAt
        self.observedAt = observedAt
        self.session = session
        self.agent = agent
        self.meta = meta
    }
}

/// The fields of a raw event, in the schema's (and the encoder's) order.
enum EventField: Int, CaseIterable, Sendable {
    case schemaVersion, kind, id, source, work, obj, subj, metric, value, period, action
    case occurredAt, observedAt, session, agent, meta

    var jsonName: StaticString {
        switch self {
        case .schemaVersion: "schema_version"
        case .kind: "kind"
        case .id: "id"
        case .source: "source"
        case .work: "work"
        case .obj: "obj"
        case .subj: "subj"
        case .metric: "metric"
        case .value: "value"
        case .period: "period"
        case .action: "action"
        case .occurredAt: "occurred_at"
        case .observedAt: "observed_at"
        case .session: "session"
        case .agent: "agent"
        case .meta: "meta"
        }
    }

    var name: String { jsonName.description }

    /// The schema's `minLength...maxLength` for plain string fields, in Unicode scalars.
    var lengthLimits: ClosedRange<Int>? {
        switch self {
        case .id: 1...512
        case .work: 3...512
        case .obj, .subj: 0...2048
        case .session: 0...128
        case .agent: 0...1024
        default: nil
        }
    }

    /// The field whose name is `bytes` (UTF-8), if any. Picks the one candidate by length and first
    /// byte, then compares.
    init?(name bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else { return nil }
        let candidate: EventField
        switch (bytes.count, first) {
        case (14, _): candidate = .schemaVersion
        case (2, _): candidate = .id
        case (3, _): candidate = .obj
        case (7, _): candidate = .session
        case (4, UInt8(ascii: "k")): candidate = .kind
        case (4, UInt8(ascii: "w")): candidate = .work
        case (4, UInt8(ascii: "s")): candidate = .subj
        case (4, UInt8(ascii: "m")): candidate = .meta
        case (5, UInt8(ascii: "v")): candidate = .value
        case (5, UInt8(ascii: "a")): candidate = .agent
        case (6, UInt8(ascii: "s")): candidate = .source
        case (6, UInt8(ascii: "m")): candidate = .metric
        case (6, UInt8(ascii: "p")): candidate = .period
        case (6, UInt8(ascii: "a")): candidate = .action
        case (11, UInt8(ascii: "o")): candidate = bytes[1] == UInt8(ascii: "c") ? .occurredAt : .observedAt
        default: return nil
        }
        guard bytesEqual(bytes, candidate.jsonName) else { return nil }
        self = candidate
    }
}

/// True when `bytes` hold exactly the UTF-8 of `literal`.
func bytesEqual(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
    guard bytes.count == literal.utf8CodeUnitCount else { return false }
    let expected = literal.utf8Start
    for index in 0..<bytes.count where bytes[index] != expected[index] {
        return false
    }
    return true
}

/// The schema's rules, shared by the decoder and `RawEvent.init`.
enum EventRules {
    static func checkLength(of field: EventField, scalarCount: Int) throws(EventValidationError) {
        guard let limits = field.lengthLimits, !limits.contains(scalarCount) else { return }
        if scalarCount < limits.lowerBound {
            throw EventValidationError(
                field: field.name, reason: .tooShort,
                message: "must be at least \(limits.lowerBound) character\(limits.lowerBound == 1 ? "" : "s") long")
        }
        throw EventValidationError(
            field: field.name, reason: .tooLong,
            message: "must be at most \(limits.upperBound) characters long, got \(scalarCount)")
    }

    /// `^[a-z0-9][a-z0-9_-]{0,63}$`
    static func checkSource(_ source: String) throws(EventValidationError) {
        var count = 0
        var matches = true
        for byte in source.utf8 {
            let allowed = isLowercaseLetter(byte) || isDigit(byte)
                || (count > 0 && (byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")))
            count += 1
            if !allowed || count > 64 {
                matches = false
                break
            }
        }
        guard matches, count > 0 else {
            throw EventValidationError(
                field: EventField.source.name, reason: .badPattern,
                message: "must match ^[a-z0-9][a-z0-9_-]{0,63}$, got \(quotedForMessage(source))")
        }
    }

    /// `^[a-z][a-z_]{0,63}$`
    static func checkMetric(_ metric: String) throws(EventValidationError) {
        var count = 0
        var matches = true
        for byte in metric.utf8 {
            let allowed = isLowercaseLetter(byte) || (count > 0 && byte == UInt8(ascii: "_"))
            count += 1
            if !allowed || count > 64 {
                matches = false
                break
            }
        }
        guard matches, count > 0 else {
            throw EventValidationError(
                field: EventField.metric.name, reason: .badPattern,
                message: "must match ^[a-z][a-z_]{0,63}$, got \(quotedForMessage(metric))")
        }
    }

    static func normalizeWork(_ work: String, scalarCount: Int) throws(EventValidationError) -> String {
        try checkLength(of: .work, scalarCount: scalarCount)
        do {
            return try DOI.normalize(work)
        } catch {
            throw EventValidationError(
                field: EventField.work.name, reason: .invalidDOI,
                message: "\(error), got \(quotedForMessage(work))")
        }
    }

    static let valueRangeDescription = "an integer between 0 and \(RawEvent.maximumValue)"
    static let schemaVersionDescription = "the integer \(RawEvent.currentSchemaVersion)"

    static func checkValue(_ value: UInt64) throws(EventValidationError) {
        guard value > RawEvent.maximumValue else { return }
        throw EventValidationError(
            field: EventField.value.name, reason: .outOfRange,
            message: "expected \(valueRangeDescription), got \(value)")
    }

    static func timestamp(_ text: String, field: EventField) throws(EventValidationError) -> Timestamp {
        do {
            return try Timestamp(parsing: text)
        } catch {
            throw EventValidationError(
                field: field.name, reason: .invalidTimestamp,
                message: "expected an RFC 3339 date-time such as 2026-03-02T11:04:09Z, got "
                    + "\(quotedForMessage(text)) (\(error))")
        }
    }

    static func period(_ text: String) throws(EventValidationError) -> Period {
        do {
            return try Period(parsing: text)
        } catch {
            throw EventValidationError(
                field: EventField.period.name, reason: .invalidPeriod,
                message: "expected YYYY-MM or YYYY-MM-DD, got \(quotedForMessage(text)) (\(error))")
        }
    }

    static func checkMetaSize(_ byteCount: Int) throws(EventValidationError) {
        guard byteCount > RawEvent.maximumMetaBytes else { return }
        throw EventValidationError(
            field: EventField.meta.name, reason: .tooLong,
            message: "must be at most \(RawEvent.maximumMetaBytes) bytes of JSON, got \(byteCount)")
    }

    /// `meta` given to `RawEvent.init`: the JSON text of one object, nothing around it.
    static func checkMetaText(_ meta: String) throws(EventValidationError) {
        try checkMetaSize(meta.utf8.count)
        let bytes = Array(meta.utf8)
        let outcome = bytes.withUnsafeBytes { buffer in
            Result { () throws(EventValidationError) in
                var scanner = JSONScanner(buffer)
                guard scanner.current == UInt8(ascii: "{") else {
                    throw EventValidationError(
                        field: EventField.meta.name, reason: .wrongType,
                        message: "expected the JSON text of an object, starting with \"{\"")
                }
                try scanner.skipValue(field: .meta)
                guard scanner.isAtEnd else {
                    throw EventValidationError(
                        field: EventField.meta.name, reason: .invalidJSON,
                        message: "unexpected text after the object at byte \(scanner.position)")
                }
            }
        }
        do {
            try outcome.get()
        } catch where error.field == nil {
            throw EventValidationError(
                field: EventField.meta.name, reason: error.reason, message: error.message,
                byteOffset: error.byteOffset)
        }
    }

    static func checkKindRequirements(
        kind: RawEvent.Kind, hasID: Bool, hasOccurredAt: Bool, hasPeriod: Bool
    ) throws(EventValidationError) {
        switch kind {
        case .event:
            if !hasID { throw requiredForKind(.id, kind) }
            if !hasOccurredAt { throw requiredForKind(.occurredAt, kind) }
        case .count:
            if !hasPeriod { throw requiredForKind(.period, kind) }
        case .total:
            break
        }
    }

    static func missing(_ field: EventField) -> EventValidationError {
        EventValidationError(field: field.name, reason: .missingField, message: "required field is missing")
    }

    private static func requiredForKind(_ field: EventField, _ kind: RawEvent.Kind) -> EventValidationError {
        EventValidationError(
            field: field.name, reason: .missingField, message: "required when kind is \"\(kind.rawValue)\"")
    }

    private static func isLowercaseLetter(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
