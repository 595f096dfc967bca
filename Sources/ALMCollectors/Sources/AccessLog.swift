import ALMCore
import Crypto
import Foundation

/// Which requests in an access log are article pages or full texts, and where their DOI is.
public struct ArticleRoute: Sendable, Equatable {
    public enum DOILocation: Sendable, Equatable {
        /// The DOI is the value of this query parameter (`/article?id=10.1371/...`); the route's `path`
        /// must be the request path or its end (`/article` also matches `/plosone/article`).
        case queryParameter(String)
        /// The DOI is the rest of the request path after the route's `path`, which may appear anywhere in
        /// it (`/doi/` matches `/journals/x/doi/10.1234/abc`). The DOI runs to the end of the path.
        case restOfPath
    }

    public var path: String
    public var doiLocation: DOILocation
    /// Query parameters the request must carry with exactly these values (`type=printable`).
    public var requiredQuery: [String: String]
    /// `views` for an article page, `downloads` for a PDF.
    public var metric: String

    public init(path: String, doiLocation: DOILocation, requiredQuery: [String: String] = [:], metric: String) {
        self.path = path
        self.doiLocation = doiLocation
        self.requiredQuery = requiredQuery
        self.metric = metric
    }

    /// PLOS's pages and PDFs (`/article?id=DOI`, `/article/file?id=DOI&type=printable`, also under a
    /// journal's path), then the `/doi/...` paths of Atypon, Wiley and many others. Tried in order.
    public static let defaults: [ArticleRoute] = [
        ArticleRoute(path: "/article/file", doiLocation: .queryParameter("id"), requiredQuery: ["type": "printable"], metric: "downloads"),
        ArticleRoute(path: "/article", doiLocation: .queryParameter("id"), metric: "views"),
        ArticleRoute(path: "/doi/pdf/", doiLocation: .restOfPath, metric: "downloads"),
        ArticleRoute(path: "/doi/pdfdirect/", doiLocation: .restOfPath, metric: "downloads"),
        ArticleRoute(path: "/doi/epdf/", doiLocation: .restOfPath, metric: "downloads"),
        ArticleRoute(path: "/doi/full/", doiLocation: .restOfPath, metric: "views"),
        ArticleRoute(path: "/doi/abs/", doiLocation: .restOfPath, metric: "views"),
        ArticleRoute(path: "/doi/", doiLocation: .restOfPath, metric: "views"),
    ]

    /// The DOI as the request spelled it, when the request is for this route.
    func doi(path requestPath: Substring, query: [(name: Substring, value: Substring)]) -> Substring? {
        for (name, value) in requiredQuery where !query.contains(where: { $0.name == name && $0.value == value }) {
            return nil
        }
        switch doiLocation {
        case .queryParameter(let name):
            guard requestPath.hasSuffix(path) else { return nil }
            return query.first { $0.name == name }?.value
        case .restOfPath:
            guard let range = requestPath.range(of: path) else { return nil }
            let rest = requestPath[range.upperBound...]
            return rest.isEmpty ? nil : rest
        }
    }
}

/// What one access log yields, with the lines that could not be read.
public struct AccessLogReading: Sendable {
    public var events: [RawEvent]
    /// Lines that are not in combined (or common) log format.
    public var malformedLineCount: Int
    /// The first of them by line number (1-based), at most `AccessLogParser.reportedMalformedLines`.
    public var malformedLineNumbers: [Int]
    /// Successful requests for an article route whose id is not a DOI (`/article?id=foo`).
    public var requestsWithInvalidDOI: Int
}

/// Web server access logs in the Apache/nginx combined format
/// (`%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`; common format, without the last two, also
/// reads). Each successful GET of an article page or PDF (see `ArticleRoute`) is one usage event:
/// - only status 200 and 304 count (COUNTER R5: successful requests; 206 byte ranges and redirects do not);
/// - `session` is a hash of client address, user agent, and the UTC date and hour of the request —
///   COUNTER R5's session for logs without a session cookie — so the processor's double-click rule applies
///   per visitor and hour;
/// - `agent` is the user agent as logged, for robot filtering (the processor drops robots, not the collector);
/// - `id` is a hash of the log's name, the line's timestamp as written, the address and the request line,
///   so reading the same log again, or overlapping chunks of it, never counts a request twice (two identical
///   requests in one second from one visitor are one id: the double-click rule would count them once anyway);
/// - `occurred_at` is the logged time in UTC.
/// The client address appears in no field. Without `secret` the hashes are plain SHA-256 and so only
/// pseudonyms: anyone who guesses a user agent and an hour could try all IPv4 addresses. Production should
/// set `secret` (HMAC-SHA-256 key), and keep it: a new secret gives every request a new id.
///
/// Malformed lines are skipped, counted and numbered in `AccessLogReading` rather than failing the log
/// (real logs carry junk: truncated lines, binary probes, another format after a configuration change).
/// A body with lines but none readable is not an access log: that is a `malformedResponse` naming line 1.
public struct AccessLogParser: ResponseParser {
    public let source = "accesslog"
    public let format = "combined"
    public static let reportedMalformedLines = 100

    public let logName: String
    public let routes: [ArticleRoute]
    private let secret: [UInt8]?

    /// `logName` stands for the host in event ids: give each server's log its own.
    public init(logName: String = "access", routes: [ArticleRoute] = ArticleRoute.defaults, secret: [UInt8]? = nil) {
        self.logName = logName
        self.routes = routes
        self.secret = secret
    }

    public func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent] {
        try read(body, context: context).events
    }

    public func read(_ body: [UInt8], context: ResponseContext) throws(CollectorError) -> AccessLogReading {
        var reading = AccessLogReading(events: [], malformedLineCount: 0, malformedLineNumbers: [], requestsWithInvalidDOI: 0)
        var readableLines = 0
        var lineNumber = 0
        var start = body.startIndex
        while start < body.endIndex {
            let end = body[start...].firstIndex(of: UInt8(ascii: "\n")) ?? body.endIndex
            lineNumber += 1
            var line = body[start..<end]
            start = end + 1
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
            guard let entry = CombinedLogLine(line) else {
                reading.malformedLineCount += 1
                if reading.malformedLineNumbers.count < Self.reportedMalformedLines { reading.malformedLineNumbers.append(lineNumber) }
                continue
            }
            readableLines += 1
            guard entry.method == "GET", entry.status == 200 || entry.status == 304,
                  let article = articleRequest(entry.target) else { continue }
            let rawDOI = String(article.doi)
            guard let work = try? DOI.normalize(rawDOI),
                  let event = try? usageEvent(entry, work: work, rawDOI: rawDOI, metric: article.metric, observedAt: context.observedAt)
            else {
                reading.requestsWithInvalidDOI += 1
                continue
            }
            reading.events.append(event)
        }
        if readableLines == 0, let first = reading.malformedLineNumbers.first {
            throw CollectorError(source: source, kind: .malformedResponse, "line \(first): not an access log line in combined format")
        }
        return reading
    }

    private func articleRequest(_ target: Substring) -> (doi: Substring, metric: String)? {
        var target = target
        // Absolute form (`GET http://host/path HTTP/1.1`), as proxies log it.
        if let scheme = target.range(of: "://"), target[..<scheme.lowerBound].allSatisfy(\.isLetter) {
            let afterHost = target[scheme.upperBound...]
            target = afterHost.firstIndex(of: "/").map { afterHost[$0...] } ?? "/"
        }
        let path: Substring, query: [(name: Substring, value: Substring)]
        if let mark = target.firstIndex(of: "?") {
            path = target[..<mark]
            query = target[target.index(after: mark)...].split(separator: "&").map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }
        } else {
            path = target
            query = []
        }
        for route in routes {
            if let doi = route.doi(path: path, query: query) { return (doi, route.metric) }
        }
        return nil
    }

    private func usageEvent(_ entry: CombinedLogLine, work: String, rawDOI: String, metric: String,
                            observedAt: Timestamp) throws(EventValidationError) -> RawEvent {
        let utc = entry.time
        let hour = String(utc.text.prefix(13))  // YYYY-MM-DDTHH
        let agent = entry.agent.map { String(String.UnicodeScalarView($0.unicodeScalars.prefix(1024))) }
        return try RawEvent(kind: .event, id: source + ":" + hash([logName, entry.timeText, entry.client, entry.request]),
                            source: source, work: work, obj: rawDOI, metric: metric, value: 1, occurredAt: utc,
                            observedAt: observedAt, session: hash([entry.client, entry.agent ?? "", hour]), agent: agent)
    }

    /// 32 hex digits of HMAC-SHA-256 (with `secret`) or SHA-256 of the parts.
    private func hash(_ parts: [String]) -> String {
        let data = Data(parts.joined(separator: "\u{1F}").utf8)
        let digest: [UInt8]
        if let secret {
            digest = Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: secret)))
        } else {
            digest = Array(SHA256.hash(data: data))
        }
        return digest.prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}

/// One line of a combined (or common) format log.
struct CombinedLogLine {
    let client: String
    /// `[10/Oct/2000:13:55:36 -0700]` as written, without brackets.
    let timeText: String
    let time: Timestamp
    /// The request line as logged (`GET /article?id=... HTTP/1.1`).
    let request: String
    let method: Substring
    let target: Substring
    let status: Int
    /// Nil when the log has no user agent or logged `-`.
    let agent: String?

    init?(_ line: ArraySlice<UInt8>) {
        var scanner = LineScanner(bytes: line)
        guard let client = scanner.token(), !client.isEmpty else { return nil }
        // %l and %u; `[` cannot appear in either.
        guard scanner.skip(past: UInt8(ascii: "[")), let timeText = scanner.text(until: UInt8(ascii: "]")),
              let time = parseLogTime(timeText) else { return nil }
        guard scanner.skipSpaces(), let request = scanner.quoted() else { return nil }
        guard scanner.skipSpaces(), let statusText = scanner.token(), statusText.count == 3, let status = Int(statusText) else { return nil }
        guard scanner.skipSpaces(), let size = scanner.token(), size == "-" || size.allSatisfy(\.isNumber) else { return nil }
        var agent: String?
        if scanner.skipSpaces(), !scanner.isAtEnd {
            guard scanner.quoted() != nil, scanner.skipSpaces(), let userAgent = scanner.quoted() else { return nil }
            agent = userAgent == "-" || userAgent.isEmpty ? nil : userAgent
        }
        self.client = client
        self.timeText = timeText
        self.time = time
        self.request = request
        let parts = request.split(separator: " ", omittingEmptySubsequences: true)
        method = parts.first ?? ""
        target = parts.count > 1 ? parts[1] : ""
        self.status = status
        self.agent = agent
    }
}

private struct LineScanner {
    let bytes: ArraySlice<UInt8>
    var position: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var isAtEnd: Bool { position >= bytes.endIndex }

    /// Skips spaces; true when at least one was there.
    mutating func skipSpaces() -> Bool {
        let before = position
        while position < bytes.endIndex, bytes[position] == UInt8(ascii: " ") { position += 1 }
        return position > before
    }

    /// The text up to the next space (or the end).
    mutating func token() -> String? {
        let begin = position
        while position < bytes.endIndex, bytes[position] != UInt8(ascii: " ") { position += 1 }
        return String(decoding: bytes[begin..<position], as: UTF8.self)
    }

    mutating func skip(past byte: UInt8) -> Bool {
        guard let found = bytes[position...].firstIndex(of: byte) else { return false }
        position = found + 1
        return true
    }

    /// The text up to `byte`, consuming it.
    mutating func text(until byte: UInt8) -> String? {
        guard let found = bytes[position...].firstIndex(of: byte) else { return nil }
        defer { position = found + 1 }
        return String(decoding: bytes[position..<found], as: UTF8.self)
    }

    /// A double-quoted field; `\"` and `\\` are unescaped, other escapes (`\x22`) kept as logged.
    mutating func quoted() -> String? {
        guard position < bytes.endIndex, bytes[position] == UInt8(ascii: "\"") else { return nil }
        var text: [UInt8] = []
        var index = position + 1
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                position = index + 1
                return String(decoding: text, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.endIndex,
               bytes[index + 1] == UInt8(ascii: "\"") || bytes[index + 1] == UInt8(ascii: "\\") {
                text.append(bytes[index + 1])
                index += 2
                continue
            }
            text.append(byte)
            index += 1
        }
        return nil
    }
}

private let logMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

/// `10/Oct/2000:13:55:36 -0700` → 2000-10-10T20:55:36Z.
func parseLogTime(_ text: String) -> Timestamp? {
    let scalars = Array(text.utf8)
    guard scalars.count == 26, scalars[2] == UInt8(ascii: "/"), scalars[6] == UInt8(ascii: "/"), scalars[11] == UInt8(ascii: ":"),
          scalars[14] == UInt8(ascii: ":"), scalars[17] == UInt8(ascii: ":"), scalars[20] == UInt8(ascii: " "),
          scalars[21] == UInt8(ascii: "+") || scalars[21] == UInt8(ascii: "-") else { return nil }
    func number(_ from: Int, _ length: Int) -> Int? {
        var value = 0
        for byte in scalars[from..<(from + length)] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
    guard let day = number(0, 2), let monthIndex = logMonths.firstIndex(of: String(decoding: scalars[3..<6], as: UTF8.self)),
          let year = number(7, 4), let hour = number(12, 2), let minute = number(15, 2), let second = number(18, 2),
          let offsetHours = number(22, 2), let offsetMinutes = number(24, 2),
          hour < 24, minute < 60, second < 60, offsetHours < 24, offsetMinutes < 60 else { return nil }
    let days = daysSinceEpoch(year: year, month: monthIndex + 1, day: day)
    let civil = civilDate(daysSinceEpoch: Int64(days))
    guard civil.year == year, civil.month == monthIndex + 1, civil.day == day else { return nil }  // no 31/Feb
    let offset = (offsetHours * 3600 + offsetMinutes * 60) * (scalars[21] == UInt8(ascii: "-") ? -1 : 1)
    let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
    return Timestamp(microsecondsSinceEpoch: seconds * 1_000_000)
}
