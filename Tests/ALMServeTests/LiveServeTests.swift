import ALMTestSupport
import ALMWorkload
import ALMAggregation
@testable import ALMCollectorRuntime
import ALMServe
import AsyncHTTPClient
import DevBroker
import Foundation
import Kafka
import Testing

/// `alm serve` and `alm process` as separate processes against the dev broker, as an operator runs them.
@Suite("alm serve live against the dev broker", .serialized, .timeLimit(.minutes(5)))
struct LiveServeTests {
    @Test("a new event processed by alm process changes the API answer within 2 s; SIGTERM stops the server cleanly",
          .enabled(if: FileManager.default.isExecutableFile(atPath: almBinary.path), "needs .build/debug/alm (make test builds it)"))
    func followsMetrics() async throws {
        try await withPipelineBroker { broker in
            try await withTemporaryDirectory { dir in
                let workload = Workload(WorkloadSpec(records: 3_000, works: 200, seed: 5)).all()
                try await broker.produce(workload.map { ProducerRecord(topic: $0.topic, key: $0.key, value: $0.value) })
                let work = String(decoding: workload.first { $0.topic == "alm.raw.wikipedia" }!.key, as: UTF8.self)

                let directories = ["--state-dir", dir.appendingPathComponent("state").path,
                                   "--snapshot-dir", dir.appendingPathComponent("snapshots").path]
                let processor = broker.almProcess(["process"] + directories, group: "alm-live-test")
                processor.standardOutput = FileHandle.nullDevice
                try processor.run()
                defer { if processor.isRunning { processor.terminate() } }

                let config = dir.appendingPathComponent("alm.yaml")
                try "serve:\n  admin_key_sha256: \(AdminRoutes.digest(of: "live-key"))\n".write(to: config, atomically: true, encoding: .utf8)
                let server = try ServerProcess(broker: broker, arguments: ["serve", "--port", "0", "--config", config.path] + directories)
                defer { server.stop() }
                let client = HTTPClient.shared
                let api = try await server.baseURL()

                // The processor has joined and published the work, and the server followed it.
                var before = try await references(of: work, at: api, client: client)
                let deadline = ContinuousClock.now + .seconds(90)
                while before == nil, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                    before = try await references(of: work, at: api, client: client)
                }
                let initial = try #require(before, "the work never appeared in the API")

                let event = #"{"schema_version":1,"kind":"event","id":"live-test-1","source":"wikipedia","work":"\#(work)","#
                    + #""obj":"\#(work)","subj":"https://en.wikipedia.org/wiki/Live_test","metric":"references","value":1,"#
                    + #""action":"add","occurred_at":"2026-11-30T09:00:00Z","observed_at":"2026-11-30T09:00:01Z"}"#
                try await broker.produce([ProducerRecord(topic: "alm.raw.wikipedia", key: Array(work.utf8), value: Array(event.utf8))])
                let produced = ContinuousClock.now
                var after = initial
                while after == initial, ContinuousClock.now - produced < .seconds(20) {
                    try await Task.sleep(for: .milliseconds(25))
                    after = try await references(of: work, at: api, client: client) ?? initial
                }
                let answered = Date()
                #expect(after == initial + 1, "wikipedia references of \(work)")
                // "Processed by alm process" is when it published the work's new aggregate to alm.metrics (the
                // record's create time); from there to the API's answer is the server's part, bounded at 2 s.
                let published = try await publicationTime(of: work, references: after, broker: broker)
                let serverPart = answered.timeIntervalSince1970 - Double(published) / 1000
                print("alm serve answered \(serverPart) s after alm process published the new aggregate, "
                      + "\(ContinuousClock.now - produced) after the event was produced")
                #expect(serverPart <= 2, "the API changed \(serverPart) s after the aggregate was published")

                // Provenance: the event behind the new number, paged through as a client would.
                var subjects: [String: Bool] = [:]
                var cursor: String?
                repeat {
                    let page = try await get(api + "/api/v1/works/\(work)/events?source=wikipedia&limit=2"
                                             + (cursor.map { "&cursor=" + $0 } ?? ""), client: client)
                    for item in page["items"] as? [[String: Any]] ?? [] {
                        subjects[item["subj"] as? String ?? ""] = item["counted"] as? Bool
                    }
                    cursor = page["next_cursor"] as? String
                } while cursor != nil
                #expect(subjects["https://en.wikipedia.org/wiki/Live_test"] == true)
                #expect(subjects.values.filter { $0 }.count == after, "one counted record per reference")

                // Pipeline health follows the raw topics on its own; it reaches the new record soon after.
                let wikipediaRecords = workload.filter { $0.topic == "alm.raw.wikipedia" }.count + 1
                var wikipedia: [String: Any]?
                for _ in 0..<100 {
                    let sources = try await get(api + "/api/v1/sources", client: client)["sources"] as? [[String: Any]]
                    wikipedia = sources?.first { $0["source"] as? String == "wikipedia" }
                    if wikipedia?["records_seen"] as? Int == wikipediaRecords { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(wikipedia?["records_seen"] as? Int == wikipediaRecords)
                #expect(wikipedia?["last_event_at"] as? String != nil)

                // A collector instance reports its breaker open (as CollectCommand's publisher does).
                let board = CollectorStatusBoard()
                let metrics = CollectorMetrics(source: "wikipedia", factory: board)
                metrics.error("timeout")
                metrics.paused.record(1)
                let producer = try KafkaProducer(configuration: KafkaConfiguration(["bootstrap.servers": broker.bootstrapServers]), logger: testLogger)
                await CollectorStatusPublisher(source: "wikipedia", board: board, producer: producer, logger: testLogger, instance: "live-1").publish()
                try await producer.close()
                var breaker: String?
                for _ in 0..<100 where breaker == nil {
                    try await Task.sleep(for: .milliseconds(50))
                    let sources = try await get(api + "/api/v1/sources", client: client)["sources"] as? [[String: Any]]
                    breaker = sources?.first { $0["source"] as? String == "wikipedia" }?["breaker"] as? String
                }
                #expect(breaker == "open")

                // Admin, with the key whose digest the configuration holds: a snapshot now, and a replay as a child.
                var snapshot = HTTPClientRequest(url: api + "/admin/snapshot")
                snapshot.method = .POST
                snapshot.headers.add(name: "Authorization", value: "Bearer live-key")
                let written = try await client.execute(snapshot, timeout: .seconds(30))
                #expect(written.status == .created)
                let id = try json(try await written.body.collect(upTo: 1 << 16))["snapshot"] as? String
                let listed = try await get(api + "/api/v1/snapshots", client: client)["snapshots"] as? [[String: Any]]
                #expect(listed?.contains { $0["id"] as? String == id } == true)

                var replay = HTTPClientRequest(url: api + "/admin/replay")
                replay.method = .POST
                replay.headers.add(name: "X-API-Key", value: "live-key")
                let started = try await client.execute(replay, timeout: .seconds(30))
                #expect(started.status == .accepted)
                let job = try json(try await started.body.collect(upTo: 1 << 16))["id"] as? String ?? ""
                var outcome: [String: Any] = [:]
                let replayDeadline = ContinuousClock.now + .seconds(120)
                while outcome["status"] as? String ?? "running" == "running", ContinuousClock.now < replayDeadline {
                    try await Task.sleep(for: .milliseconds(250))
                    var poll = HTTPClientRequest(url: api + "/admin/jobs/\(job)")
                    poll.headers.add(name: "X-API-Key", value: "live-key")
                    outcome = try json(try await client.execute(poll, timeout: .seconds(10)).body.collect(upTo: 1 << 20))
                }
                #expect(outcome["status"] as? String == "succeeded", "\(outcome)")
                #expect((outcome["output"] as? String)?.contains("replayed ") == true, "\(outcome)")

                #expect(server.stop() == 0, "alm serve exits 0 on SIGTERM")
            }
        }
    }

    /// When alm process published the aggregate of `work` with `references` Wikipedia references: the
    /// create time of that alm.metrics record. Read by polling, not to the end of the partitions (the dev
    /// broker's end-of-partition can come before the last records of a batch).
    private func publicationTime(of work: String, references: Int, broker: DevBroker) async throws -> Int64 {
        let consumer = try KafkaConsumer(configuration: KafkaConfiguration([
            "bootstrap.servers": broker.bootstrapServers, "group.id": "watch-\(UUID().uuidString)", "enable.auto.commit": "false",
        ]), logger: testLogger)
        try consumer.assign((0..<12).map { TopicPartitionOffset("alm.metrics", $0, offset: TopicPartitionOffset.beginning) })
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            for record in try await consumer.poll(timeout: .milliseconds(200)).records where record.keyString == work {
                let aggregate = try WorkAggregate(jsonLine: record.value)
                if aggregate.sources["wikipedia"]?["references"] == UInt64(references) {
                    await consumer.close()
                    return record.timestampMs ?? 0
                }
            }
        }
        await consumer.close()
        throw FixtureError("no alm.metrics record of \(work) with \(references) references")
    }

    private func references(of work: String, at api: String, client: HTTPClient) async throws -> Int? {
        let body = try await get(api + "/api/v1/works/" + work, client: client)
        guard body["found"] as? Bool == true else { return nil }
        return (body["sources"] as? [String: [String: Int]])?["wikipedia"]?["references"] ?? 0
    }
}

func get(_ url: String, client: HTTPClient) async throws -> [String: Any] {
    let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 16 << 20)
    return try json(body)
}

/// `alm serve` as a child process; its first line of output names the port it listens on.
final class ServerProcess: @unchecked Sendable {  // used by one test at a time
    let process: Process
    let output: URL

    /// Against the broker, or without Kafka (`--no-kafka` among the arguments) when `broker` is nil.
    init(broker: DevBroker? = nil, arguments: [String]) throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("alm-serve-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        if let broker {
            process = broker.almProcess(arguments, group: "unused")
        } else {
            process = Process()
            process.executableURL = almBinary
            process.currentDirectoryURL = projectRoot
            process.arguments = arguments + ["--log-level", "error"]
        }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle  // its errors, if it ends early, are in the failure message
        try process.run()
    }

    func baseURL() async throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on ") {
                let url = text[range.upperBound...].prefix { !$0.isWhitespace }
                return String(url.hasSuffix("/") ? url.dropLast() : url)
            }
            guard process.isRunning else { throw FixtureError("alm serve ended: \(text)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw FixtureError("alm serve printed no address within 30 s")
    }

    /// SIGTERM, then the exit status (waits up to 20 s, then kills).
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: output)
        return process.terminationStatus
    }
}
