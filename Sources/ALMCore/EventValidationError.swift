/// Why a raw event record was rejected.
///
/// `field` names the JSON field at fault (`"value"`, `"work"`, ...) and is `nil` for errors that
/// belong to no field (malformed JSON, a top level that is not an object). `code` is short and
/// stable, meant for the `alm.dlq` reason header; `description` is the human message, e.g.
/// `value: expected an integer between 0 and 9007199254740991, got -3`.
public struct EventValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// Not well-formed JSON: syntax, invalid UTF-8, bad escapes, trailing bytes.
        case invalidJSON = "invalid_json"
        /// A JSON object nested deeper than the decoder allows.
        case nestingTooDeep = "nesting_too_deep"
        case missingField = "missing_field"
        case unknownField = "unknown_field"
        case duplicateField = "duplicate_field"
        /// The JSON type is wrong: a string where an integer belongs, `1.5` for an integer, ...
        case wrongType = "wrong_type"
        /// A string that is not one of the allowed values (`kind`, `action`).
        case invalidEnumValue = "invalid_enum_value"
        case unsupportedSchemaVersion = "unsupported_schema_version"
        case outOfRange = "out_of_range"
        case tooShort = "too_short"
        case tooLong = "too_long"
        /// `source` or `metric` does not match its pattern.
        case badPattern = "bad_pattern"
        case invalidDOI = "invalid_doi"
        case invalidTimestamp = "invalid_timestamp"
        case invalidPeriod = "invalid_period"

        /// The stable code, e.g. `missing_field`.
        public var code: String { rawValue }
    }

    public let field: String?
    public let reason: Reason
    /// What is wrong, without the field name.
    public let message: String
    /// Where in the record a syntax error was found (bytes from the start), when known.
    public let byteOffset: Int?

    public init(field: String?, reason: Reason, message: String, byteOffset: Int? = nil) {
        self.field = field
        self.reason = reason
        self.message = message
        self.byteOffset = byteOffset
    }

    public var code: String { reason.code }

    public var description: String {
        if let field { return "\(field): \(message)" }
        return message
    }

    static func syntax(_ message: String, at offset: Int) -> EventValidationError {
        EventValidationError(
            field: nil, reason: .invalidJSON, message: "invalid JSON at byte \(offset): \(message)",
            byteOffset: offset)
    }
}

/// Shows an offending value inside an error message: quoted, with control characters escaped and
/// cut short, so a hostile record cannot flood a log line or a Kafka header.
func quotedForMessage(_ value: String, limit: Int = 80) -> String {
    var result = "\""
    var count = 0
    for scalar in value.unicodeScalars {
        if count == limit {
            result += "…"
            break
        }
        count += 1
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "\""
}
