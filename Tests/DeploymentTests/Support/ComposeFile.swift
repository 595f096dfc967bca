import Foundation
import Yams

/// Loosely typed access to what `Yams.load(yaml:)` returns.
enum YAMLValue {
    static func mapping(_ value: Any?) -> [String: Any]? {
        if let mapping = value as? [String: Any] { return mapping }
        guard let mapping = value as? [AnyHashable: Any] else { return nil }
        var result: [String: Any] = [:]
        for (key, entry) in mapping { result[String(describing: key.base)] = entry }
        return result
    }

    static func sequence(_ value: Any?) -> [Any]? { value as? [Any] }

    /// A scalar as text. Booleans and numbers (unquoted in the file) come back as YAML would print them.
    static func scalar(_ value: Any?) -> String? {
        switch value {
        case let text as String: return text
        case let flag as Bool: return flag ? "true" : "false"
        case let number as Int: return String(number)
        case let number as Double: return String(number)
        default: return nil
        }
    }

    /// A list of scalars, or one scalar as a one-element list.
    static func scalars(_ value: Any?) -> [String]? {
        if let list = sequence(value) { return list.compactMap { scalar($0) } }
        return scalar(value).map { [$0] }
    }
}

/// A docker-compose.yml, parsed with Yams into plain dictionaries.
struct ComposeFile {
    var root: [String: Any]

    /// Parses the file; nil with the reason when it is not YAML or not a mapping.
    static func parse(_ text: String) -> (ComposeFile?, String?) {
        let loaded: Any?
        do { loaded = try Yams.load(yaml: text) } catch {
            return (nil, "docker-compose.yml is not valid YAML: \(error)")
        }
        guard let root = YAMLValue.mapping(loaded) else {
            return (nil, "docker-compose.yml must be a mapping at the top level")
        }
        return (ComposeFile(root: root), nil)
    }

    /// This file with `override` laid over it as `docker compose -f this -f override` does for what our
    /// files use: mappings merge key by key (services, environment, depends_on, volumes), anything else
    /// (command, image, ports) is replaced by the override's.
    func merging(_ override: ComposeFile) -> ComposeFile {
        ComposeFile(root: Self.merge(root, override.root))
    }

    private static func merge(_ base: [String: Any], _ override: [String: Any]) -> [String: Any] {
        var result = base
        for (key, value) in override {
            if let overriding = YAMLValue.mapping(value), let existing = YAMLValue.mapping(base[key]) {
                result[key] = merge(existing, overriding)
            } else if value is NSNull, YAMLValue.mapping(base[key]) != nil {
                continue  // `volumes:` with nothing under it adds nothing
            } else {
                result[key] = value
            }
        }
        return result
    }

    /// Services in name order; entries that are not mappings are left out (the structure check reports them).
    var services: [ComposeService] {
        guard let mapping = YAMLValue.mapping(root["services"]) else { return [] }
        return mapping.keys.sorted().compactMap { name in
            YAMLValue.mapping(mapping[name]).map { ComposeService(name: name, body: $0) }
        }
    }

    var serviceNames: Set<String> { Set(services.map(\.name)) }

    func service(_ name: String) -> ComposeService? { services.first { $0.name == name } }

    /// The service a host name reaches inside the compose network: by service name or `hostname`.
    func service(reachedAs host: String) -> ComposeService? {
        services.first { $0.name == host } ?? services.first { $0.hostname == host }
    }

    /// Names declared under the top-level `volumes`.
    var declaredVolumes: Set<String> {
        guard let mapping = YAMLValue.mapping(root["volumes"]) else { return [] }
        return Set(mapping.keys)
    }
}

/// One mount of a service's `volumes`.
struct VolumeMount {
    /// A named volume's name; nil for bind mounts and anonymous volumes.
    var namedVolume: String?
    var target: String
}

struct ComposeService {
    let name: String
    let body: [String: Any]

    var image: String? { YAMLValue.scalar(body["image"]) }
    var hostname: String? { YAMLValue.scalar(body["hostname"]) }
    var hasBuild: Bool { body["build"] != nil }

    /// The Dockerfile a `build` uses, relative to the compose file's directory ("Dockerfile" for `build: .`).
    var buildDockerfile: String? {
        guard let build = body["build"] else { return nil }
        var context = "."
        var dockerfile = "Dockerfile"
        if let text = YAMLValue.scalar(build) {
            context = text
        } else if let mapping = YAMLValue.mapping(build) {
            context = YAMLValue.scalar(mapping["context"]) ?? "."
            dockerfile = YAMLValue.scalar(mapping["dockerfile"]) ?? "Dockerfile"
        }
        return Paths.normalise(dockerfile.hasPrefix("/") ? dockerfile : context + "/" + dockerfile)
    }

    /// `environment` as a mapping, from either of compose's forms (mapping, or list of KEY=VALUE).
    var environment: [String: String] {
        if let mapping = YAMLValue.mapping(body["environment"]) {
            var result: [String: String] = [:]
            for (key, value) in mapping { result[key] = YAMLValue.scalar(value) ?? "" }
            return result
        }
        var result: [String: String] = [:]
        for entry in YAMLValue.sequence(body["environment"])?.compactMap({ YAMLValue.scalar($0) }) ?? [] {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return result
    }

    /// `command` as words: the list form as is, the string form split as a shell would (quotes respected).
    var command: [String]? { Self.words(body["command"]) }
    var entrypoint: [String]? { Self.words(body["entrypoint"]) }

    static func words(_ value: Any?) -> [String]? {
        if let list = YAMLValue.sequence(value) { return list.map { YAMLValue.scalar($0) ?? "" } }
        guard let text = YAMLValue.scalar(value) else { return nil }
        return ShellWords.split(text)
    }

    /// `depends_on` from either form (list of names, or mapping of name to options).
    var dependsOn: [(service: String, condition: String?)] {
        if let list = YAMLValue.sequence(body["depends_on"]) {
            return list.compactMap { YAMLValue.scalar($0) }.map { ($0, nil) }
        }
        guard let mapping = YAMLValue.mapping(body["depends_on"]) else { return [] }
        return mapping.keys.sorted().map { name in
            (name, YAMLValue.mapping(mapping[name]).flatMap { YAMLValue.scalar($0["condition"]) })
        }
    }

    var volumeMounts: [VolumeMount] {
        guard let list = YAMLValue.sequence(body["volumes"]) else { return [] }
        return list.compactMap { entry in
            if let short = YAMLValue.scalar(entry) {
                let parts = short.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                if parts.count == 1 { return VolumeMount(namedVolume: nil, target: parts[0]) }
                let source = parts[0]
                let isPath = source.hasPrefix("/") || source.hasPrefix(".") || source.hasPrefix("~") || source.hasPrefix("$")
                return VolumeMount(namedVolume: isPath ? nil : source, target: parts[1])
            }
            guard let long = YAMLValue.mapping(entry), let target = YAMLValue.scalar(long["target"]) else { return nil }
            let type = YAMLValue.scalar(long["type"]) ?? "volume"
            return VolumeMount(namedVolume: type == "volume" ? YAMLValue.scalar(long["source"]) : nil, target: target)
        }
    }

    var healthcheck: [String: Any]? { YAMLValue.mapping(body["healthcheck"]) }

    /// `-X key=value` properties given on the command line (`-X k=v`, `-Xk=v`).
    var kafkaProperties: [String: String] {
        guard let words = command else { return [:] }
        var result: [String: String] = [:]
        var index = 0
        while index < words.count {
            var assignment: String?
            if words[index] == "-X", index + 1 < words.count {
                assignment = words[index + 1]
                index += 1
            } else if words[index].hasPrefix("-X"), words[index].count > 2 {
                assignment = String(words[index].dropFirst(2))
            }
            if let assignment, let equals = assignment.firstIndex(of: "=") {
                result[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
            }
            index += 1
        }
        return result
    }

    /// The value of a long option (`--name value` or `--name=value`) on the command line.
    func option(_ name: String) -> String? {
        guard let words = command else { return nil }
        for (index, word) in words.enumerated() {
            if word == "--\(name)", index + 1 < words.count { return words[index + 1] }
            if word.hasPrefix("--\(name)=") { return String(word.dropFirst(name.count + 3)) }
        }
        return nil
    }
}

/// Splits a command string into words the way compose does (a POSIX shell's quoting, no expansion).
enum ShellWords {
    static func split(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if let open = quote {
                if character == open { quote = nil } else if character == "\\" && open == "\"" { escaped = true } else { current.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
                inWord = true
            } else if character == "\\" {
                escaped = true
                inWord = true
            } else if character.isWhitespace {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }
}

enum Paths {
    /// Removes `.` components and `a/..` pairs; keeps a leading `/`.
    static func normalise(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    /// Whether `path` is `directory` or lies beneath it.
    static func isWithin(_ path: String, _ directory: String) -> Bool {
        let path = normalise(path), directory = normalise(directory)
        return path == directory || path.hasPrefix(directory.hasSuffix("/") ? directory : directory + "/")
    }
}

/// An image reference split into repository (Docker Hub's `docker.io/` and `library/` dropped), tag and digest.
struct ImageReference: Equatable {
    var repository: String
    var tag: String?
    var digest: String?

    init(_ reference: String) {
        var rest = reference
        if let at = rest.firstIndex(of: "@") {
            digest = String(rest[rest.index(after: at)...])
            rest = String(rest[..<at])
        }
        let lastSlash = rest.lastIndex(of: "/")
        if let colon = rest.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            tag = String(rest[rest.index(after: colon)...])
            rest = String(rest[..<colon])
        }
        for prefix in ["docker.io/", "index.docker.io/", "registry-1.docker.io/"] where rest.hasPrefix(prefix) {
            rest.removeFirst(prefix.count)
        }
        if rest.hasPrefix("library/") { rest.removeFirst("library/".count) }
        repository = rest
    }

    /// A tag that names a version (or a digest): not missing, not `latest`.
    var isPinned: Bool {
        if digest != nil { return true }
        guard let tag, !tag.isEmpty else { return false }
        return tag != "latest"
    }
}
