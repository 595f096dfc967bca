import ALMCore
import Foundation

/// A JSON value as parsed, keeping integers apart from other numbers and booleans apart from numbers.
indirect enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsignedInteger(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .unsignedInteger(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    var number: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .unsignedInteger(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }
}

/// Checks instances against the subset of JSON Schema (2020-12) that shared/spec/snapshot-record.schema.json
/// uses: `type`, `required`, `properties`, `additionalProperties`, `minimum` and `format: date-time`.
/// A schema using any other keyword is refused, so the schema cannot grow a rule this validator would
/// silently skip.
struct SchemaValidator {
    static let supportedKeywords: Set<String> = [
        "$schema", "$id", "title", "description",  // annotations
        "type", "required", "properties", "additionalProperties", "minimum", "format",
    ]

    struct UnsupportedSchema: Error, CustomStringConvertible {
        let description: String
    }

    let schema: JSONValue

    init(schema bytes: [UInt8]) throws {
        schema = try JSONValue.parse(bytes)
        try Self.checkKeywords(schema, at: "#")
    }

    private static func checkKeywords(_ schema: JSONValue, at path: String) throws {
        guard case .object(let keywords) = schema else {
            if case .bool = schema { return }
            throw UnsupportedSchema(description: "\(path): a schema must be an object or a boolean")
        }
        for (keyword, value) in keywords {
            guard supportedKeywords.contains(keyword) else {
                throw UnsupportedSchema(description: "\(path): keyword \(keyword) is not supported by this validator")
            }
            switch keyword {
            case "properties":
                guard case .object(let properties) = value else {
                    throw UnsupportedSchema(description: "\(path)/properties must be an object")
                }
                for (name, subschema) in properties { try checkKeywords(subschema, at: "\(path)/properties/\(name)") }
            case "additionalProperties":
                try checkKeywords(value, at: "\(path)/additionalProperties")
            case "format":
                guard value == .string("date-time") else {
                    throw UnsupportedSchema(description: "\(path): format \(value) is not supported")
                }
            default:
                break
            }
        }
    }

    /// What is wrong with `instance`; empty when it is valid.
    func errors(_ instance: JSONValue) -> [String] {
        var errors: [String] = []
        validate(instance, against: schema, at: "$", into: &errors)
        return errors
    }

    private func validate(_ instance: JSONValue, against schema: JSONValue, at path: String, into errors: inout [String]) {
        if case .bool(let allowed) = schema {
            if !allowed { errors.append("\(path): not allowed") }
            return
        }
        guard case .object(let keywords) = schema else { return }

        if let type = keywords["type"] {
            let names: [String]
            switch type {
            case .string(let name): names = [name]
            case .array(let values): names = values.compactMap { if case .string(let name) = $0 { name } else { nil } }
            default: names = []
            }
            if !names.contains(where: { Self.instance(instance, hasType: $0) }) {
                errors.append("\(path): expected \(names.joined(separator: " or ")), got \(instance)")
                return
            }
        }
        if case .array(let required) = keywords["required"], case .object(let members) = instance {
            for case .string(let name) in required where members[name] == nil {
                errors.append("\(path): missing required key \(name)")
            }
        }
        if case .object(let members) = instance {
            var properties: [String: JSONValue] = [:]
            if case .object(let declared) = keywords["properties"] { properties = declared }
            for (name, value) in members.sorted(by: { $0.key < $1.key }) {
                if let subschema = properties[name] {
                    validate(value, against: subschema, at: "\(path).\(name)", into: &errors)
                } else if let additional = keywords["additionalProperties"] {
                    validate(value, against: additional, at: "\(path).\(name)", into: &errors)
                }
            }
        }
        if let minimum = keywords["minimum"]?.number, let value = instance.number, value < minimum {
            errors.append("\(path): \(value) is below the minimum \(minimum)")
        }
        if keywords["format"] == .string("date-time"), case .string(let text) = instance {
            do {
                _ = try Timestamp(parsing: text)
            } catch {
                errors.append("\(path): \(text) is not an RFC 3339 date-time: \(error)")
            }
        }
    }

    private static func instance(_ instance: JSONValue, hasType type: String) -> Bool {
        switch (type, instance) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null): true
        case ("integer", .integer), ("integer", .unsignedInteger): true
        case ("integer", .double(let value)): value.rounded() == value
        case ("number", .integer), ("number", .unsignedInteger), ("number", .double): true
        default: false
        }
    }
}
