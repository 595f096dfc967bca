/// One dispatched Server-Sent Events frame.
public struct ServerSentEvent: Sendable, Equatable {
    /// The last event id in effect when the frame was dispatched (the stream's, not only this frame's:
    /// an `id` field persists until another replaces it). What a client sends as `Last-Event-ID` to resume.
    public var id: String?
    /// The `event` field, `message` when the frame has none.
    public var event: String
    /// The `data` fields joined by newlines.
    public var data: String

    public init(id: String?, event: String = "message", data: String) {
        self.id = id
        self.event = event
        self.data = data
    }
}

/// A Server-Sent Events (`text/event-stream`) reader, as the WHATWG HTML standard specifies it: pure, fed
/// the bytes as they arrive in chunks of any size, returning the frames they complete.
///
/// Lines end in LF, CRLF or CR (a CRLF split across chunks counts once); a line starting with `:` is a
/// comment; several `data` lines make one multi-line `data`; a frame without `data` is not dispatched but
/// its `id` still counts; an `id` containing NUL is ignored; `retry` sets `reconnectionMilliseconds`.
/// Unlike a browser, `finish()` dispatches a last frame the stream ended without its blank line: a
/// capture or a replayed file often ends that way, and its last frame is real.
public struct ServerSentEventParser: Sendable {
    /// The id to resume from: the last `id` field seen, whether or not its frame was dispatched yet.
    public private(set) var lastEventID: String?
    public private(set) var reconnectionMilliseconds: Int?

    private var line: [UInt8] = []
    private var previousWasCR = false
    private var atStreamStart = true
    private var eventType = ""
    private var dataLines: [String]?

    public init(lastEventID: String? = nil) {
        self.lastEventID = lastEventID
    }

    /// Reads `bytes`, returning the frames completed by them.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var frames: [ServerSentEvent] = []
        for byte in bytes {
            if previousWasCR {
                previousWasCR = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch byte {
            case UInt8(ascii: "\n"):
                if let frame = endLine() { frames.append(frame) }
            case UInt8(ascii: "\r"):
                previousWasCR = true
                if let frame = endLine() { frames.append(frame) }
            default:
                line.append(byte)
            }
        }
        return frames
    }

    /// Reads one complete line (without its line ending), returning the frame it completes, if any.
    public mutating func feed(line text: String) -> ServerSentEvent? {
        line.append(contentsOf: text.utf8)
        return endLine()
    }

    /// The end of the stream: the frame left open by a stream that did not end with a blank line.
    public mutating func finish() -> ServerSentEvent? {
        if !line.isEmpty { _ = endLine() }
        previousWasCR = false
        return dispatch()
    }

    /// Every frame of a whole captured stream.
    public static func frames(in bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        var frames = parser.feed(bytes)
        if let last = parser.finish() { frames.append(last) }
        return frames
    }

    private mutating func endLine() -> ServerSentEvent? {
        var text = String(decoding: line, as: UTF8.self)
        line.removeAll(keepingCapacity: true)
        if atStreamStart {
            atStreamStart = false
            if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        }
        if text.isEmpty { return dispatch() }
        if text.hasPrefix(":") { return nil }

        let field: Substring, value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            let afterColon = text[text.index(after: colon)...]
            value = afterColon.first == " " ? afterColon.dropFirst() : afterColon
        } else {
            field = text[...]
            value = ""
        }
        switch field {
        case "event": eventType = String(value)
        case "data": dataLines = (dataLines ?? []) + [String(value)]
        case "id" where !value.contains("\u{0}"): lastEventID = String(value)
        case "retry" where !value.isEmpty && value.allSatisfy({ $0.isASCII && $0.isNumber }):
            reconnectionMilliseconds = Int(value)
        default: break
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            eventType = ""
            dataLines = nil
        }
        guard let dataLines else { return nil }
        return ServerSentEvent(id: lastEventID, event: eventType.isEmpty ? "message" : eventType,
                               data: dataLines.joined(separator: "\n"))
    }
}
