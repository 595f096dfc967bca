import Foundation
import Kafka
import Yams

/// One topic as topics.yaml declares it.
public struct TopicDeclaration: Sendable, Equatable {
    public var name: String
    public var description: String
    public var partitions: Int32
    public var replicationFactor: Int16
    public var config: [String: String]
    /// Topics of one group share their partition count and key (see topics.yaml).
    public var copartition: String?

    public var specification: TopicSpecification {
        TopicSpecification(name: name, partitions: partitions, replicationFactor: replicationFactor, config: config)
    }
}

/// The parsed topics.yaml.
public struct TopicDeclarations: Sendable, Equatable {
    public var topics: [TopicDeclaration]

    public static let rawTopicPrefix = "alm.raw."

    public subscript(name: String) -> TopicDeclaration? { topics.first { $0.name == name } }

    /// Every topic with `factor` copies instead of its declared replication factor: how many copies a
    /// topic has is the deployment's choice (one on a single broker, three on a cluster), while names,
    /// partitions and retention stay those of topics.yaml.
    public func replicated(_ factor: Int16) -> TopicDeclarations {
        TopicDeclarations(topics: topics.map { topic in
            var copy = topic
            copy.replicationFactor = factor
            return copy
        })
    }

    /// The per-source raw topics (`alm.raw.<source>`).
    public var rawTopics: [TopicDeclaration] { topics.filter { $0.name.hasPrefix(Self.rawTopicPrefix) } }

    public static func load(file: URL) throws(ConfigurationError) -> TopicDeclarations {
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw ConfigurationError("cannot read topic declarations \(file.path): \(error.localizedDescription)")
        }
        return try parse(yaml: text, origin: file.lastPathComponent)
    }

    public static func parse(yaml text: String, origin: String = "topics.yaml") throws(ConfigurationError) -> TopicDeclarations {
        guard let root = try YAMLDocument.compose(text, origin: origin) else {
            throw ConfigurationError("\(origin): empty")
        }
        var topicsNode: Node?
        for (key, value) in try YAMLDocument.mapping(root, at: origin) {
            switch key {
            case "topics": topicsNode = value
            default:
                // Other top-level keys hold YAML anchors shared by the declarations (e.g. raw_config).
                continue
            }
        }
        guard let topicsNode, let list = topicsNode.sequence else {
            throw ConfigurationError("\(origin): expected a list under \"topics\"")
        }
        var topics: [TopicDeclaration] = []
        for (index, node) in list.enumerated() {
            topics.append(try declaration(node, at: "\(origin): topics[\(index)]"))
        }
        let declarations = TopicDeclarations(topics: topics)
        try declarations.validate(origin: origin)
        return declarations
    }

    private static let allowedKeys: Set<String> = ["name", "description", "partitions", "replication_factor", "config", "copartition"]

    private static func declaration(_ node: Node, at path: String) throws(ConfigurationError) -> TopicDeclaration {
        var fields: [String: Node] = [:]
        for (key, value) in try YAMLDocument.mapping(node, at: path) {
            guard allowedKeys.contains(key) else {
                throw ConfigurationError("\(path): unknown key \"\(key)\" (known: \(allowedKeys.sorted().joined(separator: ", ")))")
            }
            fields[key] = value
        }
        guard let nameNode = fields["name"] else { throw ConfigurationError("\(path): missing name") }
        let name = try YAMLDocument.scalar(nameNode, at: "\(path).name")
        let at = "\(path) (\(name))"
        func required(_ key: String) throws(ConfigurationError) -> Node {
            guard let value = fields[key] else { throw ConfigurationError("\(at): missing \(key)") }
            return value
        }
        let partitions = try YAMLDocument.integer(try required("partitions"), at: "\(at).partitions")
        let replication = try YAMLDocument.integer(try required("replication_factor"), at: "\(at).replication_factor")
        guard (1...10_000).contains(partitions) else { throw ConfigurationError("\(at): partitions must be 1...10000, got \(partitions)") }
        guard (1...Int(Int16.max)).contains(replication) else { throw ConfigurationError("\(at): replication_factor must be at least 1") }
        var config: [String: String] = [:]
        if let configNode = fields["config"] {
            for (key, value) in try YAMLDocument.mapping(configNode, at: "\(at).config") {
                config[key] = try YAMLDocument.scalar(value, at: "\(at).config.\(key)")
            }
        }
        return TopicDeclaration(
            name: name,
            description: try YAMLDocument.scalar(try required("description"), at: "\(at).description"),
            partitions: Int32(partitions), replicationFactor: Int16(replication), config: config,
            copartition: try fields["copartition"].map { node throws(ConfigurationError) in
                try YAMLDocument.scalar(node, at: "\(at).copartition")
            })
    }

    func validate(origin: String) throws(ConfigurationError) {
        var seen: Set<String> = []
        for topic in topics {
            guard Self.isValidTopicName(topic.name) else {
                throw ConfigurationError("\(origin): \"\(topic.name)\" is not a valid Kafka topic name ([a-zA-Z0-9._-], 1 to 249 characters)")
            }
            guard seen.insert(topic.name).inserted else { throw ConfigurationError("\(origin): topic \(topic.name) declared twice") }
            guard !topic.description.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ConfigurationError("\(origin): topic \(topic.name) needs a description")
            }
        }
        for raw in rawTopics where raw.copartition == nil {
            throw ConfigurationError("\(origin): raw topic \(raw.name) must belong to a copartition group")
        }
        let groups = Dictionary(grouping: topics.filter { $0.copartition != nil }, by: { $0.copartition! })
        for (group, members) in groups.sorted(by: { $0.key < $1.key }) {
            let counts = Set(members.map(\.partitions))
            if counts.count > 1 {
                let detail = members.map { "\($0.name)=\($0.partitions)" }.joined(separator: ", ")
                throw ConfigurationError("\(origin): copartition group \"\(group)\" mixes partition counts: \(detail)")
            }
        }
    }

    static func isValidTopicName(_ name: String) -> Bool {
        guard (1...249).contains(name.utf8.count), name != ".", name != ".." else { return false }
        return name.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }
}
