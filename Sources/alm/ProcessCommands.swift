import ALMAggregation
import ALMCore
import ALMProcessor
import ALMRuntime
import ALMSnapshot
import ArgumentParser
import Dispatch
import Foundation
import Kafka
import Synchronization

struct StateOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The processor's state (one database per partition).", valueName: "dir"))
    var stateDir: String = "state"

    @Option(help: ArgumentHelp("Where snapshots are written.", valueName: "dir"))
    var snapshotDir: String = "snapshots"

    var stateURL: URL { URL(fileURLWithPath: stateDir) }
    var snapshotURL: URL { URL(fileURLWithPath: snapshotDir) }
}

struct ProcessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Deduplicate and aggregate the raw topics per work, publish to alm.metrics, keep state, write snapshots.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var file: TopicsCommand.TopicsFileOption
    @OptionGroup var state: StateOptions
    @OptionGroup var lifecycle: LifecycleOptions
    @Flag(help: "Process up to the end of every partition, write a snapshot and exit (batch mode).")
    var untilEnd = false
    @Option(help: ArgumentHelp("Write a snapshot every this many seconds while running (overrides snapshots.interval_seconds; 0: none).",
                               valueName: "seconds"))
    var snapshotInterval: Int?

    func validate() throws {
        if let snapshotInterval, snapshotInterval < 0 { throw ValidationError("--snapshot-interval must be 0 or more") }
    }

    func run() async throws {
        ProcessMemory.limitMallocArenas()
        let configuration = try options.loadConfiguration()
        var settings = ProcessorSettings(kafka: configuration.kafka, declarations: try file.load(configuration),
                                         stateDirectory: state.stateURL, rules: try configuration.aggregationRules())
        settings.groupID = configuration.processor.groupID
        settings.maxBatchRecords = configuration.processor.batchRecords
        settings.untilEnd = untilEnd
        let logger = options.makeLogger("alm.process")
        let writer = SnapshotWriter(root: state.snapshotURL, retain: configuration.snapshots.retain)

        let interval = snapshotInterval ?? configuration.snapshots.intervalSeconds
        let periodic = interval > 0 ? Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval))
                if Task.isCancelled { break }
                do {
                    let (directory, manifest) = try writeSnapshot(from: state.stateURL, with: writer)
                    logger.info("snapshot written", metadata: ["snapshot.path": "\(directory.path)", "snapshot.works": "\(manifest.works)"])
                } catch {
                    // A failed snapshot (disk full, read-only) never stops processing; the next one retries.
                    logger.error("snapshot failed: \(error)")
                }
            }
        } : nil

        let processor = Processor(settings: settings, logger: logger)
        let summary = try await Lifecycle(name: "alm process", healthPort: lifecycle.healthPort, logger: logger)
            .run(ready: { processor.isReady }) { stopRequested in try await processor.run(shouldStop: stopRequested) }
        periodic?.cancel()
        print("processed \(summary.recordsProcessed) records, rejected \(summary.recordsRejected) invalid and "
              + "\(summary.recordsLate) late to \(settings.deadLetterTopic), "
              + "published \(summary.aggregatesPublished) aggregates, partitions \(summary.partitions.count)")
        let size = try StateSize.measure(stateDirectory: state.stateURL)
        print("state \(state.stateURL.path): \(size.records) records, \(size.works) works, "
              + "\(size.bytes / 1024) KiB in \(size.partitions) partitions")
        if untilEnd || interval > 0 {
            let (directory, manifest) = try writeSnapshot(from: state.stateURL, with: writer)
            print("snapshot \(directory.path): \(manifest.works) works")
        }
        if let peak = ProcessMemory.peakLine() { print(peak) }
    }
}

struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Write a snapshot of the processor's state now (safe while it runs).")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var state: StateOptions

    func run() async throws {
        let configuration = try options.loadConfiguration()
        let writer = SnapshotWriter(root: state.snapshotURL, retain: configuration.snapshots.retain)
        let (directory, manifest) = try writeSnapshot(from: state.stateURL, with: writer)
        print("snapshot \(directory.path): \(manifest.works) works")
    }
}

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rebuild the numbers from the earliest offsets into fresh state and write a snapshot.",
        discussion: "With --as-of, records whose Kafka timestamp is after that instant are left out: the metrics as they stood then.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var file: TopicsCommand.TopicsFileOption
    @Option(help: ArgumentHelp("Where snapshots are written.", valueName: "dir")) var snapshotDir: String = "snapshots"
    @Option(help: ArgumentHelp("Fresh state directory for the replay (default: a new one under ./state-replay).", valueName: "dir"))
    var stateDir: String?
    @Option(help: ArgumentHelp("RFC 3339 instant: leave out records produced after it.", valueName: "timestamp"))
    var asOf: String?
    @Flag(help: "Keep the replay's state directory afterwards.") var keepState = false

    func run() async throws {
        ProcessMemory.limitMallocArenas()
        let configuration = try options.loadConfiguration()
        var asOfMilliseconds: Int64?
        if let asOf {
            do {
                asOfMilliseconds = try Timestamp(parsing: asOf).microsecondsSinceEpoch / 1000
            } catch {
                throw ValidationError("--as-of: \(error) (expected RFC 3339, e.g. 2026-03-01T00:00:00Z)")
            }
        }
        let stateURL = URL(fileURLWithPath: stateDir ?? "state-replay/\(UUID().uuidString.prefix(8))")
        if FileManager.default.fileExists(atPath: stateURL.path),
           !(try FileManager.default.contentsOfDirectory(atPath: stateURL.path)).isEmpty {
            throw ValidationError("--state-dir \(stateURL.path) is not empty: a replay starts from fresh state")
        }
        var settings = ProcessorSettings(kafka: configuration.kafka, declarations: try file.load(configuration),
                                         stateDirectory: stateURL, rules: try configuration.aggregationRules())
        settings.maxBatchRecords = configuration.processor.batchRecords
        settings.untilEnd = true
        settings.assignAllPartitions = true
        settings.asOfMilliseconds = asOfMilliseconds
        let summary = try await Processor(settings: settings, logger: options.makeLogger("alm.replay")).run()
        let writer = SnapshotWriter(root: URL(fileURLWithPath: snapshotDir), retain: configuration.snapshots.retain)
        let (directory, manifest) = try writeSnapshot(from: stateURL, with: writer, asOf: asOf)
        if !keepState {
            try? FileManager.default.removeItem(at: stateURL)
            if stateDir == nil { rmdir(stateURL.deletingLastPathComponent().path) }  // only if no other replay's state is there
        }
        print("replayed \(summary.recordsProcessed) records (\(summary.recordsRejected) rejected, \(summary.recordsLate) late, "
              + "\(summary.recordsSkippedAsOf) after --as-of)")
        print("snapshot \(directory.path): \(manifest.works) works")
        if let peak = ProcessMemory.peakLine() { print(peak) }
    }
}

func writeSnapshot(from stateDirectory: URL, with writer: SnapshotWriter, asOf: String? = nil) throws -> (URL, SnapshotManifest) {
    let result = try StateSnapshot.write(from: stateDirectory, with: writer, asOf: asOf)
    return (result.directory, result.manifest)
}
