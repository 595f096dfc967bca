import Foundation
import Kafka
import Yams

/// Settings of every `alm` command. Layers: built-in defaults, then the `--config` file, then flags
/// (`-X key=value` for librdkafka properties). Every key is documented in docs/configuration.md.
public struct ALMConfiguration: Sendable, Equatable {
    /// librdkafka properties, passed through untouched.
    public var kafka: KafkaConfiguration
    /// Where topic declarations are read from.
    public var topicsFile: String
    public var processor = ProcessorOptions()
    public var snapshots = SnapshotOptions()
    public var collectors = CollectorOptions()
    public var serve = ServeOptions()

    /// `alm serve`: the HTTP read side.
    public struct ServeOptions: Sendable, Equatable {
        public var host = "127.0.0.1"
        public var port = 8080
        /// Hex SHA-256 of the admin API key; nil disables the admin endpoints (every call is 401).
        public var adminKeySHA256: String?
        /// Requests per minute per client address on the public endpoints; 0 turns the limit off.
        public var rateLimitPerMinute = 600
        /// Origins allowed by CORS; `*` allows any. Empty: no CORS headers.
        public var corsOrigins: [String] = []
        /// Attention score: weight per source type, and source (or `source/metric`) → type.
        public var attentionWeights: [String: Double] = [:]
        public var attentionSourceTypes: [String: String] = [:]
    }

    public struct CollectorOptions: Sendable, Equatable {
        /// Sent with every request; name a contact (APIs such as Crossref's give polite clients priority).
        public var userAgent: String?
        public var sources: [String: SourceOptions] = [:]

        public struct SourceOptions: Sendable, Equatable {
            public var baseURL: String?
            public var requestsPerSecond: Double?
            /// HTTP header → name of the environment variable holding its value (credentials stay out of files).
            public var headersFromEnvironment: [String: String] = [:]
            /// Report sources (pmc, counter): journals or SUSHI customer ids, the first month, and query
            /// parameters whose values come from the environment (user, password, api_key, requestor_id).
            public var reportTargets: [String] = []
            public var firstMonth: String?
            public var restateMonths: Int?
            public var queryFromEnvironment: [String: String] = [:]
            /// Pull sources: days between refreshes of a work by its age tier (published within 30 days,
            /// within a year, older); nil keeps the default (1, 7, 30).
            public var refreshDays: (young: Double, recent: Double, older: Double)?
            /// Sources with a site per language (wikipedia): the language codes to ask; nil keeps ["en"].
            public var languages: [String]?

            public static func == (a: SourceOptions, b: SourceOptions) -> Bool {
                a.baseURL == b.baseURL && a.requestsPerSecond == b.requestsPerSecond && a.headersFromEnvironment == b.headersFromEnvironment
                    && a.reportTargets == b.reportTargets && a.firstMonth == b.firstMonth && a.restateMonths == b.restateMonths
                    && a.queryFromEnvironment == b.queryFromEnvironment && a.refreshDays.map { [$0.young, $0.recent, $0.older] }
                    == b.refreshDays.map { [$0.young, $0.recent, $0.older] } && a.languages == b.languages
            }
        }
    }

    public struct ProcessorOptions: Sendable, Equatable {
        public var groupID = "alm-processor"
        /// The COUNTER-Robots list; nil searches the usual places (see `robotsFileCandidates`).
        public var robotsFile: String?
        /// source → metric → category name, or "none" to leave the metric uncategorised for the source.
        public var categoryOverrides: [String: [String: String]] = [:]
        public var batchRecords = 5_000
        /// How far behind its source's latest usage event a usage record may arrive before it is late.
        public var usageLatenessSeconds = 172_800
    }

    public struct SnapshotOptions: Sendable, Equatable {
        public var retain = 10
        /// Seconds between snapshots written by `alm process`; 0 writes none while running.
        public var intervalSeconds = 0
    }

    public init(kafka: KafkaConfiguration = KafkaConfiguration(), topicsFile: String = "topics.yaml") {
        self.kafka = kafka
        self.topicsFile = topicsFile
    }

    /// Where the robots list is looked for when `processor.robots_file` is not set.
    public static let robotsFileCandidates = [
        "data/counter-robots/COUNTER_Robots_list.json",
        "/etc/alm/counter-robots/COUNTER_Robots_list.json",
    ]

    static let knownKeys: Set<String> = ["kafka", "topics_file", "processor", "snapshots", "collectors", "serve"]

    /// Reads a YAML configuration file.
    public static func load(file: URL) throws(ConfigurationError) -> ALMConfiguration {
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw ConfigurationError("cannot read configuration file \(file.path): \(error.localizedDescription)")
        }
        return try parse(yaml: text, origin: file.path)
    }

    public static func parse(yaml text: String, origin: String = "configuration") throws(ConfigurationError) -> ALMConfiguration {
        let root = try YAMLDocument.compose(text, origin: origin)
        var configuration = ALMConfiguration()
        guard let root else { return configuration }
        let mapping = try YAMLDocument.mapping(root, at: origin)
        for (key, value) in mapping {
            switch key {
            case "kafka":
                let properties = try YAMLDocument.mapping(value, at: "\(origin): kafka")
                var kafka = KafkaConfiguration()
                for (name, node) in properties { kafka[name] = try YAMLDocument.scalar(node, at: "\(origin): kafka.\(name)") }
                configuration.kafka = kafka
            case "topics_file":
                configuration.topicsFile = try YAMLDocument.scalar(value, at: "\(origin): topics_file")
            case "processor":
                for (name, node) in try YAMLDocument.mapping(value, at: "\(origin): processor") {
                    let at = "\(origin): processor.\(name)"
                    switch name {
                    case "group_id": configuration.processor.groupID = try YAMLDocument.scalar(node, at: at)
                    case "robots_file": configuration.processor.robotsFile = try YAMLDocument.scalar(node, at: at)
                    case "batch_records":
                        configuration.processor.batchRecords = try YAMLDocument.integer(node, at: at)
                        guard configuration.processor.batchRecords >= 1 else { throw ConfigurationError("\(at): must be at least 1") }
                    case "usage_lateness_seconds":
                        configuration.processor.usageLatenessSeconds = try YAMLDocument.integer(node, at: at)
                        guard (0...365 * 86_400).contains(configuration.processor.usageLatenessSeconds) else {
                            throw ConfigurationError("\(at): must lie in 0...31536000 (a year)")
                        }
                    case "categories":
                        for (source, metrics) in try YAMLDocument.mapping(node, at: at) {
                            for (metric, category) in try YAMLDocument.mapping(metrics, at: "\(at).\(source)") {
                                configuration.processor.categoryOverrides[source, default: [:]][metric] =
                                    try YAMLDocument.scalar(category, at: "\(at).\(source).\(metric)")
                            }
                        }
                    default: throw ConfigurationError("\(at): unknown key (known: batch_records, categories, group_id, robots_file, usage_lateness_seconds)")
                    }
                }
            case "snapshots":
                for (name, node) in try YAMLDocument.mapping(value, at: "\(origin): snapshots") {
                    let at = "\(origin): snapshots.\(name)"
                    switch name {
                    case "retain":
                        configuration.snapshots.retain = try YAMLDocument.integer(node, at: at)
                        guard configuration.snapshots.retain >= 1 else { throw ConfigurationError("\(at): must be at least 1") }
                    case "interval_seconds":
                        configuration.snapshots.intervalSeconds = try YAMLDocument.integer(node, at: at)
                        guard configuration.snapshots.intervalSeconds >= 0 else { throw ConfigurationError("\(at): must be 0 or more") }
                    default: throw ConfigurationError("\(at): unknown key (known: interval_seconds, retain)")
                    }
                }
            case "collectors":
                configuration.collectors = try parseCollectors(value, at: "\(origin): collectors")
            case "serve":
                configuration.serve = try parseServe(value, at: "\(origin): serve")
            default:
                throw ConfigurationError("\(origin): unknown key \"\(key)\" (known: \(knownKeys.sorted().joined(separator: ", ")))")
            }
        }
        return configuration
    }

    private static func parseCollectors(_ node: Node, at path: String) throws(ConfigurationError) -> CollectorOptions {
        var options = CollectorOptions()
        for (name, value) in try YAMLDocument.mapping(node, at: path) {
            if name == "user_agent" {
                options.userAgent = try YAMLDocument.scalar(value, at: "\(path).user_agent")
                continue
            }
            var source = CollectorOptions.SourceOptions()
            for (key, setting) in try YAMLDocument.mapping(value, at: "\(path).\(name)") {
                let at = "\(path).\(name).\(key)"
                switch key {
                case "base_url":
                    let url = try YAMLDocument.scalar(setting, at: at)
                    guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw ConfigurationError("\(at): expected an http(s) URL") }
                    source.baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
                case "requests_per_second":
                    guard let rate = Double(try YAMLDocument.scalar(setting, at: at)), rate > 0 else {
                        throw ConfigurationError("\(at): expected a positive number")
                    }
                    source.requestsPerSecond = rate
                case "headers_from_env":
                    for (header, variable) in try YAMLDocument.mapping(setting, at: at) {
                        source.headersFromEnvironment[header] = try YAMLDocument.scalar(variable, at: "\(at).\(header)")
                    }
                case "query_from_env":
                    for (parameter, variable) in try YAMLDocument.mapping(setting, at: at) {
                        source.queryFromEnvironment[parameter] = try YAMLDocument.scalar(variable, at: "\(at).\(parameter)")
                    }
                case "report_targets":
                    guard let items = setting.sequence else { throw ConfigurationError("\(at): expected a list") }
                    source.reportTargets = try items.enumerated().map { index, item throws(ConfigurationError) in
                        try YAMLDocument.scalar(item, at: "\(at)[\(index)]")
                    }
                case "first_month":
                    let month = try YAMLDocument.scalar(setting, at: at)
                    let parts = month.split(separator: "-")
                    guard parts.count == 2, parts[0].count == 4, let number = Int(parts[1]), (1...12).contains(number), Int(parts[0]) != nil else {
                        throw ConfigurationError("\(at): expected YYYY-MM")
                    }
                    source.firstMonth = month
                case "refresh_days":
                    var tiers: [String: Double] = [:]
                    for (tier, value) in try YAMLDocument.mapping(setting, at: at) {
                        guard ["young", "recent", "older"].contains(tier) else {
                            throw ConfigurationError("\(at).\(tier): unknown tier (known: young, recent, older)")
                        }
                        guard let days = Double(try YAMLDocument.scalar(value, at: "\(at).\(tier)")), days > 0 else {
                            throw ConfigurationError("\(at).\(tier): expected a positive number of days")
                        }
                        tiers[tier] = days
                    }
                    source.refreshDays = (tiers["young"] ?? 1, tiers["recent"] ?? 7, tiers["older"] ?? 30)
                case "languages":
                    guard let items = setting.sequence, !items.isEmpty else { throw ConfigurationError("\(at): expected a non-empty list") }
                    source.languages = try items.enumerated().map { index, item throws(ConfigurationError) in
                        let code = try YAMLDocument.scalar(item, at: "\(at)[\(index)]")
                        // A Wikipedia's host name: en, de, zh-min-nan, simple, ...
                        guard (2...12).contains(code.count), code.allSatisfy({ ("a"..."z").contains($0) || $0 == "-" }) else {
                            throw ConfigurationError("\(at)[\(index)]: \(code) is not a language code (lower-case letters and -)")
                        }
                        return code
                    }
                case "restate_months":
                    let months = try YAMLDocument.integer(setting, at: at)
                    guard (0...24).contains(months) else { throw ConfigurationError("\(at): must lie in 0...24") }
                    source.restateMonths = months
                default:
                    throw ConfigurationError("\(at): unknown key (known: base_url, first_month, headers_from_env, languages, "
                        + "query_from_env, refresh_days, report_targets, requests_per_second, restate_months)")
                }
            }
            options.sources[name] = source
        }
        return options
    }

    private static func parseServe(_ node: Node, at path: String) throws(ConfigurationError) -> ServeOptions {
        var options = ServeOptions()
        for (key, value) in try YAMLDocument.mapping(node, at: path) {
            let at = "\(path).\(key)"
            switch key {
            case "host": options.host = try YAMLDocument.scalar(value, at: at)
            case "port":
                options.port = try YAMLDocument.integer(value, at: at)
                guard (0...65_535).contains(options.port) else { throw ConfigurationError("\(at): must lie in 0...65535") }
            case "admin_key_sha256":
                let hex = try YAMLDocument.scalar(value, at: at).lowercased()
                guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
                    throw ConfigurationError("\(at): expected 64 hex digits (the SHA-256 of the key: `alm serve --hash-key`)")
                }
                options.adminKeySHA256 = hex
            case "rate_limit_per_minute":
                options.rateLimitPerMinute = try YAMLDocument.integer(value, at: at)
                guard options.rateLimitPerMinute >= 0 else { throw ConfigurationError("\(at): must be 0 (off) or more") }
            case "cors_origins":
                guard let items = value.sequence else { throw ConfigurationError("\(at): expected a list") }
                options.corsOrigins = try items.enumerated().map { index, item throws(ConfigurationError) in
                    try YAMLDocument.scalar(item, at: "\(at)[\(index)]")
                }
            case "attention":
                for (name, section) in try YAMLDocument.mapping(value, at: at) {
                    switch name {
                    case "weights":
                        for (type, weight) in try YAMLDocument.mapping(section, at: "\(at).weights") {
                            let text = try YAMLDocument.scalar(weight, at: "\(at).weights.\(type)")
                            guard let number = Double(text), number.isFinite, number >= 0 else {
                                throw ConfigurationError("\(at).weights.\(type): expected a number of 0 or more, got \"\(text)\"")
                            }
                            options.attentionWeights[type] = number
                        }
                    case "source_types":
                        for (source, type) in try YAMLDocument.mapping(section, at: "\(at).source_types") {
                            options.attentionSourceTypes[source] = try YAMLDocument.scalar(type, at: "\(at).source_types.\(source)")
                        }
                    default: throw ConfigurationError("\(at).\(name): unknown key (known: source_types, weights)")
                    }
                }
            default:
                throw ConfigurationError("\(at): unknown key (known: admin_key_sha256, attention, cors_origins, host, port, rate_limit_per_minute)")
            }
        }
        return options
    }

    /// Applies `-X key=value` flags, which beat the file.
    public func overriding(kafkaAssignments: [String]) throws(ConfigurationError) -> ALMConfiguration {
        var copy = self
        for assignment in kafkaAssignments {
            do {
                let (key, value) = try KafkaConfiguration.parseAssignment(assignment)
                copy.kafka[key] = value
            } catch {
                throw ConfigurationError("-X \(assignment): \(error.message)")
            }
        }
        return copy
    }
}

public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Small helpers over Yams' node tree that report where a value is wrong.
enum YAMLDocument {
    static func compose(_ text: String, origin: String) throws(ConfigurationError) -> Node? {
        do { return try Yams.compose(yaml: text) } catch {
            throw ConfigurationError("\(origin): invalid YAML: \(error)")
        }
    }

    /// A mapping's entries in document order.
    static func mapping(_ node: Node, at path: String) throws(ConfigurationError) -> [(String, Node)] {
        guard let mapping = node.mapping else { throw ConfigurationError("\(path): expected a mapping") }
        var entries: [(String, Node)] = []
        var seen: Set<String> = []
        for (key, value) in mapping {
            guard let name = key.scalar?.string else { throw ConfigurationError("\(path): keys must be strings") }
            guard seen.insert(name).inserted else { throw ConfigurationError("\(path): duplicate key \"\(name)\"") }
            entries.append((name, value))
        }
        return entries
    }

    static func scalar(_ node: Node, at path: String) throws(ConfigurationError) -> String {
        guard let scalar = node.scalar else { throw ConfigurationError("\(path): expected a single value") }
        return scalar.string
    }

    static func integer(_ node: Node, at path: String) throws(ConfigurationError) -> Int {
        let text = try scalar(node, at: path)
        guard let value = Int(text) else { throw ConfigurationError("\(path): expected an integer, got \"\(text)\"") }
        return value
    }
}
