/// The canonical JSON of a raw event: compact, keys in the schema's order (schema_version, kind, id,
/// source, work, obj, subj, metric, value, period, action, occurred_at, observed_at, session, agent,
/// meta), absent optional fields omitted, `action` always written, timestamps and `meta` exactly as
/// they were given. Strings escape only what JSON requires: `"`, `\` and control characters.
///
/// `RawEventDecoder.decode(event.encodedJSON()) == event` for every event.
extension RawEvent {
    public func encodedJSON() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(estimatedEncodedSize)
        encodeJSON(into: &output)
        return output
    }

    public func encodedJSONString() -> String {
        String(decoding: encodedJSON(), as: UTF8.self)
    }

    /// Appends the event's JSON to `output` (for building a batch in one buffer).
    public func encodeJSON(into output: inout [UInt8]) {
        output.append(contentsOf: #"{"schema_version":"#.utf8)
        JSONOutput.appendDecimal(UInt64(schemaVersion), to: &output)
        output.append(contentsOf: #","kind":""#.utf8)
        output.append(contentsOf: kind.rawValue.utf8)
        output.append(UInt8(ascii: "\""))
        appendStringMember("id", id, to: &output)
        appendStringMember("source", source, to: &output)
        appendStringMember("work", work, to: &output)
        appendStringMember("obj", obj, to: &output)
        appendStringMember("subj", subj, to: &output)
        appendStringMember("metric", metric, to: &output)
        output.append(contentsOf: #","value":"#.utf8)
        JSONOutput.appendDecimal(value, to: &output)
        appendStringMember("period", period?.text, to: &output)
        appendStringMember("action", action.rawValue, to: &output)
        appendStringMember("occurred_at", occurredAt?.text, to: &output)
        appendStringMember("observed_at", observedAt.text, to: &output)
        appendStringMember("session", session, to: &output)
        appendStringMember("agent", agent, to: &output)
        if let meta {
            output.append(contentsOf: #","meta":"#.utf8)
            output.append(contentsOf: meta.utf8)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// Room for the keys and fixed-width values plus the variable strings (escapes may need more).
    private var estimatedEncodedSize: Int {
        func length(_ text: String?) -> Int { text?.utf8.count ?? 0 }
        return 256 + source.utf8.count + work.utf8.count + metric.utf8.count + length(id) + length(obj)
            + length(subj) + length(session) + length(agent) + length(meta)
    }
}

private func appendStringMember(_ key: StaticString, _ value: String?, to output: inout [UInt8]) {
    guard let value else { return }
    output.append(contentsOf: #",""#.utf8)
    output.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
    output.append(contentsOf: #"":"#.utf8)
    JSONOutput.appendString(value, to: &output)
}

