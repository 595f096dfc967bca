import ALMRuntime
import DevBroker
import Foundation
import Kafka
import Logging

/// Helpers shared by the integration test targets: the repository, a scratch directory, a dev broker
/// with the project's topics, and reading a topic back.
public let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
public let declarations = try! TopicDeclarations.load(file: projectRoot.appendingPathComponent("topics.yaml"))

/// `../shared` beside the repository, or `ALM_SHARED`.
public let sharedDirectory: URL = {
    if let path = ProcessInfo.processInfo.environment["ALM_SHARED"] { return URL(fileURLWithPath: path) }
    return projectRoot.deletingLastPathComponent().appendingPathComponent("shared")
}()

public let testLogger: Logger = {
    var logger = Logger(label: "alm.test")
    logger.logLevel = ProcessInfo.processInfo.environment["ALM_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}()

/// A scratch directory removed at the end of the test.
public func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("alm-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

/// A dev broker with every declared topic applied.
public func withPipelineBroker<T>(_ name: String = #function, _ body: (DevBroker) async throws -> T) async throws -> T {
    try await DevBroker.withTemporary(projectRoot: projectRoot, name: name) { broker in
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(["bootstrap.servers": broker.bootstrapServers]), logger: testLogger)
        _ = try await TopicApplier(admin: admin, logger: testLogger).apply(declarations)
        await admin.close()
        return try await body(broker)
    }
}

extension DevBroker {
    /// Every record of a topic, read directly from the beginning to its end.
    public func readAll(topic: String, partitions: Int32 = 12) async throws -> [ConsumerRecord] {
        try await readAll((0..<partitions).map { TopicPartition(topic, $0) })
    }

    public func readAll(_ all: [TopicPartition]) async throws -> [ConsumerRecord] {
        let consumer = try KafkaConsumer(
            configuration: KafkaConfiguration(["bootstrap.servers": bootstrapServers, "group.id": "reader-\(UUID().uuidString)",
                                               "enable.partition.eof": "true"]),
            logger: testLogger)
        try consumer.assign(all.map { TopicPartitionOffset($0, offset: TopicPartitionOffset.beginning) })
        var records: [ConsumerRecord] = [], ended: Set<TopicPartition> = []
        let deadline = ContinuousClock.now + .seconds(60)
        while ended != Set(all), ContinuousClock.now < deadline {
            let batch = try await consumer.poll(timeout: .milliseconds(200))
            records += batch.records
            for record in batch.records { ended.remove(record.topicPartition) }
            ended.formUnion(batch.endOfPartition.map(\.topicPartition))
        }
        await consumer.close()
        return records
    }
}

extension DevBroker {
    /// Produces the records in batches; returns how many.
    @discardableResult
    public func produce(_ records: [ProducerRecord]) async throws -> Int {
        let producer = try KafkaProducer(configuration: KafkaConfiguration(["bootstrap.servers": bootstrapServers]), logger: testLogger)
        for start in stride(from: 0, to: records.count, by: 10_000) {
            try await producer.sendAll(Array(records[start..<min(start + 10_000, records.count)]))
        }
        try await producer.close()
        return records.count
    }
}

/// The `alm` binary `make test` builds before running the tests, or `ALM_BINARY` (`make soak` runs a release build).
public let almBinary = ProcessInfo.processInfo.environment["ALM_BINARY"].map { URL(fileURLWithPath: $0) }
    ?? projectRoot.appendingPathComponent(".build/debug/alm")

extension DevBroker {
    /// `alm <arguments>` against this broker, from the project root.
    public func almProcess(_ arguments: [String], group: String = "alm-cli-test") -> Process {
        let process = Process()
        process.executableURL = almBinary
        process.currentDirectoryURL = projectRoot
        process.arguments = arguments + [
            "--topics", projectRoot.appendingPathComponent("topics.yaml").path, "--log-level", "error",
            "-X", "bootstrap.servers=\(bootstrapServers)", "-X", "group.id=\(group)",
            "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500",
        ]
        return process
    }

    /// Runs `alm <arguments>` to the end: its exit status and standard output.
    public func alm(_ arguments: [String], group: String = "alm-cli-test") async throws -> (status: Int32, output: String) {
        try await almProcess(arguments, group: group).runCollectingOutput()
    }
}

extension Process {
    /// Waits for the process to end without holding a thread of the concurrency pool (on 2 cores it has
    /// 2: a test blocked in `waitUntilExit` can starve the local server its child is talking to).
    public func exitStatus(polling interval: Duration = .milliseconds(20)) async -> Int32 {
        while isRunning { try? await Task.sleep(for: interval) }
        waitUntilExit()  // already ended: reaps it at once
        return terminationStatus
    }

    /// Runs the process to its end, collecting its standard output as it comes.
    public func runCollectingOutput() async throws -> (status: Int32, output: String) {
        let pipe = Pipe()
        standardOutput = pipe
        let collected = OutputBuffer()
        pipe.fileHandleForReading.readabilityHandler = { handle in collected.append(handle.availableData) }
        try run()
        let status = await exitStatus()
        pipe.fileHandleForReading.readabilityHandler = nil
        collected.append(pipe.fileHandleForReading.readDataToEndOfFile())
        return (status, collected.text)
    }
}

private final class OutputBuffer: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var data = Data()

    func append(_ more: Data) {
        lock.lock()
        data.append(more)
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}
