import Foundation

/// What a collector instance reports to `alm.status` every `CollectorStatusPublisher.interval`: its
/// counts since it started, its breaker, and when it last fetched successfully. `alm serve` shows the
/// latest report of each instance in `/api/v1/sources` and on the dashboard.
public struct CollectorStatus: Codable, Sendable, Equatable {
    public var source: String
    public var instance: String
    public var startedAt: String
    public var reportedAt: String
    public var requests: Int64
    public var events: Int64
    /// Error class (CollectorMetrics.errorClasses) → count since start; zero classes left out.
    public var errors: [String: Int64]
    /// `open` while the circuit breaker holds the source, else `closed`.
    public var breaker: String
    public var lastSuccessAt: String?

    public init(source: String, instance: String, startedAt: String, reportedAt: String, requests: Int64, events: Int64,
                errors: [String: Int64], breaker: String, lastSuccessAt: String?) {
        self.source = source
        self.instance = instance
        self.startedAt = startedAt
        self.reportedAt = reportedAt
        self.requests = requests
        self.events = events
        self.errors = errors
        self.breaker = breaker
        self.lastSuccessAt = lastSuccessAt
    }

    enum CodingKeys: String, CodingKey {
        case source, instance, requests, events, errors, breaker
        case startedAt = "started_at", reportedAt = "reported_at", lastSuccessAt = "last_success_at"
    }

    public var errorCount: Int64 { errors.values.reduce(0, +) }
}
