/// Decodes one raw event record (the UTF-8 JSON of a Kafka record value) into a `RawEvent`.
///
/// A single pass over the bytes, specialised to the event schema: field names are matched in place,
/// only the strings an event keeps become `String`s, and `meta` is validated and kept as its JSON text.
/// (A general JSON decoder costs about three quarters of the consumer's time budget; see design.md.)
///
/// Strict in both layers:
/// - JSON (RFC 8259): valid UTF-8, escapes and surrogate pairs; no raw control characters in strings,
///   no leading zeros, trailing commas, comments, byte order mark or bytes after the object.
/// - Schema: no unknown or duplicate fields; the right JSON type for each field (`null` is not "absent");
///   `value` and `schema_version` written as plain integers (`1.0` and `1e0` are rejected even though JSON
///   Schema would call them integers); patterns, lengths, dates, DOI.
///
/// When a record has several problems, a JSON syntax error is reported before any schema error, and
/// otherwise the first problem in document order; missing fields are reported last.
public enum RawEventDecoder {
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(EventValidationError) -> RawEvent {
        var decoder = RecordDecoder(JSONScanner(bytes))
        return try decoder.decodeRecord()
    }

    public static func decode(_ bytes: [UInt8]) throws(EventValidationError) -> RawEvent {
        try bytes.withUnsafeBytes { buffer in Result { () throws(EventValidationError) in try decode(buffer) } }.get()
    }

    public static func decode(_ text: String) throws(EventValidationError) -> RawEvent {
        try decode(Array(text.utf8))
    }
}

private struct RecordDecoder {
    var scanner: JSONScanner
    /// The first schema error found; reported once the whole record is known to be well-formed JSON.
    var firstSchemaError: EventValidationError?
    var seenFields: UInt32 = 0

    var schemaVersionIsSupported = false
    var kind: RawEvent.Kind?
    var id: String?
    var source: String?
    var work: String?
    var obj: String?
    var subj: String?
    var metric: String?
    var value: UInt64?
    var period: Period?
    var action: RawEvent.Action = .add
    var occurredAt: Timestamp?
    var observedAt: Timestamp?
    var session: String?
    var agent: String?
    var meta: String?

    init(_ scanner: JSONScanner) {
        self.scanner = scanner
    }

    mutating func decodeRecord() throws(EventValidationError) -> RawEvent {
        scanner.skipWhitespace()
        guard let first = scanner.current else { throw .syntax("empty input", at: scanner.position) }
        guard first == UInt8(ascii: "{") else {
            let start = scanner.position
            try scanner.skipValue(field: nil)
            try expectEndOfInput()
            throw EventValidationError(
                field: nil, reason: .wrongType,
                message: "expected a JSON object, got \(scanner.describeValue(from: start, to: scanner.position))")
        }
        scanner.advance()
        scanner.skipWhitespace()
        if scanner.current == UInt8(ascii: "}") {
            scanner.advance()
        } else {
            while true {
                try decodeMember()
                scanner.skipWhitespace()
                if scanner.current == UInt8(ascii: ",") {
                    scanner.advance()
                    scanner.skipWhitespace()
                    continue
                }
                try scanner.expect(UInt8(ascii: "}"), "\",\" or \"}\"")
                break
            }
        }
        try expectEndOfInput()
        if let firstSchemaError { throw firstSchemaError }
        return try assembleEvent()
    }

    private mutating func expectEndOfInput() throws(EventValidationError) {
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw .syntax("unexpected data after the JSON value", at: scanner.position) }
    }

    private mutating func decodeMember() throws(EventValidationError) {
        guard scanner.current == UInt8(ascii: "\"") else {
            throw scanner.unexpected(expecting: "a field name in double quotes")
        }
        let key = try scanner.scanString()
        scanner.skipWhitespace()
        try scanner.expect(UInt8(ascii: ":"), "\":\"")
        scanner.skipWhitespace()

        guard let field = scanner.field(named: key) else {
            if firstSchemaError == nil {
                // Cut short: the name ends up in a Kafka header and in logs.
                let name = scanner.makeString(key)
                firstSchemaError = EventValidationError(
                    field: name.unicodeScalars.count > 64 ? String(name.unicodeScalars.prefix(64)) + "…" : name,
                    reason: .unknownField, message: "unknown field (the schema allows no other fields)")
            }
            try scanner.skipValue(field: nil)
            return
        }
        let bit: UInt32 = 1 << UInt32(field.rawValue)
        if seenFields & bit != 0 {
            if firstSchemaError == nil {
                firstSchemaError = EventValidationError(
                    field: field.name, reason: .duplicateField, message: "field appears more than once")
            }
            try scanner.skipValue(field: field)
            return
        }
        seenFields |= bit
        guard firstSchemaError == nil else {
            // The record is rejected already; only its JSON syntax is still of interest.
            try scanner.skipValue(field: field)
            return
        }
        do {
            try decodeValue(of: field)
        } catch let error where error.reason == .invalidJSON || error.reason == .nestingTooDeep {
            throw error
        } catch {
            firstSchemaError = error
        }
    }

    /// Decodes the value at the cursor into `field`. Throws syntax errors and schema errors alike; the
    /// caller tells them apart. A schema error is only thrown after the whole value was scanned.
    private mutating func decodeValue(of field: EventField) throws(EventValidationError) {
        switch field {
        case .schemaVersion:
            try decodeSchemaVersion()
        case .kind:
            let token = try stringToken(for: field, expected: "one of \"event\", \"total\", \"count\"")
            if scanner.string(token, equals: "event") {
                kind = .event
            } else if scanner.string(token, equals: "total") {
                kind = .total
            } else if scanner.string(token, equals: "count") {
                kind = .count
            } else {
                throw invalidEnumValue(field, token, allowed: "\"event\", \"total\", \"count\"")
            }
        case .action:
            let token = try stringToken(for: field, expected: "\"add\" or \"delete\"")
            if scanner.string(token, equals: "add") {
                action = .add
            } else if scanner.string(token, equals: "delete") {
                action = .delete
            } else {
                throw invalidEnumValue(field, token, allowed: "\"add\", \"delete\"")
            }
        case .id:
            id = try lengthCheckedString(for: field)
        case .obj:
            obj = try lengthCheckedString(for: field)
        case .subj:
            subj = try lengthCheckedString(for: field)
        case .session:
            session = try lengthCheckedString(for: field)
        case .agent:
            agent = try lengthCheckedString(for: field)
        case .source:
            let text = scanner.makeString(try stringToken(for: field))
            try EventRules.checkSource(text)
            source = text
        case .metric:
            let text = scanner.makeString(try stringToken(for: field))
            try EventRules.checkMetric(text)
            metric = text
        case .work:
            let token = try stringToken(for: field)
            work = try EventRules.normalizeWork(scanner.makeString(token), scalarCount: token.scalarCount)
        case .period:
            period = try EventRules.period(scanner.makeString(try stringToken(for: field)))
        case .occurredAt:
            occurredAt = try EventRules.timestamp(scanner.makeString(try stringToken(for: field)), field: field)
        case .observedAt:
            observedAt = try EventRules.timestamp(scanner.makeString(try stringToken(for: field)), field: field)
        case .value:
            try decodeValueField()
        case .meta:
            try decodeMeta()
        }
    }

    private mutating func decodeSchemaVersion() throws(EventValidationError) {
        let expected = EventRules.schemaVersionDescription
        let number = try numberToken(for: .schemaVersion, expected: expected)
        guard number.isInteger else { throw wrongType(.schemaVersion, expected: expected, number) }
        guard scanner.unsignedValue(of: number, maximum: RawEvent.maximumValue) == UInt64(RawEvent.currentSchemaVersion)
        else {
            throw EventValidationError(
                field: EventField.schemaVersion.name, reason: .unsupportedSchemaVersion,
                message: "unsupported schema version \(describe(number)); this decoder reads version "
                    + "\(RawEvent.currentSchemaVersion)")
        }
        schemaVersionIsSupported = true
    }

    private mutating func decodeValueField() throws(EventValidationError) {
        let expected = EventRules.valueRangeDescription
        let number = try numberToken(for: .value, expected: expected)
        guard number.isInteger else { throw wrongType(.value, expected: expected, number) }
        guard let parsed = scanner.unsignedValue(of: number, maximum: RawEvent.maximumValue) else {
            throw EventValidationError(
                field: EventField.value.name, reason: .outOfRange,
                message: "expected \(expected), got \(describe(number))")
        }
        value = parsed
    }

    private mutating func decodeMeta() throws(EventValidationError) {
        guard scanner.current == UInt8(ascii: "{") else {
            throw try wrongTypeAfterSkipping(.meta, expected: "a JSON object")
        }
        let start = scanner.position
        try scanner.skipValue(field: .meta)
        let end = scanner.position
        try EventRules.checkMetaSize(end - start)
        meta = scanner.text(from: start, to: end)
    }

    // MARK: - Typed reads

    /// The string at the cursor; for any other JSON value, scans past it and throws `wrongType`.
    private mutating func stringToken(
        for field: EventField, expected: String = "a string"
    ) throws(EventValidationError) -> JSONScanner.StringToken {
        guard scanner.current == UInt8(ascii: "\"") else { throw try wrongTypeAfterSkipping(field, expected: expected) }
        return try scanner.scanString()
    }

    private mutating func lengthCheckedString(for field: EventField) throws(EventValidationError) -> String {
        let token = try stringToken(for: field)
        try EventRules.checkLength(of: field, scalarCount: token.scalarCount)
        return scanner.makeString(token)
    }

    /// The number at the cursor; for any other JSON value, scans past it and throws `wrongType`.
    private mutating func numberToken(
        for field: EventField, expected: String
    ) throws(EventValidationError) -> JSONScanner.NumberToken {
        guard let first = scanner.current,
            first == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first)
        else { throw try wrongTypeAfterSkipping(field, expected: expected) }
        return try scanner.scanNumber()
    }

    /// Scans past a value of the wrong JSON type (so a syntax error in it still wins) and returns the
    /// error that names its type.
    private mutating func wrongTypeAfterSkipping(
        _ field: EventField, expected: String
    ) throws(EventValidationError) -> EventValidationError {
        let start = scanner.position
        try scanner.skipValue(field: field)
        return EventValidationError(
            field: field.name, reason: .wrongType,
            message: "expected \(expected), got \(scanner.describeValue(from: start, to: scanner.position))")
    }

    private func wrongType(
        _ field: EventField, expected: String, _ number: JSONScanner.NumberToken
    ) -> EventValidationError {
        EventValidationError(
            field: field.name, reason: .wrongType, message: "expected \(expected), got \(describe(number))")
    }

    private func describe(_ number: JSONScanner.NumberToken) -> String {
        scanner.describeValue(from: number.start, to: number.end)
    }

    private func invalidEnumValue(
        _ field: EventField, _ token: JSONScanner.StringToken, allowed: String
    ) -> EventValidationError {
        EventValidationError(
            field: field.name, reason: .invalidEnumValue,
            message: "expected one of \(allowed), got \(quotedForMessage(scanner.makeString(token)))")
    }

    // MARK: - Whole-record rules

    private func assembleEvent() throws(EventValidationError) -> RawEvent {
        guard schemaVersionIsSupported else { throw EventRules.missing(.schemaVersion) }
        guard let kind else { throw EventRules.missing(.kind) }
        guard let source else { throw EventRules.missing(.source) }
        guard let work else { throw EventRules.missing(.work) }
        guard let metric else { throw EventRules.missing(.metric) }
        guard let value else { throw EventRules.missing(.value) }
        guard let observedAt else { throw EventRules.missing(.observedAt) }
        try EventRules.checkKindRequirements(
            kind: kind, hasID: id != nil, hasOccurredAt: occurredAt != nil, hasPeriod: period != nil)
        return RawEvent(
            validatedKind: kind, id: id, source: source, work: work, obj: obj, subj: subj, metric: metric,
            value: value, period: period, action: action, occurredAt: occurredAt, observedAt: observedAt,
            session: session, agent: agent, meta: meta)
    }
}
