import ALMRuntime
import ALMSnapshot
import Foundation
import Hummingbird
import Prometheus

/// `/api/v1/sources`, `/api/v1/snapshots`, `/healthz`, `/readyz` and `/metrics`.
struct PipelineRoutes: Sendable {
    let settings: ServeSettings
    let index: WorkIndex
    let follower: MetricsFollower?
    let monitor: PipelineMonitor?
    let registry: PrometheusCollectorRegistry

    struct SourceDocument: Encodable {
        var source: String
        var eventsLast24h: Int
        var eventsLastMinute: Int
        var lastEventAt: String?
        var recordsSeen: Int
        var errors: ErrorsDocument
        var consumerLag: Int64?
        var breaker: String?
        var collectors: [CollectorStatus]

        struct ErrorsDocument: Encodable {
            var deadLetters: Int
            var deadLettersLast24h: Int
            /// Collector errors by class since each instance started, summed over instances.
            var collector: [String: Int64]
            enum CodingKeys: String, CodingKey {
                case collector
                case deadLetters = "dead_letters", deadLettersLast24h = "dead_letters_last_24h"
            }
        }

        enum CodingKeys: String, CodingKey {
            case source, errors, breaker, collectors
            case eventsLast24h = "events_last_24h", eventsLastMinute = "events_last_minute", lastEventAt = "last_event_at"
            case recordsSeen = "records_seen", consumerLag = "consumer_lag"
        }

        init(_ health: PipelineMonitor.SourceHealth) {
            source = health.source
            eventsLast24h = health.eventsLast24h
            eventsLastMinute = health.eventsLastMinute
            lastEventAt = health.lastEventAt.map(ContextDocument.rfc3339)
            recordsSeen = health.recordsSeen
            errors = ErrorsDocument(deadLetters: health.deadLetters, deadLettersLast24h: health.deadLettersLast24h,
                                    collector: health.collectors.reduce(into: [:]) { sum, status in sum.merge(status.errors, uniquingKeysWith: +) })
            consumerLag = health.processorLag
            breaker = health.breaker(now: Date())
            collectors = health.collectors
        }
    }

    func register(api: RouterGroup<ServeContext>, router: Router<ServeContext>) {
        api.get("sources") { _, _ in
            guard let monitor else { throw ServeError.unavailable("pipeline health needs Kafka (alm serve with bootstrap.servers)") }
            struct Document: Encodable {
                var sources: [SourceDocument]
                var complete: Bool
                var note: String
            }
            return try WorkRoutes.json(Document(
                sources: monitor.sources().map(SourceDocument.init), complete: monitor.caughtUp,
                note: "From the raw topics, alm.dlq and alm.status as read by this server; consumer_lag is the processor's, "
                    + "from its state; breaker is null when no collector instance of the source reported in the last 90 s."))
        }
        api.get("snapshots") { _, _ in
            let manifests = try SnapshotWriter(root: settings.snapshotDirectory, retain: 1).list()
            struct Document: Encodable {
                var snapshots: [SnapshotManifest]
                var current: String?
            }
            return try WorkRoutes.json(Document(snapshots: manifests, current: index.snapshot?.id))
        }
        router.get("healthz") { _, _ in try WorkRoutes.json(["status": "ok"]) }
        router.get("readyz") { _, _ in
            let caughtUp = follower?.caughtUp ?? true
            let loaded = index.snapshot != nil || follower != nil
            let document = ["status": caughtUp && loaded ? "ready" : "starting",
                            "alm_metrics": follower == nil ? "not followed" : (caughtUp ? "caught up" : "catching up"),
                            "snapshot": index.snapshot?.id ?? "none"]
            return try WorkRoutes.json(document, status: caughtUp && loaded ? .ok : .serviceUnavailable)
        }
        router.get("metrics") { _, _ in
            updateGauges()
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }

    /// Gauges are set when scraped; labels are sources from topics.yaml (bounded), never works.
    private func updateGauges() {
        gauge("alm_serve_works", "Works the server answers for").set(to: Double(index.count))
        gauge("alm_serve_metrics_updates", "alm.metrics records applied since start").set(to: Double(index.liveUpdates))
        gauge("alm_serve_ready", "1 once alm.metrics is read to its end").set(to: follower?.caughtUp ?? true ? 1 : 0)
        if let created = index.snapshot.flatMap({ ISO8601DateFormatter().date(from: $0.createdAt) }) {
            gauge("alm_serve_snapshot_age_seconds", "Age of the snapshot loaded at start").set(to: Date().timeIntervalSince(created))
        }
        guard let monitor else { return }
        for health in monitor.sources() {
            let labels = [("source", health.source)]
            gauge("alm_source_events_last_24h", "Raw records of the source in the last 24 h", labels).set(to: Double(health.eventsLast24h))
            gauge("alm_source_dead_letters", "Records of the source in alm.dlq", labels).set(to: Double(health.deadLetters))
            if let lag = health.processorLag {
                gauge("alm_source_processor_lag_records", "Raw records not yet in the processor's state", labels).set(to: Double(lag))
            }
        }
    }

    private func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
    }
}
