@testable import ALMCollectors
import ALMCore
import Testing

private let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0"
private let googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

/// One line per case; the comment is the line number the parser reports.
private let log = [
    #"192.0.2.10 - - [02/Mar/2026:10:00:00 +0000] "GET /article?id=10.1371/journal.pone.0000001 HTTP/1.1" 200 5123 "https://www.google.com/" "\#(firefox)""#,  // 1 page
    #"192.0.2.10 - - [02/Mar/2026:10:00:20 +0000] "GET /article/file?id=10.1371/journal.pone.0000001&type=printable HTTP/1.1" 200 812345 "https://journals.plos.org/" "\#(firefox)""#,  // 2 PDF
    #"192.0.2.10 - - [02/Mar/2026:10:01:00 +0000] "GET /article?id=10.1371/journal.pone.0000404 HTTP/1.1" 404 210 "-" "\#(firefox)""#,  // 3 not found
    #"198.51.100.7 - alice [02/Mar/2026:11:15:00 +0000] "GET /plosone/article?id=10.1371%2Fjournal.pone.0000002 HTTP/1.1" 304 0 "-" "Safari/605.1.15""#,  // 4 not modified, encoded DOI
    #"203.0.113.5 - - [02/Mar/2026:11:16:00 +0000] "GET /article?id=10.1371/journal.pone.0000001 HTTP/1.1" 200 5123 "-" "\#(googlebot)""#,  // 5 robot
    #"2001:db8::1 - - [02/Mar/2026:11:17:00 +0000] "GET /doi/pdf/10.1234/ABC.5 HTTP/2.0" 200 99 "-" "curl/8.5.0""#,  // 6 IPv6
    #"192.0.2.44 - - [01/Mar/2026:23:30:00 -0700] "GET /doi/10.1234/abc.5 HTTP/1.1" 200 4000 "-" "\#(firefox)""#,  // 7 UTC−7
    #"192.0.2.10 - - [02/Mar/2026:12:05:00 +0000] "GET /article?id=10.1371/journal.pone.0000001 HTTP/1.1" 200 5123 "-" "\#(firefox)""#,  // 8 two hours later
    "this is not a log line",  // 9 junk
    #"192.0.2.10 - - [02/Mar/2026:10:00:01 +0000] "GET /static/site.css HTTP/1.1" 200 100 "-" "\#(firefox)""#,  // 10 not an article
    #"192.0.2.10 - - [02/Mar/2026:10:00:02 +0000] "HEAD /article?id=10.1371/journal.pone.0000001 HTTP/1.1" 200 0 "-" "\#(firefox)""#,  // 11 HEAD
    #"192.0.2.10 - - [02/Mar/2026:10:00:03 +0000] "GET /article?id=foo HTTP/1.1" 200 100 "-" "\#(firefox)""#,  // 12 not a DOI
    "",  // 13 blank
    #"192.0.2.10 - - [02/Mar/2026:10:00:04 +0000] "GET /doi/pdf/10.1234/abc.5 HTTP/1.1" 206 4096 "-" "\#(firefox)""#,  // 14 byte range
    #"192.0.2.99 - - [31/Feb/2026:10:00:00 +0000] "GET /doi/10.1234/abc.5 HTTP/1.1" 200 1 "-" "x""#,  // 15 no such date
].joined(separator: "\n") + "\n"

private func read(_ text: String, parser: AccessLogParser = AccessLogParser()) throws -> AccessLogReading {
    try parser.read(Array(text.utf8), context: context(nil))
}

@Suite("collectors: web access logs (combined format)")
struct AccessLogTests {
    @Test("7 usage events: pages are views, PDFs downloads; 404, 206, HEAD and other paths are skipped")
    func requests() throws {
        let events = try read(log).events
        #expect(events.count == 7)
        #expect(events.map(\.metric) == ["views", "downloads", "views", "views", "downloads", "views", "views"])
        #expect(events.map(\.work) == ["10.1371/journal.pone.0000001", "10.1371/journal.pone.0000001", "10.1371/journal.pone.0000002",
                                       "10.1371/journal.pone.0000001", "10.1234/abc.5", "10.1234/abc.5", "10.1371/journal.pone.0000001"])
        #expect(events.allSatisfy { $0.kind == .event && $0.source == "accesslog" && $0.value == 1 && $0.observedAt == observed })
        #expect(!events.contains { $0.work.hasSuffix("0000404") }, "404 ignored")
    }

    @Test("304 counts; a URL-encoded DOI is decoded for work and kept as given in obj")
    func notModifiedAndEncoded() throws {
        let event = try #require(try read(log).events.first { $0.work == "10.1371/journal.pone.0000002" })
        #expect(event.obj == "10.1371%2Fjournal.pone.0000002")
        #expect(event.occurredAt?.text == "2026-03-02T11:15:00Z")
    }

    @Test("times are converted to UTC: 01/Mar/2026:23:30:00 -0700 is 2026-03-02T06:30:00Z")
    func timezone() throws {
        let events = try read(log).events
        #expect(events[5].occurredAt?.text == "2026-03-02T06:30:00Z")
        #expect(parseLogTime("10/Oct/2000:13:55:36 -0700")?.text == "2000-10-10T20:55:36Z")
        #expect(parseLogTime("01/Jan/2026:00:30:00 +0530")?.text == "2025-12-31T19:00:00Z")
        #expect(parseLogTime("10/Oct/2000:24:00:00 +0000") == nil)
    }

    @Test("robots are kept with their agent (the processor filters them); user agents are the agent field")
    func robots() throws {
        let events = try read(log).events
        #expect(events[3].agent == googlebot)
        #expect(events[0].agent == firefox)
        #expect(events[4].agent == "curl/8.5.0", "the IPv6 client's request")
    }

    @Test("sessions: one visitor within an hour shares one; two hours later is another; other visitors differ")
    func sessions() throws {
        let events = try read(log).events
        let sessions = events.map { $0.session ?? "" }
        #expect(sessions.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
        #expect(sessions[0] == sessions[1], "page and PDF at 10:00 and 10:00:20")
        #expect(sessions[0] != sessions[6], "the same visitor at 12:05")
        #expect(Set(sessions).count == 6)
    }

    @Test("no field carries the client address")
    func noAddresses() throws {
        for event in try read(log).events {
            let fields = [event.id, event.session, event.agent, event.obj, event.subj, event.meta].compactMap { $0 }
            for address in ["192.0.2.10", "198.51.100.7", "203.0.113.5", "2001:db8::1", "192.0.2.44"] {
                #expect(!fields.contains { $0.contains(address) })
            }
        }
    }

    @Test("ids are stable: reading again, or a line alone, gives the same ids; another log name or secret gives others")
    func stableIDs() throws {
        let events = try read(log).events
        let ids = events.compactMap(\.id)
        #expect(Set(ids).count == 7)
        #expect(ids.allSatisfy { $0.hasPrefix("accesslog:") && $0.count == "accesslog:".count + 32 })
        #expect(try read(log).events.compactMap(\.id) == ids)
        let firstLine = String(log.prefix { $0 != "\n" })
        #expect(try read(firstLine).events.map(\.id) == [ids[0]])
        #expect(try read(firstLine, parser: AccessLogParser(logName: "web-2")).events[0].id != ids[0])
        let salted = try read(firstLine, parser: AccessLogParser(secret: Array("s3cret".utf8))).events[0]
        #expect(salted.id != ids[0] && salted.session != events[0].session)
    }

    @Test("junk lines are skipped and reported by number; an article id that is not a DOI is counted")
    func junk() throws {
        let reading = try read(log)
        #expect(reading.malformedLineCount == 2)
        #expect(reading.malformedLineNumbers == [9, 15])
        #expect(reading.requestsWithInvalidDOI == 1)
    }

    @Test("a body with no readable line is not an access log; an empty one has no events")
    func notALog() throws {
        let error = parseError(AccessLogParser(), #"{"not":"a log"}"# + "\nnor this\n", work: nil)
        #expect(error?.kind == .malformedResponse)
        #expect(error?.message.contains("line 1") == true)
        #expect(try read("").events.isEmpty)
        #expect(try read("\n\n").malformedLineCount == 0)
    }

    @Test("common log format (no referer or agent), escaped quotes, absolute targets and custom routes")
    func variants() throws {
        let common = #"192.0.2.1 - - [02/Mar/2026:10:00:00 +0000] "GET /article?id=10.1371/journal.pone.0000001 HTTP/1.0" 200 10"#
        let commonEvent = try #require(try read(common).events.first)
        #expect(commonEvent.agent == nil && commonEvent.session?.count == 32)
        let quoted = #"192.0.2.1 - - [02/Mar/2026:10:00:00 +0000] "GET http://journals.plos.org/article?id=10.1371/journal.pone.0000001 HTTP/1.1" 200 10 "-" "Agent \"quoted\" 1.0""#
        #expect(try read(quoted).events.first?.agent == #"Agent "quoted" 1.0"#)
        let routes = [ArticleRoute(path: "/articles/", doiLocation: .restOfPath, metric: "views")]
        let custom = #"192.0.2.1 - - [02/Mar/2026:10:00:00 +0000] "GET /articles/10.5555/XYZ.1 HTTP/1.1" 200 10 "-" "a""#
        #expect(try read(custom, parser: AccessLogParser(routes: routes)).events.map(\.work) == ["10.5555/xyz.1"])
        #expect(try read(custom).events.isEmpty, "not a default route")
    }
}
