import ALMAggregation
import ALMPresentation
import Foundation

/// What `alm serve` is configured with (docs/configuration.md, `serve.*`).
public struct ServeSettings: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var snapshotDirectory: URL
    /// The processor's state directory: provenance and lag are read from it (read-only).
    public var stateDirectory: URL?
    /// Hex SHA-256 of the admin key; nil: every admin call is refused.
    public var adminKeySHA256: String?
    /// Per client address on the public endpoints; 0: no limit.
    public var rateLimitPerMinute = 600
    public var corsOrigins: [String] = []
    public var attention = AttentionScore()
    /// Most ids one batch request may name.
    public var maxBatch = 1000

    public init(snapshotDirectory: URL, stateDirectory: URL? = nil) {
        self.snapshotDirectory = snapshotDirectory
        self.stateDirectory = stateDirectory
    }
}

extension ServeSettings {
    /// The attention score of a work, one mention per author where the processor knew the authors.
    func score(_ aggregate: WorkAggregate) -> AttentionScoreResult {
        attention.score(aggregate, distinctAuthors: aggregate.authors)
    }
}

/// What the admin endpoints do; `alm serve` runs them in-process (snapshot) or as a child `alm replay`.
public struct AdminActions: Sendable {
    /// Writes a snapshot now; returns its id.
    public var snapshot: @Sendable () async throws -> String
    /// Runs a replay (as of the instant, if given); returns what it printed.
    public var replay: @Sendable (_ asOf: String?) async throws -> String

    public init(snapshot: @escaping @Sendable () async throws -> String,
                replay: @escaping @Sendable (_ asOf: String?) async throws -> String) {
        self.snapshot = snapshot
        self.replay = replay
    }
}
