import Foundation
import Metrics

/// The metrics of one source's collector, through swift-metrics (whatever backend the process
/// bootstraps). Labels are bounded: the source, and for errors one of a fixed set of classes.
///
/// | metric | kind | dimensions |
/// |---|---|---|
/// | `alm_collector_requests_total` | counter | source |
/// | `alm_collector_errors_total` | counter | source, class (`timeout`, `connection`, `rate_limited`, `server`, `client`, `too_large`, `paused`, `malformed_response`, `source_error`, `work_required`, `invalid_value`) |
/// | `alm_collector_events_total` | counter | source |
/// | `alm_collector_request_duration_seconds` | timer | source |
/// | `alm_collector_last_success_timestamp_seconds` | gauge | source |
/// | `alm_collector_paused` | gauge (1 while the circuit breaker holds the source) | source |
public struct CollectorMetrics: Sendable {
    public static let errorClasses = ["timeout", "connection", "rate_limited", "server", "client", "too_large", "paused",
                                      "malformed_response", "source_error", "work_required", "invalid_value"]

    let requests: Counter
    let events: Counter
    let duration: Metrics.Timer
    let lastSuccess: Gauge
    let paused: Gauge
    private let errors: [String: Counter]

    public init(source: String, factory: MetricsFactory = MetricsSystem.factory) {
        let dimensions = [("source", source)]
        requests = Counter(label: "alm_collector_requests_total", dimensions: dimensions, factory: factory)
        events = Counter(label: "alm_collector_events_total", dimensions: dimensions, factory: factory)
        duration = Metrics.Timer(label: "alm_collector_request_duration_seconds", dimensions: dimensions, factory: factory)
        lastSuccess = Gauge(label: "alm_collector_last_success_timestamp_seconds", dimensions: dimensions, factory: factory)
        paused = Gauge(label: "alm_collector_paused", dimensions: dimensions, factory: factory)
        errors = Dictionary(uniqueKeysWithValues: Self.errorClasses.map { errorClass in
            (errorClass, Counter(label: "alm_collector_errors_total", dimensions: dimensions + [("class", errorClass)], factory: factory))
        })
    }

    func error(_ errorClass: String) {
        errors[errorClass]?.increment()
    }

    func succeeded() {
        lastSuccess.record(Date().timeIntervalSince1970)
    }
}
