import ALMAggregation
import ALMCollectorRuntime
import ALMCore
import ALMTestSupport
import DevBroker
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Kafka
import Logging
import NIOCore
import Synchronization
import Testing

/// A Jetstream post line: `rkey` of `did:plc:alm` linking each URL in a facet.
func jetstreamPost(_ rkey: String, links: [String], at time: Int64, text: String = "x") -> String {
    let facets = links.map { #"{"index":{"byteStart":0,"byteEnd":1},"features":[{"$type":"app.bsky.richtext.facet#link","uri":"\#($0)"}]}"# }
    return #"{"did":"did:plc:alm","time_us":\#(time),"kind":"commit","commit":{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"\#(rkey)","record":{"$type":"app.bsky.feed.post","createdAt":"2026-07-04T14:38:06.240Z","text":"\#(text)","facets":[\#(facets.joined(separator: ","))]},"cid":"bafy"}}"#
}

func jetstreamDelete(_ rkey: String, at time: Int64) -> String {
    #"{"did":"did:plc:alm","time_us":\#(time),"kind":"commit","commit":{"rev":"r","operation":"delete","collection":"app.bsky.feed.post","rkey":"\#(rkey)"}}"#
}

final class CursorLog: Sendable {
    let cursors = Mutex<[Int64?]>([])
}

/// A Jetstream stand-in on a free port: sends `lines` (each `(time_us, text)`) after the `cursor=` the
/// client asks for, one every `interval`, then closes; the first connection stops after
/// `firstConnectionLines`. Like a real server, it drops a client that leaves a ping unanswered for
/// `pingPeriod`.
func withJetstreamServer<T>(lines: [(Int64, String)], firstConnectionLines: Int,
                            interval: Duration = .milliseconds(2), pingPeriod: Duration = .seconds(30),
                            _ body: (_ url: String, _ cursors: @Sendable () -> [Int64?]) async throws -> T) async throws -> T {
    let log = CursorLog()
    return try await withLocalApplication({ configuration, onRunning, logger in
        Application(
            router: Router(),
            server: .http1WebSocketUpgrade(configuration: .init(ws: .init(autoPing: .enabled(timePeriod: pingPeriod)))) { request, _, _ in
                let query = request.path?.split(separator: "?").dropFirst().first.map(String.init) ?? ""
                let cursor = query.split(separator: "&").first { $0.hasPrefix("cursor=") }.flatMap { Int64($0.dropFirst(7)) }
                let first = log.cursors.withLock { cursors in
                    cursors.append(cursor)
                    return cursors.count == 1
                }
                let sending = first ? Array(lines.prefix(firstConnectionLines)) : lines.filter { $0.0 >= cursor ?? 0 }
                return .upgrade([:]) { inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        // The client's pongs reach the server's ping timer only while its inbound is read.
                        group.addTask { for try await _ in inbound {} }
                        for (_, text) in sending {
                            try await outbound.write(.text(text))
                            try await Task.sleep(for: interval)
                        }
                        group.cancelAll()
                    }
                }
            },
            configuration: configuration, onServerRunning: onRunning, logger: logger)
    }) { port in
        try await body("ws://127.0.0.1:\(port)/subscribe?wantedCollections=app.bsky.feed.post", { log.cursors.withLock { $0 } })
    }
}

@Suite("stream collectors: Bluesky Jetstream over a real WebSocket", .serialized, .timeLimit(.minutes(5)))
struct JetstreamCollectorTests {
    @Test("posts linking DOIs are counted; after a restart from the saved cursor, a post's deletion still retracts its DOIs")
    func postsDeletesAndRestart() async throws {
        let recorded = String(decoding: try Data(contentsOf: sharedDirectory.appendingPathComponent("fixtures/bluesky/jetstream-v1.jsonl")), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        let base: Int64 = 1_783_175_900_000_000  // after the recording's last time_us
        var lines: [(Int64, String)] = recorded.enumerated().map { (Int64($0.offset), $0.element) }
        lines += [
            (base, jetstreamPost("p1", links: ["https://doi.org/10.5555/alm.1", "https://doi.org/10.5555/alm.2"], at: base)),
            (base + 1_000_000, jetstreamPost("p2", links: ["https://journals.plos.org/plosone/article?id=10.5555/alm.3"], at: base + 1_000_000)),
            (base + 20_000_000, jetstreamDelete("p1", at: base + 20_000_000)),
        ]
        try await withPipelineBroker { broker in
            try await withJetstreamServer(lines: lines, firstConnectionLines: recorded.count + 2) { url, cursors in
                try await withTemporaryDirectory { state in
                    var settings = JetstreamCollectorSettings(kafka: KafkaConfiguration(["bootstrap.servers": broker.bootstrapServers]),
                                                              declarations: declarations, stateDirectory: state)
                    settings.url = url
                    settings.stopAtEnd = true
                    let first = try await JetstreamCollector(settings: settings, logger: testLogger).run()
                    #expect(first.frames == recorded.count + 2 && first.events == 3 && first.malformedFrames == 0)
                    // A new process: the memory and cursor come from the state directory.
                    let second = try await JetstreamCollector(settings: settings, logger: testLogger).run()
                    #expect(cursors() == [nil, base + 1_000_000 - settings.rewindMicroseconds], "resumed 5 s before the last post seen")
                    #expect(second.events == 5, "p1 and p2 again (the rewind; same ids) and the two retractions of p1")

                    let events = decoded(try await broker.readAll(topic: "alm.raw.bluesky"))
                    let engine = PartitionEngine(rules: AggregationRules())
                    events.forEach { engine.apply($0) }
                    let counts = Dictionary(uniqueKeysWithValues: engine.allAggregates().map { ($0.work, $0.sources["bluesky"]?["discusses"] ?? 0) })
                    #expect(counts == ["10.5555/alm.1": 0, "10.5555/alm.2": 0, "10.5555/alm.3": 1])
                }
            }
        }
    }

    @Test("a broker frozen while posts stream in holds up neither the reading nor the cursor: all frames are read, then delivered in order")
    func frozenBrokerDoesNotStallTheReader() async throws {
        let recorded = String(decoding: try Data(contentsOf: sharedDirectory.appendingPathComponent("fixtures/bluesky/jetstream-v1.jsonl")), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        let base: Int64 = 1_783_175_900_000_000
        let lines: [(Int64, String)] = [(0, jetstreamPost("p0", links: ["https://doi.org/10.5555/alm.0"], at: 1_783_175_800_000_000))]
            + recorded.enumerated().map { (Int64($0.offset + 1), $0.element) }
            + [(base, jetstreamPost("p1", links: ["https://doi.org/10.5555/alm.1", "https://doi.org/10.5555/alm.2"], at: base)),
               (base + 1_000_000, jetstreamPost("p2", links: ["https://doi.org/10.5555/alm.3"], at: base + 1_000_000))]
        try await withPipelineBroker { broker in
            // The server sends for about three seconds and drops a client that leaves a ping unanswered
            // for a second, as a real one drops a reader that falls behind; the broker stays frozen for ten.
            try await withJetstreamServer(lines: lines, firstConnectionLines: lines.count,
                                          interval: .milliseconds(20), pingPeriod: .seconds(1)) { url, cursors in
                try await withTemporaryDirectory { state in
                    var settings = JetstreamCollectorSettings(kafka: KafkaConfiguration(["bootstrap.servers": broker.bootstrapServers]),
                                                              declarations: declarations, stateDirectory: state)
                    settings.url = url
                    settings.stopAtEnd = true
                    settings.batchSeconds = 0
                    broker.pause()
                    let thaw = Task {
                        try await Task.sleep(for: .seconds(10))
                        broker.resume()
                    }
                    let first: StreamCollectorSummary
                    do {
                        first = try await JetstreamCollector(settings: settings, logger: testLogger).run()
                    } catch {
                        broker.resume()
                        throw error
                    }
                    try await thaw.value
                    #expect(first.frames == lines.count && first.events == 4 && first.malformedFrames == 0 && first.connections == 1)
                    let works = decoded(try await broker.readAll(topic: "alm.raw.bluesky")).map(\.work).sorted()
                    #expect(works == ["10.5555/alm.0", "10.5555/alm.1", "10.5555/alm.2", "10.5555/alm.3"])

                    _ = try await JetstreamCollector(settings: settings, logger: testLogger).run()
                    #expect(cursors() == [nil, base + 1_000_000 - settings.rewindMicroseconds], "the cursor saved is the last post's")
                }
            }
        }
    }
}
