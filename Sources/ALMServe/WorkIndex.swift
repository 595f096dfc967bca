import ALMAggregation
import ALMSnapshot
import Foundation
import Synchronization

/// The numbers `alm serve` answers with: the latest snapshot, then every aggregate `alm.metrics`
/// carried since (latest wins, as in the compacted topic).
public final class WorkIndex: Sendable {
    struct State {
        var works: [String: WorkAggregate] = [:]
        var snapshot: SnapshotManifest?
        /// When the last `alm.metrics` record was applied.
        var lastUpdate: Date?
        var liveUpdates = 0
        /// Bumped on every change; the top-works cache is valid for one version.
        var version = 0
        var topCache: (version: Int, byCategory: [Category: [WorkAggregate]])?
    }

    private let state = Mutex(State())

    public init() {}

    /// Loads the newest snapshot under `root`, replacing what the index holds. Returns its manifest,
    /// or nil when there is none yet (the index then fills from `alm.metrics` alone).
    @discardableResult
    public func loadLatestSnapshot(root: URL) throws -> SnapshotManifest? {
        guard let (directory, manifest) = try SnapshotWriter(root: root, retain: 1).latest() else { return nil }
        let path = directory.appendingPathComponent(SnapshotWriter.jsonLinesFile).path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ServeError.unavailable("cannot read \(path)")
        }
        var works: [String: WorkAggregate] = [:]
        works.reserveCapacity(manifest.works)
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            lineNumber += 1
            do {
                let aggregate = try WorkAggregate(jsonLine: Array(line))
                works[aggregate.work] = aggregate
            } catch {
                throw ServeError.unavailable("\(path):\(lineNumber): \(error)")
            }
        }
        state.withLock {
            $0.works = works
            $0.snapshot = manifest
            $0.version += 1
        }
        return manifest
    }

    /// An `alm.metrics` record: the work's new aggregate, or nil for a tombstone.
    public func apply(work: String, aggregate: WorkAggregate?, at time: Date = Date()) {
        state.withLock {
            $0.works[work] = aggregate
            $0.lastUpdate = time
            $0.liveUpdates += 1
            $0.version += 1
        }
    }

    public func aggregate(_ work: String) -> WorkAggregate? {
        state.withLock { $0.works[work] }
    }

    public var count: Int { state.withLock { $0.works.count } }
    public var snapshot: SnapshotManifest? { state.withLock { $0.snapshot } }
    public var lastUpdate: Date? { state.withLock { $0.lastUpdate } }
    public var liveUpdates: Int { state.withLock { $0.liveUpdates } }

    /// The works with the highest number in `category` (ties by work id), at most `limit`.
    public func top(_ category: Category, limit: Int) -> [WorkAggregate] {
        state.withLock { state in
            if let cache = state.topCache, cache.version == state.version, let list = cache.byCategory[category] {
                return Array(list.prefix(limit))
            }
            let ranked = state.works.values
                .filter { $0.category(category) > 0 }
                .sorted { a, b in
                    let (x, y) = (a.category(category), b.category(category))
                    return x != y ? x > y : utf8Less(a.work, b.work)
                }
            let kept = Array(ranked.prefix(Self.topCacheSize))
            var byCategory = state.topCache?.version == state.version ? state.topCache!.byCategory : [:]
            byCategory[category] = kept
            state.topCache = (state.version, byCategory)
            return Array(kept.prefix(limit))
        }
    }

    static let topCacheSize = 100
}
