import ALMCollectors
import ALMCore
import ALMRuntime
import Foundation
import Kafka
import Logging
import Metrics

public struct LogFileCollectorSettings: Sendable {
    public var path: String
    public var parser: AccessLogParser
    public var kafka: KafkaConfiguration
    public var declarations: TopicDeclarations
    public var stateDirectory: URL
    /// Keep reading as the file grows (and after it is rotated) instead of stopping at its end.
    public var follow = false
    public var pollSeconds = 1.0
    public var chunkBytes = 4 << 20
    public var metricsFactory: MetricsFactory = MetricsSystem.factory

    public init(path: String, parser: AccessLogParser, kafka: KafkaConfiguration, declarations: TopicDeclarations, stateDirectory: URL) {
        self.path = path
        self.parser = parser
        self.kafka = kafka
        self.declarations = declarations
        self.stateDirectory = stateDirectory
    }
}

public struct LogFileCollectorSummary: Sendable, Equatable {
    public var bytesRead: Int64 = 0
    public var events = 0
    public var malformedLines = 0
    public var rotations = 0
}

/// Reads a web server's access log into usage events, complete lines only, and remembers how far it
/// got (file identity and offset, saved after the broker acknowledges each chunk's events), so a restart
/// goes on where it stopped and never reads a line twice into the topic; even if it did, the events'
/// ids are stable. With `follow`, it waits for more lines and notices rotation: the old file is read to
/// its end, then the new one from its start.
public final class LogFileCollector: Sendable {
    public let settings: LogFileCollectorSettings
    private let logger: Logger

    public init(settings: LogFileCollectorSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public func run(shouldStop: @escaping @Sendable () -> Bool = { false }) async throws -> LogFileCollectorSummary {
        let router = try RawEventRouter(declarations: settings.declarations)
        let store = try CursorStore(directory: settings.stateDirectory, source: "accesslog")
        let producer = try KafkaProducer(configuration: settings.kafka, logger: logger)
        let metrics = CollectorMetrics(source: "accesslog", factory: settings.metricsFactory)
        let key = "file:" + URL(fileURLWithPath: settings.path).standardizedFileURL.path
        var summary = LogFileCollectorSummary()
        try await closing(producer) {
            var (handle, identity) = try open(resumingFrom: try store.position(of: key))
            while !shouldStop() {
                let consumed = try await readAvailable(handle, identity: identity, key: key, store: store, router: router,
                                                       producer: producer, metrics: metrics, summary: &summary)
                if consumed { continue }
                guard settings.follow else { break }
                if let current = try? fileIdentity(settings.path), current.inode != identity.inode {
                    // Rotated: what was appended to the old file is read above; the new file starts at 0.
                    try? handle.close()
                    summary.rotations += 1
                    (handle, identity) = try open(resumingFrom: nil)
                    continue
                }
                try? await Task.sleep(for: .milliseconds(Int64(settings.pollSeconds * 1000)))
            }
            try? handle.close()
        }
        return summary
    }

    private struct Identity {
        var inode: UInt64
        var offset: UInt64
    }

    private func fileIdentity(_ path: String) throws -> (inode: UInt64, size: UInt64) {
        var status = stat()
        guard stat(path, &status) == 0 else { throw CollectorRuntimeError("\(path): \(String(cString: strerror(errno)))") }
        return (UInt64(status.st_ino), UInt64(status.st_size))
    }

    /// Opens the log at the saved offset when it is the same file and not shorter (not truncated), else at 0.
    private func open(resumingFrom saved: String?) throws -> (FileHandle, Identity) {
        let (inode, size) = try fileIdentity(settings.path)
        guard let handle = FileHandle(forReadingAtPath: settings.path) else {
            throw CollectorRuntimeError("\(settings.path): cannot open for reading")
        }
        var offset: UInt64 = 0
        if let parts = saved?.split(separator: ":"), parts.count == 2, UInt64(parts[0]) == inode, let stored = UInt64(parts[1]), stored <= size {
            offset = stored
        }
        try handle.seek(toOffset: offset)
        return (handle, Identity(inode: inode, offset: offset))
    }

    /// Reads what is there, up to the last complete line; returns false when there was nothing new.
    private func readAvailable(_ handle: FileHandle, identity: Identity, key: String, store: CursorStore, router: RawEventRouter,
                               producer: KafkaProducer, metrics: CollectorMetrics, summary: inout LogFileCollectorSummary) async throws -> Bool {
        let start = try handle.offset()
        guard let data = try handle.read(upToCount: settings.chunkBytes), !data.isEmpty else { return false }
        guard let lastNewline = data.lastIndex(of: UInt8(ascii: "\n")) else {
            // A line still being written (or longer than a chunk, which no access log line is): wait for the rest.
            try handle.seek(toOffset: start)
            return false
        }
        let complete = data[data.startIndex...lastNewline]
        try handle.seek(toOffset: start + UInt64(complete.count))
        let reading: AccessLogReading
        do {
            reading = try settings.parser.read(Array(complete), context: ResponseContext(work: nil, observedAt: currentTimestamp()))
        } catch {
            // Not a single readable line in this chunk: count it, move on (a log is never refused whole).
            metrics.error(error.kind.rawValue)
            logger.warning("accesslog: \(settings.path) at byte \(start): \(error)")
            summary.malformedLines += complete.split(separator: UInt8(ascii: "\n")).count
            try store.save("\(identity.inode):\(start + UInt64(complete.count))", of: key)
            return true
        }
        if reading.malformedLineCount > 0 {
            metrics.error("malformed_response")
            logger.warning("accesslog: \(settings.path): \(reading.malformedLineCount) lines not in combined format after byte \(start)")
        }
        _ = try await producer.sendAll(reading.events.map { router.route($0.encodedJSON(), origin: settings.path).record })
        try store.save("\(identity.inode):\(start + UInt64(complete.count))", of: key)
        metrics.events.increment(by: reading.events.count)
        if !reading.events.isEmpty { metrics.succeeded() }
        summary.bytesRead += Int64(complete.count)
        summary.events += reading.events.count
        summary.malformedLines += reading.malformedLineCount
        return true
    }
}
