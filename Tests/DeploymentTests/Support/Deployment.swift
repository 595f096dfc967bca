import Foundation

/// The deployment files, parsed: what every check reads.
struct Deployment {
    var compose: ComposeFile
    var dockerfile: DockerfileModel
    var dockerignore: String
    /// Whether a path relative to the repository root exists (COPY sources, build Dockerfiles).
    var fileExists: (String) -> Bool

    /// `alm` subcommands a service may run (shared/design.md, "Command line"). `dev` is left out on
    /// purpose: the development broker has no place in a container.
    static let almSubcommands: Set<String> = [
        "topics", "version", "process", "collect", "serve", "snapshot", "replay", "works", "bench", "events",
    ]
    /// Subcommands that never connect to Kafka.
    static let offlineSubcommands: Set<String> = ["version"]
    /// Subcommands that do their work and exit: restarting them would repeat it (or loop on an error).
    static let oneShotSubcommands: Set<String> = ["topics", "version", "works", "snapshot", "replay", "bench"]

    static let kafkaRepository = "apache/kafka"

    /// The three-broker profile, laid over docker-compose.yml.
    static let clusterOverride = "docker-compose.cluster.yml"

    /// Reads docker-compose.yml (with `overrides` laid over it in order), Dockerfile and .dockerignore
    /// from the repository.
    static func load(overrides: [String] = []) throws -> Deployment {
        var compose = try parseCompose("docker-compose.yml")
        for file in overrides { compose = compose.merging(try parseCompose(file)) }
        return Deployment(
            compose: compose,
            dockerfile: DockerfileModel(try RepositoryFiles.read("Dockerfile")),
            dockerignore: try RepositoryFiles.read(".dockerignore"),
            fileExists: RepositoryFiles.exists)
    }

    static func parseCompose(_ file: String) throws -> ComposeFile {
        let (compose, problem) = ComposeFile.parse(try RepositoryFiles.read(file))
        guard let compose else { throw RepositoryFiles.Missing(description: problem.map { "\(file): \($0)" } ?? file) }
        return compose
    }

    // MARK: Derived facts

    var kafkaServices: [ComposeService] {
        compose.services.filter { ImageReference($0.image ?? "").repository == Self.kafkaRepository }
    }

    /// Services that run the `alm` image: built from ./Dockerfile, or using the image such a service tags.
    var almServices: [ComposeService] {
        let built = compose.services.filter { $0.buildDockerfile == "Dockerfile" }
        let images = Set(built.compactMap(\.image))
        return compose.services.filter { service in
            built.contains { $0.name == service.name } || service.image.map(images.contains) == true
        }
    }

    var buildStage: DockerfileModel.Stage? {
        dockerfile.stages.first { !DockerfileModel.swiftBuilds($0).isEmpty }
    }

    var runtimeStage: DockerfileModel.Stage? { dockerfile.stages.last }

    /// A stage and the stages it starts from, nearest first.
    func lineage(of stage: DockerfileModel.Stage) -> [DockerfileModel.Stage] {
        var result = [stage]
        var current = stage
        while let parent = current.parentStage {
            current = dockerfile.stages[parent]
            result.append(current)
        }
        return result
    }

    func aptInstalls(of stage: DockerfileModel.Stage) -> Set<String> {
        lineage(of: stage).reduce(into: Set<String>()) { $0.formUnion(DockerfileModel.aptInstalls($1)) }
    }

    /// Files in the final image that came from the build context: image path → context path.
    var imageFiles: [String: String] {
        guard let runtimeStage else { return [:] }
        return lineage(of: runtimeStage).reversed().reduce(into: [:]) { result, stage in
            result.merge(DockerfileModel.contextFiles(stage)) { _, new in new }
        }
    }

    /// Names of the services a service waits for, directly or through others.
    func transitiveDependencies(of service: ComposeService) -> Set<String> {
        var seen: Set<String> = []
        var queue = service.dependsOn.map(\.service)
        while let next = queue.popLast() {
            guard seen.insert(next).inserted, let dependency = compose.service(next) else { continue }
            queue.append(contentsOf: dependency.dependsOn.map(\.service))
        }
        return seen
    }
}

/// A Kafka listener as written in KAFKA_LISTENERS / KAFKA_ADVERTISED_LISTENERS: `NAME://host:port`.
struct KafkaListener: CustomStringConvertible {
    var name: String
    var host: String
    var port: Int?

    var description: String { "\(name)://\(host):\(port.map(String.init) ?? "?")" }

    static func parseList(_ text: String?) -> [KafkaListener] {
        guard let text else { return [] }
        return text.split(separator: ",").compactMap { entry in
            let entry = entry.trimmingCharacters(in: .whitespaces)
            guard let schemeEnd = entry.range(of: "://") else { return nil }
            let address = HostPort(String(entry[schemeEnd.upperBound...]))
            return KafkaListener(name: String(entry[..<schemeEnd.lowerBound]), host: address.host, port: address.port)
        }
    }
}

/// `host:port`, `[v6]:port` or `host`.
struct HostPort {
    var host: String
    var port: Int?

    init(_ text: String) {
        var text = text.trimmingCharacters(in: .whitespaces)
        if let scheme = text.range(of: "://") { text = String(text[scheme.upperBound...]) }
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            port = rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            port = Int(text[text.index(after: colon)...])
        } else {
            host = text
            port = nil
        }
    }
}

/// `.dockerignore` semantics: patterns in order, `!` re-includes, a pattern matching a directory
/// excludes everything beneath it, `*` stays within one path component and `**` crosses them.
struct DockerIgnore {
    private var rules: [(negated: Bool, regex: NSRegularExpression)] = []

    init(_ text: String) {
        for rawLine in text.components(separatedBy: "\n") {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let negated = line.hasPrefix("!")
            if negated { line.removeFirst() }
            line = Paths.normalise(line.hasPrefix("/") ? String(line.dropFirst()) : line)
            if let regex = try? NSRegularExpression(pattern: "^" + Self.regex(forGlob: line) + "$") {
                rules.append((negated, regex))
            }
        }
    }

    func isIgnored(_ path: String) -> Bool {
        let components = Paths.normalise(path).split(separator: "/").map(String.init)
        // The path itself and every directory above it: excluding a directory excludes its contents.
        let candidates = components.indices.map { components[...$0].joined(separator: "/") }
        var ignored = false
        for rule in rules where candidates.contains(where: { Self.matches(rule.regex, $0) }) {
            ignored = !rule.negated
        }
        return ignored
    }

    private static func matches(_ regex: NSRegularExpression, _ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    private static func regex(forGlob glob: String) -> String {
        var result = ""
        var characters = Array(glob)[...]
        while let character = characters.popFirst() {
            switch character {
            case "*":
                if characters.first == "*" {
                    characters.removeFirst()
                    if characters.first == "/" { characters.removeFirst(); result += "(?:.*/)?" } else { result += ".*" }
                } else {
                    result += "[^/]*"
                }
            case "?": result += "[^/]"
            default: result += NSRegularExpression.escapedPattern(for: String(character))
            }
        }
        return result
    }
}
