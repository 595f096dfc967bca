import ALMCore
import ALMProcessor
import ALMTestSupport
import ALMWorkload
import DevBroker
import Foundation
import Kafka
import Synchronization
import Testing

/// The broker stops answering (SIGSTOP) for a minute in the middle of collecting and processing, then
/// comes back: `alm collect accesslog --follow` and the processor ride it out with no manual step; every
/// log line reaches its topic and the processor ends with exact numbers.
@Suite("a frozen broker", .serialized, .timeLimit(.minutes(5)))
struct BrokerFreezeTests {
    @Test("broker frozen for 60 s while a collector follows a growing log and the processor runs: both complete by themselves, every line arrives, the numbers are exact",
          .enabled(if: FileManager.default.isExecutableFile(atPath: almBinary.path), "needs .build/debug/alm (make test builds it)"))
    func frozenBroker() async throws {
        try await withPipelineBroker { broker in
            try await withTemporaryDirectory { dir in
                let first = Workload(WorkloadSpec(records: 20_000, works: 600, seed: 51)).all()
                try await broker.produce(first.map { ProducerRecord(topic: $0.topic, key: $0.key, value: $0.value) })

                // The collector: follows a web server's log that grows all through the test.
                let log = dir.appendingPathComponent("access.log")
                FileManager.default.createFile(atPath: log.path, contents: nil)
                let writer = LogWriter(log)
                let collectorOutput = dir.appendingPathComponent("collector.out")
                FileManager.default.createFile(atPath: collectorOutput.path, contents: nil)
                let collector = broker.almProcess(["collect", "accesslog", "--file", log.path, "--follow",
                                                   "--state-dir", dir.appendingPathComponent("collector").path])
                let output = try FileHandle(forWritingTo: collectorOutput)
                collector.standardOutput = output
                collector.standardError = output
                try collector.run()
                defer { if collector.isRunning { kill(collector.processIdentifier, SIGKILL) } }
                let writing = Task {
                    while !Task.isCancelled {
                        try writer.append(lines: 20)
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }

                let stop = Atomic<Bool>(false)
                let state = dir.appendingPathComponent("state")
                let processor = Processor(settings: broker.processorSettings(state: state, group: "alm-freeze-test"), logger: testLogger)
                let run = Task { try await processor.run { stop.load(ordering: .relaxed) } }

                // Frozen while both are at work (the processor joined and part of the way through).
                while !processor.isReady { try await Task.sleep(for: .milliseconds(50)) }
                try await Task.sleep(for: .milliseconds(300))
                let linesBeforeFreeze = writer.written
                broker.pause()
                try await Task.sleep(for: .seconds(60))
                broker.resume()
                let linesDuringFreeze = writer.written - linesBeforeFreeze

                // More input after the freeze; then the log stops growing.
                let second = Workload(WorkloadSpec(records: 5_000, works: 600, seed: 52)).all()
                try await broker.produce(second.map { ProducerRecord(topic: $0.topic, key: $0.key, value: $0.value) })
                try await Task.sleep(for: .seconds(2))
                writing.cancel()
                _ = await writing.result
                let lines = writer.written

                // Every line reaches alm.raw.accesslog, with no manual step.
                var ids: Set<String> = []
                let deadline = ContinuousClock.now + .seconds(120)
                while ids.count < lines, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(500))
                    ids = Set(try await broker.readAll(topic: "alm.raw.accesslog", partitions: 12)
                        .compactMap { try? RawEventDecoder.decode($0.value) }
                        .filter { $0.work.hasPrefix(LogWriter.prefix) }.compactMap(\.id))
                }
                #expect(ids.count == lines, "\(ids.count) of \(lines) log lines in alm.raw.accesslog (\(linesDuringFreeze) written during the freeze)")
                #expect(linesDuringFreeze >= 200, "the log grew while the broker was frozen (\(linesDuringFreeze) lines)")
                collector.terminate()
                #expect(await collector.exitStatus() == 0, "the collector is still healthy: SIGTERM is a clean stop")
                let collectorText = try String(contentsOf: collectorOutput, encoding: .utf8)
                #expect(collectorText.contains("\(lines) usage events produced"), "\(collectorText)")

                // The processor reaches the numbers of everything in the topics, the log's events included.
                let expected = try await broker.expected().text
                var reached = false
                let processed = ContinuousClock.now + .seconds(120)
                while !reached, ContinuousClock.now < processed {
                    try await Task.sleep(for: .milliseconds(500))
                    reached = (try? snapshotText(state)) == expected
                }
                stop.store(true, ordering: .relaxed)
                _ = try await run.value
                #expect(reached, "the state never reached the numbers of the topics")
                #expect(try snapshotText(state) == expected)
                #expect(expected.contains(LogWriter.prefix), "the log's works are among the numbers")
            }
        }
    }
}

/// Appends combined-format lines, each a distinct request (its own second or visitor) for one of 50
/// works, to a log file.
private final class LogWriter: Sendable {
    static let prefix = "10.5555/freeze."
    private let url: URL
    private let count = Atomic<Int>(0)
    private let start = Int(Date().timeIntervalSince1970) - 3600

    init(_ url: URL) { self.url = url }

    var written: Int { count.load(ordering: .relaxed) }

    func append(lines: Int) throws {
        let first = written
        var text = ""
        for index in first..<(first + lines) {
            let time = Date(timeIntervalSince1970: TimeInterval(start + index / 7))
            text += "192.0.2.\(index % 7 + 1) - - [\(Self.format(time))] \"GET /doi/\(Self.prefix)\(index % 50) HTTP/1.1\" 200 512 \"-\" "
                + "\"Mozilla/5.0 Firefox/133.0\"\n"
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
        count.store(first + lines, ordering: .relaxed)
    }

    private static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "dd/MMM/yyyy:HH:mm:ss Z"
        return formatter.string(from: date)
    }
}
