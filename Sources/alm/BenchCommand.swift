import ALMBench
import ALMProcessor
import ALMRuntime
import ALMWorkload
import ArgumentParser
import DevBroker
import Foundation
import Kafka

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the processor against the raw consume rate of the same topics, in one run.",
        discussion: """
            For each size, on a fresh dev broker: produce a generated workload, read it with a plain counting \
            consumer (the ceiling), then time `alm process --until-end` on fresh state (peak RSS from the kernel), \
            `alm snapshot` and `alm replay` as child processes. Prints a table and writes JSON.
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var file: TopicsCommand.TopicsFileOption
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Sizes to measure, as records:works.", valueName: "records:works"))
    var sizes: [String] = ["100000:10000", "1000000:100000"]
    @Option(help: "Random seed of the workload.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp("Scratch directory (emptied per size).", valueName: "dir")) var workDir: String = "run/bench"
    @Option(help: ArgumentHelp("Where the JSON results go.", valueName: "file")) var json: String = "run/bench/results.json"

    func parsedSizes() throws -> [(records: Int, works: Int)] {
        try sizes.map { text in
            let parts = text.split(separator: ":").map { Int($0.replacingOccurrences(of: "_", with: "")) }
            guard parts.count == 2, let records = parts[0], let works = parts[1], records > 0, works > 0 else {
                throw ValidationError("--sizes: \(text) is not records:works (e.g. 1000000:100000)")
            }
            return (records, works)
        }
    }

    func validate() throws { _ = try parsedSizes() }

    func run() async throws {
        let configuration = try options.loadConfiguration()
        let declarations = try file.load(configuration)
        let logger = options.makeLogger("alm.bench")
        let alm = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let work = URL(fileURLWithPath: workDir)
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let root = Tansu.projectRoot(from: here) ?? here
        // The processor's group settings, with the dev broker's quick join, for the ceiling and the processor alike.
        let session = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]

        var measurements: [BenchMeasurement] = []
        for size in try parsedSizes() {
            try? FileManager.default.removeItem(at: work.appendingPathComponent("size"))
            let dir = work.appendingPathComponent("size")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            print("== \(size.records) records, \(size.works) works")
            let measurement = try await DevBroker.withTemporary(projectRoot: root, name: "bench") { broker in
                var kafka = configuration.kafka
                kafka["bootstrap.servers"] = broker.bootstrapServers
                for (key, value) in session { kafka[key] = value }
                let admin = try KafkaAdmin(configuration: kafka, logger: logger)
                _ = try await TopicApplier(admin: admin, logger: logger).apply(declarations)
                await admin.close()

                let producer = try KafkaProducer(configuration: kafka, logger: logger)
                let produced = try await WorkloadProducer.produce(
                    WorkloadSpec(records: size.records, works: size.works, seed: seed),
                    declared: Set(declarations.rawTopics.map(\.name)), producer: producer)
                try await producer.close()
                print("produced \(produced.produced) records (\(produced.malformed) malformed)")

                let raw = try await RawConsume.count(topics: declarations.rawTopics.map(\.name),
                                                     kafka: ProcessorSettings.consumerDefaults.merging(kafka),
                                                     maxRecords: configuration.processor.batchRecords, logger: logger)
                print(String(format: "raw consume: %d records in %.2f s (the first after %.2f s)",
                             raw.records, raw.seconds, raw.firstRecordSeconds ?? .nan))
                guard raw.records == size.records else {
                    throw BenchError("the raw consumer read \(raw.records) records of \(size.records)")
                }

                let brokerFlags = ["-X", "bootstrap.servers=\(broker.bootstrapServers)"]
                    + session.sorted { $0.key < $1.key }.flatMap { ["-X", "\($0.key)=\($0.value)"] }
                    + options.passThrough
                let state = dir.appendingPathComponent("state")
                let process = try await ChildRun.run(
                    [alm, "process", "--until-end", "--log-level", "warning", "--state-dir", state.path,
                     "--snapshot-dir", dir.appendingPathComponent("snapshots").path] + brokerFlags,
                    log: dir.appendingPathComponent("process.log")).checked("alm process")
                let counted = try CommandOutput.recordsAccountedFor(process.output)
                guard counted == size.records else {
                    throw BenchError("alm process accounted for \(counted) records of \(size.records):\n\(process.output)")
                }
                let processPeak = try CommandOutput.peakRSSBytes(process.output)
                print(String(format: "alm process: %.2f s, peak RSS %.0f MiB", process.seconds, Double(processPeak) / 1_048_576))

                let stateSize = try StateSize.measure(stateDirectory: state)
                let snapshot = try await ChildRun.run(
                    [alm, "snapshot", "--log-level", "warning", "--state-dir", state.path,
                     "--snapshot-dir", dir.appendingPathComponent("snapshot-timed").path] + options.passThrough,
                    log: dir.appendingPathComponent("snapshot.log")).checked("alm snapshot")
                let replay = try await ChildRun.run(
                    [alm, "replay", "--log-level", "warning", "--state-dir", dir.appendingPathComponent("replay-state").path,
                     "--snapshot-dir", dir.appendingPathComponent("replay-snapshots").path] + brokerFlags,
                    log: dir.appendingPathComponent("replay.log")).checked("alm replay")
                guard try CommandOutput.worksFile(snapshot.output) == CommandOutput.worksFile(replay.output) else {
                    throw BenchError("alm replay's works.jsonl differs from alm process's")
                }
                print(String(format: "alm snapshot: %.2f s; alm replay: %.2f s", snapshot.seconds, replay.seconds))
                return BenchMeasurement(
                    records: size.records, works: size.works, rawRecords: raw.records, rawSeconds: raw.seconds,
                    processSeconds: process.seconds, processPeakRSSBytes: processPeak,
                    stateRecords: stateSize.records, stateBytes: stateSize.bytes,
                    snapshotWorks: try CommandOutput.snapshotWorks(snapshot.output), snapshotSeconds: snapshot.seconds,
                    replaySeconds: replay.seconds, replayPeakRSSBytes: try CommandOutput.peakRSSBytes(replay.output),
                    rawFirstRecordSeconds: raw.firstRecordSeconds)
            }
            measurements.append(measurement)
        }

        let report = BenchReport(date: ISO8601DateFormatter().string(from: Date()), machine: Self.machine(),
                                 command: CommandLine.arguments.joined(separator: " "), measurements: measurements)
        let jsonURL = URL(fileURLWithPath: json)
        try FileManager.default.createDirectory(at: jsonURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        try report.json().write(to: jsonURL)
        print("\n\(report.machine)\n\n\(report.table())\n\nJSON: \(jsonURL.path)")
    }

    static func machine() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let memory = ProcessInfo.processInfo.physicalMemory / 1_073_741_824
        #if DEBUG
        let build = "debug build"
        #else
        let build = "release build"
        #endif
        return "\(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(memory) GiB; librdkafka \(Librdkafka.version); "
            + "dev broker (Tansu); \(build)"
    }
}
