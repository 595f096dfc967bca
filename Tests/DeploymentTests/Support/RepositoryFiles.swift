import Foundation

/// The files under test, found from this source file's location: the package root is the first
/// directory above it (symbolic links resolved, so a scratch package that links this folder in still
/// finds the real repository) that holds a Package.swift.
enum RepositoryFiles {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    static func root(from file: String = #filePath) throws -> URL {
        var directory = URL(fileURLWithPath: file).resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" && !directory.path.isEmpty {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        throw Missing(description: "no directory above \(file) holds a Package.swift")
    }

    /// The text of a file given relative to the package root; the error names the file.
    static func read(_ relativePath: String) throws -> String {
        let url = try root().appendingPathComponent(relativePath)
        do {
            return try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw Missing(description: "cannot read \(relativePath) at \(url.path): \(error.localizedDescription)")
        }
    }

    /// Whether a file or directory exists, relative to the package root.
    static func exists(_ relativePath: String) -> Bool {
        guard let root = try? root() else { return false }
        return FileManager.default.fileExists(atPath: root.appendingPathComponent(relativePath).path)
    }
}
