import ALMCollectorRuntime
import ALMCollectors
import ALMCore
import ALMTestSupport
import DevBroker
import Foundation
import Kafka
import Synchronization
import Testing

func logLine(_ second: Int, _ target: String, status: Int = 200, ip: String = "192.0.2.7") -> String {
    "\(ip) - - [10/Oct/2026:13:55:\(String(format: "%02d", second)) +0000] \"GET \(target) HTTP/1.1\" \(status) 512 \"-\" \"Mozilla/5.0 Firefox/133.0\"\n"
}

final class StopFlag: Sendable {
    let flag = Mutex(false)
    var isSet: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}

@Suite("access logs: read, resumed, followed across rotation", .serialized, .timeLimit(.minutes(5)))
struct LogFileCollectorTests {
    @Test("complete lines only, resumed where it stopped, a rotated log read to its end and the new one from its start")
    func resumeAndRotate() async throws {
        try await withPipelineBroker { broker in
            try await withTemporaryDirectory { dir in
                let log = dir.appendingPathComponent("access.log")
                func append(_ text: String) throws {
                    let handle = try FileHandle(forWritingTo: log)
                    try handle.seekToEnd()
                    try handle.write(contentsOf: Data(text.utf8))
                    try handle.close()
                }
                try Data((logLine(1, "/article?id=10.1371/journal.pone.0008776")
                    + logLine(2, "/article/file?id=10.1371/journal.pone.0008776&type=printable")
                    + logLine(3, "/article?id=10.1371/journal.pone.0000001", status: 404)).utf8).write(to: log)
                var settings = LogFileCollectorSettings(path: log.path, parser: AccessLogParser(logName: "www"),
                                                        kafka: KafkaConfiguration(["bootstrap.servers": broker.bootstrapServers]),
                                                        declarations: declarations, stateDirectory: dir.appendingPathComponent("state"))
                settings.pollSeconds = 0.05
                func run() async throws -> LogFileCollectorSummary { try await LogFileCollector(settings: settings, logger: testLogger).run() }

                #expect(try await run().events == 2, "the 404 does not count")
                try append(logLine(4, "/article?id=10.1371/journal.pone.0000001") + "junk that is not a log line\n"
                    + String(logLine(5, "/article?id=10.1371/journal.pone.0000002").dropLast(20)))
                let second = try await run()
                #expect(second.events == 1 && second.malformedLines == 1, "only the new complete lines")
                try append(String(logLine(5, "/article?id=10.1371/journal.pone.0000002").suffix(20)))
                #expect(try await run().events == 1, "the line finished since")

                // Follow: the log is rotated while the collector runs.
                settings.follow = true
                let stop = StopFlag()
                let following = Task { try await LogFileCollector(settings: settings, logger: testLogger).run { stop.isSet } }
                try await Task.sleep(for: .milliseconds(500))
                try append(logLine(6, "/article?id=10.1371/journal.pone.0000003"))
                try FileManager.default.moveItem(at: log, to: dir.appendingPathComponent("access.log.1"))
                try Data((logLine(7, "/article?id=10.1371/journal.pone.0000004") + logLine(8, "/article?id=10.1371/journal.pone.0000005")).utf8)
                    .write(to: log)
                try await Task.sleep(for: .milliseconds(1500))
                stop.set()
                let followed = try await following.value
                #expect(followed.events == 3 && followed.rotations == 1, "line 6 from the old file, 7 and 8 from the new one")

                let events = decoded(try await broker.readAll(topic: "alm.raw.accesslog"))
                #expect(events.count == 7)
                #expect(Set(events.compactMap(\.id)).count == 7)
                #expect(events.allSatisfy { $0.session != nil && $0.agent == "Mozilla/5.0 Firefox/133.0" })
            }
        }
    }
}
