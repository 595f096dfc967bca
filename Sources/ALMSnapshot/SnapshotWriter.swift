import ALMAggregation
import ALMCore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes, lists and prunes the snapshots of one directory (`root`, e.g. `run/snapshots`).
///
/// A snapshot is `<root>/<id>/{works.jsonl, works.csv, manifest.json}`. It is built in
/// `<root>/.tmp-<id>-<pid>-<random>/`, every file and that directory fsynced, then renamed to
/// `<root>/<id>` and the root fsynced: a snapshot directory exists only complete. Several writers
/// (threads or processes) may share a root; each snapshot gets its own id.
public struct SnapshotWriter: Sendable {
    public static let jsonLinesFile = "works.jsonl"
    public static let csvFile = "works.csv"
    public static let manifestFile = "manifest.json"
    /// Temporary directories of other live processes are left alone unless older than this.
    static let staleTemporarySeconds = 600

    public let root: URL
    /// How many snapshots `prune` keeps (the newest by id).
    public let retain: Int
    /// Tests: file name → the errno its first write fails with (a full disk, say).
    var injectedWriteErrors: [String: Int32] = [:]

    /// `root` is the snapshots directory, created on the first write; `retain` >= 1 newest are kept.
    public init(root: URL, retain: Int) {
        self.root = root.standardizedFileURL
        self.retain = retain
    }

    /// Writes `<root>/<id>/{works.jsonl, works.csv, manifest.json}` and prunes old snapshots.
    ///
    /// Works are sorted here by work id (`utf8Less`): callers may pass any order, and equal aggregates
    /// give byte-identical works.jsonl and works.csv. A work id may appear only once. `recordCounts`
    /// gets `works` added (replacing any given). On failure nothing is left behind and existing
    /// snapshots are untouched. Pruning after a successful write is best effort: its failure does not
    /// fail the write (the next write or `prune()` retries).
    public func write(_ works: [WorkAggregate], inputOffsets: [String: [String: Int64]] = [:],
                      recordCounts: [String: Int64] = [:], createdAt: Date = Date(),
                      asOf: String? = nil) throws -> (directory: URL, manifest: SnapshotManifest) {
        let rootPath = root.path
        try checkRetain()
        guard let (baseID, createdText) = SnapshotID.make(for: createdAt) else {
            throw SnapshotError(.invalidArgument, "creation time \(createdAt) is outside years 0000–9999", path: rootPath)
        }
        let order = try Self.sortedOrder(works, rootPath: rootPath)

        if try FileSystem.makeDirectories(rootPath) {
            try FileSystem.syncDirectory((rootPath as NSString).deletingLastPathComponent)
        }
        removeStaleTemporaries()

        // After the highest number of this instant, not in a gap left by pruning: ids are never reused.
        var attempt = (try FileSystem.directoryEntries(rootPath)).compactMap { SnapshotID.number($0, ofBase: baseID) }.max() ?? 0
        attempt += 1
        var id = SnapshotID.candidate(baseID, attempt)

        let temporaryPath = Self.claimTemporary(in: rootPath, for: id)
        defer { activeTemporaries.withLock { _ = $0.remove(temporaryPath) } }
        do {
            try FileSystem.makeDirectory(temporaryPath)
        } catch let error as SnapshotError {
            throw SnapshotError(error.code, "cannot write a snapshot into \(rootPath): \(error.message)",
                                path: error.path, errno: error.errno)
        }
        do {
            let (jsonDigest, csvDigest) = try writeDataFiles(works, order: order, in: temporaryPath)
            var counts = recordCounts
            counts["works"] = Int64(works.count)
            var manifest = SnapshotManifest(
                id: id, createdAt: createdText, asOf: asOf, works: works.count, inputOffsets: inputOffsets,
                recordCounts: counts, files: [Self.jsonLinesFile: jsonDigest, Self.csvFile: csvDigest])
            try writeManifest(manifest, in: temporaryPath)
            try FileSystem.syncDirectory(temporaryPath)

            // Another writer may have taken the id since it was chosen: rename(2) refuses to replace a
            // non-empty directory, so take the next one and say so in the manifest.
            while try !FileSystem.move(temporaryPath, to: rootPath + "/" + id,
                                       tolerating: attempt < 10_000 ? [EEXIST, ENOTEMPTY, ENOTDIR] : []) {
                attempt += 1
                id = SnapshotID.candidate(baseID, attempt)
                manifest.id = id
                try FileSystem.removeTree(temporaryPath + "/" + Self.manifestFile)
                try writeManifest(manifest, in: temporaryPath)
                try FileSystem.syncDirectory(temporaryPath)
            }
            try FileSystem.syncDirectory(rootPath)
            _ = try? prune()
            return (root.appendingPathComponent(id, isDirectory: true), manifest)
        } catch {
            try? FileSystem.removeTree(temporaryPath)
            throw error
        }
    }

    /// The valid snapshots of the root, newest first. Skips `.tmp-*` and other hidden entries, and
    /// directories without a readable manifest whose id is the directory's name. No root: none.
    public func list() throws -> [SnapshotManifest] {
        let decoder = JSONDecoder()
        var manifests: [SnapshotManifest] = []
        for name in try FileSystem.directoryEntries(root.path) where !name.hasPrefix(".") {
            let path = root.path + "/" + name + "/" + Self.manifestFile
            guard let data = FileManager.default.contents(atPath: path),
                  let manifest = try? decoder.decode(SnapshotManifest.self, from: data),
                  manifest.id == name, manifest.schemaVersion >= 1
            else { continue }
            manifests.append(manifest)
        }
        return manifests.sorted { SnapshotID.precedes($1.id, $0.id) }
    }

    /// The newest snapshot, if any.
    public func latest() throws -> (directory: URL, manifest: SnapshotManifest)? {
        guard let manifest = try list().first else { return nil }
        return (root.appendingPathComponent(manifest.id, isDirectory: true), manifest)
    }

    /// Removes all snapshots but the newest `retain` (by id) and returns the removed ids, newest first.
    /// Each leaves the listing at once (renamed to a `.tmp-*` name) before its files are deleted.
    @discardableResult
    public func prune() throws -> [String] {
        try checkRetain()
        let rootPath = root.path
        var removed: [String] = []
        for manifest in try list().dropFirst(retain) {
            let temporaryPath = Self.claimTemporary(in: rootPath, for: manifest.id)
            defer { activeTemporaries.withLock { _ = $0.remove(temporaryPath) } }
            // ENOENT: another writer pruned it first.
            guard try FileSystem.move(rootPath + "/" + manifest.id, to: temporaryPath, tolerating: [ENOENT]) else {
                continue
            }
            removed.append(manifest.id)
            // Left over on failure, it is a stale temporary directory that the next write removes.
            try? FileSystem.removeTree(temporaryPath)
        }
        if !removed.isEmpty { try FileSystem.syncDirectory(rootPath) }
        return removed
    }

    /// Reads a snapshot back and checks each file of its manifest (size, lines, SHA-256).
    @discardableResult
    public static func verify(directory: URL) throws -> SnapshotManifest {
        let manifestPath = directory.appendingPathComponent(manifestFile).path
        let manifest: SnapshotManifest
        do {
            manifest = try JSONDecoder().decode(SnapshotManifest.self, from: Data(contentsOf: URL(fileURLWithPath: manifestPath)))
        } catch {
            throw SnapshotError(.corrupt, "cannot read \(manifestPath): \(error)", path: manifestPath)
        }
        for name in [jsonLinesFile, csvFile] where manifest.files[name] == nil {
            throw SnapshotError(.corrupt, "\(manifestPath) lists no \(name)", path: manifestPath)
        }
        for (name, expected) in manifest.files.sorted(by: { $0.key < $1.key }) {
            let path = directory.appendingPathComponent(name).path
            guard FileSystem.exists(path) else {
                throw SnapshotError(.corrupt, "\(path) is missing", path: path)
            }
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw SnapshotError.wrapping(error, "cannot read", path: path)
            }
            var digester = Digester()
            data.withUnsafeBytes { digester.update($0) }
            let actual = digester.finalize()
            guard actual == expected else {
                throw SnapshotError(.corrupt, "\(path) does not match its manifest: \(actual) on disk, \(expected) expected", path: path)
            }
        }
        return manifest
    }

    // MARK: - Parts of write

    private func checkRetain() throws {
        guard retain >= 1 else {
            throw SnapshotError(.invalidArgument, "retain must be at least 1, got \(retain)", path: root.path)
        }
    }

    /// Indices of `works` in byte order of work id (`utf8Less`); the same id twice is an error.
    static func sortedOrder(_ works: [WorkAggregate], rootPath: String) throws -> [Int] {
        // All ids in one buffer: comparisons are memcmp, without retaining strings.
        var bytes: [UInt8] = []
        var starts: [Int] = []
        starts.reserveCapacity(works.count + 1)
        for work in works {
            starts.append(bytes.count)
            bytes.append(contentsOf: work.work.utf8)
        }
        starts.append(bytes.count)
        bytes.append(0)  // never empty, so the base address exists
        var order = Array(works.indices)
        let duplicate: Int? = bytes.withUnsafeBufferPointer { bytes in
            starts.withUnsafeBufferPointer { starts in
                let base = bytes.baseAddress!
                func compare(_ a: Int, _ b: Int) -> Int {
                    let (lengthA, lengthB) = (starts[a + 1] - starts[a], starts[b + 1] - starts[b])
                    let result = memcmp(base + starts[a], base + starts[b], min(lengthA, lengthB))
                    return result != 0 ? Int(result) : lengthA - lengthB
                }
                order.sort { compare($0, $1) < 0 }
                return order.indices.dropFirst().first { compare(order[$0 - 1], order[$0]) == 0 }
            }
        }
        if let duplicate {
            let work = works[order[duplicate]].work
            throw SnapshotError(.invalidArgument, "work \(work) appears twice in one snapshot", path: rootPath)
        }
        return order
    }

    /// works.jsonl and works.csv, built and written at the same time (one thread each).
    private func writeDataFiles(_ works: [WorkAggregate], order: [Int], in directory: String) throws
        -> (jsonLines: FileDigest, csv: FileDigest) {
        let results = Mutex<[Int: Result<FileDigest, any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: 2) { task in
            let result = Result<FileDigest, any Error> {
                if task == 0 {
                    let sink = try FileSink(path: directory + "/" + Self.jsonLinesFile,
                                            injectedWriteError: injectedWriteErrors[Self.jsonLinesFile])
                    try SnapshotFiles.writeJSONLines(works, order: order) { try sink.write(&$0) }
                    return try sink.finish()
                } else {
                    let sink = try FileSink(path: directory + "/" + Self.csvFile,
                                            injectedWriteError: injectedWriteErrors[Self.csvFile])
                    try SnapshotFiles.writeCSV(works, order: order) { try sink.write(&$0) }
                    return try sink.finish()
                }
            }
            results.withLock { $0[task] = result }
        }
        let (jsonResult, csvResult) = results.withLock { ($0[0]!, $0[1]!) }
        return (try jsonResult.get(), try csvResult.get())
    }

    private func writeManifest(_ manifest: SnapshotManifest, in directory: String) throws {
        let path = directory + "/" + Self.manifestFile
        var bytes: [UInt8]
        do {
            bytes = try manifest.encoded()
        } catch {
            throw SnapshotError.wrapping(error, "cannot encode", path: path)
        }
        let sink = try FileSink(path: path, injectedWriteError: injectedWriteErrors[Self.manifestFile])
        try sink.write(&bytes)
        _ = try sink.finish()
    }

    /// A fresh `.tmp-<id>-<pid>-<random>` path, registered as in use by this process.
    private static func claimTemporary(in rootPath: String, for id: String) -> String {
        let random = String(UInt64.random(in: .min ... .max), radix: 16)
        let path = rootPath + "/.tmp-\(id)-\(getpid())-\(random)"
        activeTemporaries.withLock { _ = $0.insert(path) }
        return path
    }

    /// Removes `.tmp-*` entries left by crashed or failed writes: this process's own that no write of
    /// it is using, those of processes no longer running (or with no pid in the name), and any older
    /// than `staleTemporarySeconds`. Best effort: a failure here leaves the entry for next time.
    private func removeStaleTemporaries() {
        let rootPath = root.path
        guard let names = try? FileSystem.directoryEntries(rootPath) else { return }
        let ownPID = getpid()
        let now = Int(time(nil))
        for name in names where name.hasPrefix(".tmp-") {
            let path = rootPath + "/" + name
            if activeTemporaries.withLock({ $0.contains(path) }) { continue }
            let parts = name.split(separator: "-", omittingEmptySubsequences: false)
            let stale: Bool
            if parts.count >= 4, let pid = Int32(parts[parts.count - 2]), pid > 0 {
                if pid == ownPID || !FileSystem.isProcessAlive(pid) {
                    stale = true
                } else {
                    stale = now - (FileSystem.modificationTime(path) ?? now) > Self.staleTemporarySeconds
                }
            } else {
                stale = true
            }
            if stale { try? FileSystem.removeTree(path) }
        }
    }
}

/// Temporary directories this process is writing or deleting, which no cleanup may touch.
private let activeTemporaries = Mutex<Set<String>>([])
