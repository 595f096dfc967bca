import Foundation

/// Finds `shared/` (the design notes, spec and fixtures), which sits beside the package checkout:
/// `<package>/../shared`. The test sources may be reached through a symlink (a scratch package that
/// links `Tests/ALMCoreTests`), so the path of this file is resolved before walking up from it.
/// `ALM_SHARED` overrides the search.
enum SharedFiles {
    static let directory: URL? = locate()

    static var examplesDirectory: URL? {
        directory?.appendingPathComponent("spec/examples", isDirectory: true)
    }

    static func exampleFileNames() -> [String] {
        guard let examplesDirectory,
            let names = try? FileManager.default.contentsOfDirectory(atPath: examplesDirectory.path)
        else { return [] }
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }

    static func example(_ name: String) throws -> [UInt8] {
        guard let examplesDirectory else { throw MissingSharedDirectory() }
        return Array(try Data(contentsOf: examplesDirectory.appendingPathComponent(name)))
    }

    private static func locate() -> URL? {
        let fileManager = FileManager.default
        if let override = ProcessInfo.processInfo.environment["ALM_SHARED"] {
            return URL(fileURLWithPath: override, isDirectory: true)
        }
        let thisFile = URL(fileURLWithPath: #filePath)
        for start in [resolvingSymlinks(thisFile), thisFile] {
            var directory = start.deletingLastPathComponent()
            while directory.path != "/" && !directory.path.isEmpty {
                let candidate = directory.appendingPathComponent("shared", isDirectory: true)
                if fileManager.fileExists(atPath: candidate.appendingPathComponent("spec/event.schema.json").path) {
                    return candidate
                }
                directory = directory.deletingLastPathComponent()
            }
        }
        return nil
    }

    /// Resolves every symlink on the path (Foundation's `resolvingSymlinksInPath` leaves some
    /// intermediate links alone on Linux).
    private static func resolvingSymlinks(_ url: URL) -> URL {
        guard let resolved = realpath(url.path, nil) else { return url }
        defer { free(resolved) }
        return URL(fileURLWithPath: String(cString: resolved))
    }

    struct MissingSharedDirectory: Error, CustomStringConvertible {
        var description: String { "shared/ not found beside the package; set ALM_SHARED" }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast generator whose sequence is fixed by its seed,
/// so a failing random test fails the same way on every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
