import ALMBench
import ALMPresentation
import ALMProcessor
import ALMRuntime
import ALMServe
import ALMSnapshot
import ArgumentParser
import Foundation
import Kafka

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the metrics over HTTP: API, badges, dashboard, Prometheus metrics (docs/api.md).",
        discussion: "Starts from the newest snapshot and follows alm.metrics, so answers change as alm process works.")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var file: TopicsCommand.TopicsFileOption
    @OptionGroup var state: StateOptions
    @Option(help: "Port to listen on (0: any free port; default serve.port, 8080).") var port: Int?
    @Option(help: "Address to listen on (default serve.host, 127.0.0.1).") var host: String?
    @Flag(help: "Serve the newest snapshot only: no Kafka (no live updates, no pipeline health).") var noKafka = false
    @Flag(help: "Read an admin key from standard input, print the SHA-256 to put in serve.admin_key_sha256, and exit.")
    var hashKey = false

    func run() async throws {
        if hashKey {
            guard let key = readLine(strippingNewline: true), !key.isEmpty else { throw ValidationError("no key on standard input") }
            print(AdminRoutes.digest(of: key))
            return
        }
        let configuration = try options.loadConfiguration()
        let logger = options.makeLogger("alm.serve")
        var settings = ServeSettings(snapshotDirectory: state.snapshotURL, stateDirectory: state.stateURL)
        settings.host = host ?? configuration.serve.host
        settings.port = port ?? configuration.serve.port
        settings.adminKeySHA256 = configuration.serve.adminKeySHA256
        settings.rateLimitPerMinute = configuration.serve.rateLimitPerMinute
        settings.corsOrigins = configuration.serve.corsOrigins
        settings.attention = AttentionScore(weights: try AttentionWeights(
            overrides: configuration.serve.attentionWeights, sourceTypes: configuration.serve.attentionSourceTypes))

        let index = WorkIndex()
        if let manifest = try index.loadLatestSnapshot(root: state.snapshotURL) {
            logger.info("loaded snapshot \(manifest.id): \(manifest.works) works")
        } else {
            logger.notice("no snapshot under \(state.snapshotURL.path) yet; serving what alm.metrics carries")
        }
        var follower: MetricsFollower?
        var monitor: PipelineMonitor?
        if !noKafka {
            let declarations = try file.load(configuration)
            guard let metrics = declarations["alm.metrics"] else { throw ValidationError("topics.yaml declares no alm.metrics") }
            follower = MetricsFollower(topic: metrics.name, partitions: metrics.partitions, index: index,
                                       kafka: configuration.kafka, logger: logger)
            monitor = PipelineMonitor(declarations: declarations, stateDirectory: state.stateURL, kafka: configuration.kafka, logger: logger)
        }
        let services = ServeServices(
            index: index, follower: follower, monitor: monitor,
            provenance: try ProvenanceReader(stateDirectory: state.stateURL, rules: try configuration.aggregationRules()),
            admin: adminActions(configuration: configuration))
        let listenHost = settings.host
        try await ServeRunner.run(settings: settings, services: services, logger: logger) { port in
            // Scripts (make demo, the tests) wait for this line to learn the port.
            // Written straight to the descriptor: print's buffer would hold it while stdout is a file.
            FileHandle.standardOutput.write(Data("alm serve: listening on http://\(listenHost):\(port)/\n".utf8))
        }
    }

    /// A snapshot is written in-process (safe while alm process runs); a replay runs as a child
    /// `alm replay` into its own fresh state, writing its snapshot beside the others.
    private func adminActions(configuration: ALMConfiguration) -> AdminActions {
        let stateURL = state.stateURL
        let snapshotURL = state.snapshotURL
        let retain = configuration.snapshots.retain
        var replayArguments = [URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path, "replay"]
            + options.passThrough + ["--snapshot-dir", snapshotURL.path, "--log-level", "warning"]
        if let servers = configuration.kafka["bootstrap.servers"] { replayArguments += ["-X", "bootstrap.servers=\(servers)"] }
        if let topics = file.topics { replayArguments += ["--topics", topics] }
        let baseArguments = replayArguments
        return AdminActions(
            snapshot: {
                try StateSnapshot.write(from: stateURL, with: SnapshotWriter(root: snapshotURL, retain: retain)).manifest.id
            },
            replay: { asOf in
                let log = FileManager.default.temporaryDirectory.appendingPathComponent("alm-replay-\(UUID().uuidString).log")
                defer { try? FileManager.default.removeItem(at: log) }
                let run = try await ChildRun.run(baseArguments + (asOf.map { ["--as-of", $0] } ?? []), log: log)
                return try run.checked("alm replay").output
            })
    }
}
