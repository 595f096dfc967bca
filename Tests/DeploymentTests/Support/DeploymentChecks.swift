import Foundation

/// Each check returns the problems it finds, one sentence each naming the file, the place and what is
/// wrong; no problems means the check passes. The tests run them on the real files and on broken copies.
extension Deployment {
    // MARK: docker-compose.yml

    func composeStructureProblems() -> [String] {
        var problems: [String] = []
        if compose.root["version"] != nil {
            problems.append("docker-compose.yml: the top-level `version` key is obsolete in the Compose specification; remove it")
        }
        guard let services = YAMLValue.mapping(compose.root["services"]) else {
            return problems + ["docker-compose.yml: there is no `services` mapping at the top level"]
        }
        if services.isEmpty { problems.append("docker-compose.yml: `services` is empty") }
        for name in services.keys.sorted() where YAMLValue.mapping(services[name]) == nil {
            problems.append("docker-compose.yml: services.\(name) is not a mapping")
        }
        if let volumes = compose.root["volumes"], YAMLValue.mapping(volumes) == nil {
            problems.append("docker-compose.yml: the top-level `volumes` is not a mapping of volume names")
        }
        return problems
    }

    func pinnedImageProblems() -> [String] {
        compose.services.compactMap { service in
            guard let image = service.image else {
                return service.hasBuild ? nil : "docker-compose.yml: services.\(service.name) has neither `image` nor `build`"
            }
            if service.hasBuild || ImageReference(image).isPinned { return nil }
            return "docker-compose.yml: services.\(service.name).image \"\(image)\" must name an explicit version tag, not `latest` or none"
        }
    }

    func buildProblems() -> [String] {
        compose.services.compactMap { service in
            guard let dockerfile = service.buildDockerfile, !fileExists(dockerfile) else { return nil }
            return "docker-compose.yml: services.\(service.name).build uses \(dockerfile), which does not exist in the repository"
        }
    }

    func kafkaProblems() -> [String] {
        let brokers = kafkaServices
        guard !brokers.isEmpty else {
            return ["docker-compose.yml: no service runs the \(Self.kafkaRepository) image"]
        }
        var problems: [String] = []
        if brokers.count == 2 {
            problems.append("docker-compose.yml: 2 services run \(Self.kafkaRepository) (\(brokers.map(\.name).joined(separator: ", "))); a KRaft quorum of two stops when either stops: run one node or at least three")
        }
        for broker in brokers { problems += kraftProblems(broker, cluster: brokers) }
        if brokers.count > 1 { problems += clusterProblems(brokers) }
        return problems
    }

    /// Copies of each topic and of the internal topics, and the copies a write needs: 1 and 1 on one
    /// broker; 3 and 2 on a cluster, so that one broker may be down without refusing or losing a write.
    static func replication(brokers: Int) -> (factor: Int, minInSync: Int) {
        brokers == 1 ? (1, 1) : (3, 2)
    }

    /// What only a cluster can get wrong: nodes that clash, or that would not form one cluster.
    private func clusterProblems(_ brokers: [ComposeService]) -> [String] {
        var problems: [String] = []
        let ids = brokers.map { ($0.name, $0.environment["KAFKA_NODE_ID"] ?? "") }
        for (id, nodes) in Dictionary(grouping: ids, by: \.1) where nodes.count > 1 && !id.isEmpty {
            problems.append("docker-compose.yml: services \(nodes.map(\.0).sorted().joined(separator: ", ")) share KAFKA_NODE_ID \(id); every KRaft node needs its own")
        }
        let clusterIDs = Set(brokers.map { $0.environment["CLUSTER_ID"] ?? "" })
        if clusterIDs.count > 1 {
            problems.append("docker-compose.yml: the \(Self.kafkaRepository) services have different CLUSTER_IDs (\(clusterIDs.sorted().joined(separator: ", "))); they would not form one cluster")
        }
        let quorums = Set(brokers.map { $0.environment["KAFKA_CONTROLLER_QUORUM_VOTERS"] ?? "" })
        if quorums.count > 1 {
            problems.append("docker-compose.yml: the \(Self.kafkaRepository) services list different KAFKA_CONTROLLER_QUORUM_VOTERS (\(quorums.sorted().joined(separator: " / "))); every node must list the same quorum")
        }
        var owners: [String: String] = [:]
        for broker in brokers {
            for mount in broker.volumeMounts {
                guard let volume = mount.namedVolume else { continue }
                if let other = owners[volume], other != broker.name {
                    problems.append("docker-compose.yml: services \(other) and \(broker.name) both mount the volume \(volume); each broker needs its own data")
                }
                owners[volume] = broker.name
            }
        }
        return problems
    }

    private func kraftProblems(_ broker: ComposeService, cluster: [ComposeService]) -> [String] {
        let at = "docker-compose.yml: services.\(broker.name)"
        let env = broker.environment
        var problems: [String] = []
        func require(_ key: String, _ why: String) -> String? {
            guard let value = env[key], !value.isEmpty else {
                problems.append("\(at).environment.\(key) is missing: \(why)")
                return nil
            }
            return value
        }
        func list(_ text: String?) -> [String] {
            (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }

        let image = ImageReference(broker.image ?? "")
        if !image.isPinned {
            problems.append("\(at).image \"\(broker.image ?? "")\" must pin an \(Self.kafkaRepository) version tag (e.g. \(Self.kafkaRepository):3.9.1)")
        }

        // Roles and identity.
        if let roles = require("KAFKA_PROCESS_ROLES", "KRaft needs process.roles") {
            let set = Set(list(roles).map { $0.lowercased() })
            if !set.isSuperset(of: ["broker", "controller"]) {
                problems.append("\(at).environment.KAFKA_PROCESS_ROLES is \"\(roles)\": a single-node KRaft server must be both broker and controller")
            }
        }
        let nodeText = require("KAFKA_NODE_ID", "KRaft needs node.id")
        let nodeID = nodeText.flatMap { Int($0) }
        if let nodeText, nodeID == nil {
            problems.append("\(at).environment.KAFKA_NODE_ID \"\(nodeText)\" is not an integer")
        }

        // Listeners.
        var protocols: [String: String] = [:]
        if let map = require("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "every listener name needs a security protocol") {
            for pair in list(map) {
                let parts = pair.split(separator: ":", maxSplits: 1).map(String.init)
                if parts.count == 2 { protocols[parts[0]] = parts[1] } else {
                    problems.append("\(at).environment.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP entry \"\(pair)\" is not NAME:PROTOCOL")
                }
            }
        }
        let listeners = KafkaListener.parseList(require("KAFKA_LISTENERS", "the broker needs its listeners"))
        let advertised = KafkaListener.parseList(require("KAFKA_ADVERTISED_LISTENERS", "clients must be told a reachable address"))
        let controllerNames = list(require("KAFKA_CONTROLLER_LISTENER_NAMES", "KRaft needs controller.listener.names"))
        let listenerNames = Set(listeners.map(\.name))

        for name in Set(listeners.map(\.name) + advertised.map(\.name)).sorted() where protocols[name] == nil {
            problems.append("\(at): listener \(name) has no entry in KAFKA_LISTENER_SECURITY_PROTOCOL_MAP")
        }
        for name in controllerNames {
            if protocols[name] == nil {
                problems.append("\(at): controller listener \(name) (KAFKA_CONTROLLER_LISTENER_NAMES) is not in KAFKA_LISTENER_SECURITY_PROTOCOL_MAP")
            }
            if !listenerNames.contains(name) {
                problems.append("\(at): controller listener \(name) (KAFKA_CONTROLLER_LISTENER_NAMES) is not in KAFKA_LISTENERS")
            }
        }
        for listener in advertised {
            if controllerNames.contains(listener.name) {
                problems.append("\(at).environment.KAFKA_ADVERTISED_LISTENERS advertises the controller listener \(listener.name); a broker must not")
            }
            if !listenerNames.contains(listener.name) {
                problems.append("\(at).environment.KAFKA_ADVERTISED_LISTENERS names \(listener.name), which KAFKA_LISTENERS does not open")
            }
            if ["", "0.0.0.0", "::"].contains(listener.host) || listener.port == nil {
                problems.append("\(at).environment.KAFKA_ADVERTISED_LISTENERS entry \(listener) must name a host and port clients can reach")
            }
        }
        if let inter = require("KAFKA_INTER_BROKER_LISTENER_NAME", "the broker must know which listener it talks to itself on") {
            if controllerNames.contains(inter) || !listenerNames.contains(inter) || !advertised.contains(where: { $0.name == inter }) {
                problems.append("\(at).environment.KAFKA_INTER_BROKER_LISTENER_NAME \(inter) must be an advertised, non-controller listener of KAFKA_LISTENERS")
            }
        }

        // Quorum: every node of the deployment once, each at its own controller listener.
        if let votersText = require("KAFKA_CONTROLLER_QUORUM_VOTERS", "KRaft needs the controller quorum") {
            let voters = list(votersText)
            if cluster.count == 1, voters.count != 1 {
                problems.append("\(at).environment.KAFKA_CONTROLLER_QUORUM_VOTERS \"\(votersText)\" must list exactly one voter on a single node")
            } else if voters.count != cluster.count {
                problems.append("\(at).environment.KAFKA_CONTROLLER_QUORUM_VOTERS \"\(votersText)\" lists \(voters.count) voters for \(cluster.count) nodes (\(cluster.map(\.name).joined(separator: ", "))); list each node once")
            }
            for voter in voters {
                let parts = voter.split(separator: "@", maxSplits: 1).map(String.init)
                guard parts.count == 2, let id = Int(parts[0]) else {
                    problems.append("\(at).environment.KAFKA_CONTROLLER_QUORUM_VOTERS entry \"\(voter)\" is not id@host:port")
                    continue
                }
                let address = HostPort(parts[1])
                let node = cluster.count == 1 ? broker : cluster.first { $0.environment["KAFKA_NODE_ID"] == String(id) }
                guard let node else {
                    problems.append("\(at).environment.KAFKA_CONTROLLER_QUORUM_VOTERS voter \(id) is the KAFKA_NODE_ID of no \(Self.kafkaRepository) service")
                    continue
                }
                if cluster.count == 1, let nodeID, id != nodeID {
                    problems.append("\(at).environment.KAFKA_CONTROLLER_QUORUM_VOTERS voter \(id) is not this node (KAFKA_NODE_ID \(nodeID))")
                }
                var nodeNames: Set<String> = [node.name, node.hostname ?? node.name]
                if cluster.count == 1 { nodeNames.formUnion(["localhost", "127.0.0.1"]) }
                if !nodeNames.contains(address.host) {
                    problems.append("\(at).environment.KAFKA_CONTROLLER_QUORUM_VOTERS voter host \(address.host) is not the service of node \(id) (\(node.name))")
                }
                let nodeControllers = list(node.environment["KAFKA_CONTROLLER_LISTENER_NAMES"])
                let controllerPorts = Set(KafkaListener.parseList(node.environment["KAFKA_LISTENERS"])
                    .filter { nodeControllers.contains($0.name) }.compactMap(\.port))
                if address.port.map(controllerPorts.contains) != true {
                    problems.append("\(at).environment.KAFKA_CONTROLLER_QUORUM_VOTERS voter port \(address.port.map(String.init) ?? "none") is not the controller listener's port of \(node.name) (\(controllerPorts.sorted().map(String.init).joined(separator: ", ")))")
                }
            }
        }

        // A cluster id, so the volume's storage is formatted once and accepted after a restart.
        if let clusterID = require("CLUSTER_ID", "the image formats the storage with it") {
            var base64 = clusterID.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while base64.count % 4 != 0 { base64 += "=" }
            if clusterID.count != 22 || Data(base64Encoded: base64)?.count != 16 {
                problems.append("\(at).environment.CLUSTER_ID \"\(clusterID)\" is not a base64url-encoded 16-byte UUID (22 characters, as kafka-storage.sh random-uuid prints)")
            }
        }

        // Copies: one broker cannot hold more than one; a cluster keeps three and needs two per write.
        let replication = Self.replication(brokers: cluster.count)
        let expected: [(key: String, value: Int)] = [
            ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", replication.factor),
            ("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", replication.factor),
            ("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", replication.minInSync),
            ("KAFKA_DEFAULT_REPLICATION_FACTOR", replication.factor),
            ("KAFKA_MIN_INSYNC_REPLICAS", replication.minInSync),
        ]
        let optionalOnOneBroker: Set<String> = ["KAFKA_DEFAULT_REPLICATION_FACTOR", "KAFKA_MIN_INSYNC_REPLICAS"]
        for (key, wanted) in expected {
            let value: String?
            if cluster.count == 1 {
                value = optionalOnOneBroker.contains(key) ? env[key] : require(key, "the default (3) needs three brokers")
            } else {
                value = require(key, "Kafka's defaults keep one copy and accept a write on one broker")
            }
            guard let value, value != String(wanted) else { continue }
            problems.append(cluster.count == 1
                ? "\(at).environment.\(key) is \(value); with one broker it must be 1"
                : "\(at).environment.\(key) is \(value); on a cluster of \(cluster.count) brokers it must be \(wanted) (three copies, two acknowledge each write)")
        }

        // Topics come from topics.yaml only.
        if let value = require("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "Kafka's default (true) creates topics on first use, bypassing topics.yaml"),
           value.lowercased() != "false" {
            problems.append("\(at).environment.KAFKA_AUTO_CREATE_TOPICS_ENABLE is \(value): auto topic creation must be disabled; only `alm topics apply` creates topics")
        }

        // Health, so dependants can wait for a broker that answers.
        if let health = broker.healthcheck {
            let test = ComposeService.words(health["test"]) ?? []
            if test.isEmpty || test == ["NONE"] || YAMLValue.scalar(health["disable"]) == "true" {
                problems.append("\(at).healthcheck is disabled or has no test")
            }
        } else {
            problems.append("\(at) has no healthcheck: dependants cannot wait for a broker that answers")
        }

        // Data on a named volume.
        let logDirs = list(env["KAFKA_LOG_DIRS"] ?? env["KAFKA_LOG_DIR"] ?? "/tmp/kraft-combined-logs")
        let namedTargets = broker.volumeMounts.filter { $0.namedVolume != nil }.map(\.target)
        for directory in logDirs where !namedTargets.contains(where: { Paths.isWithin(directory, $0) }) {
            problems.append("\(at): log directory \(directory) (KAFKA_LOG_DIRS) is not on a named volume; the data would go with the container")
        }
        return problems
    }

    func almServiceProblems() -> [String] {
        var problems: [String] = []
        let files = imageFiles
        let known = Self.almSubcommands.sorted().joined(separator: ", ")
        for service in almServices {
            let at = "docker-compose.yml: services.\(service.name)"
            if let entrypoint = service.entrypoint, entrypoint.first.map({ ($0 as NSString).lastPathComponent }) != "alm" {
                problems.append("\(at).entrypoint \(entrypoint) replaces the image's `alm` entrypoint")
            }
            guard let words = service.command, let subcommand = words.first else {
                problems.append("\(at) has no `command`: say which alm subcommand it runs")
                continue
            }
            guard Self.almSubcommands.contains(subcommand) else {
                problems.append("\(at).command starts with \"\(subcommand)\", which is not an alm subcommand (known: \(known))")
                continue
            }
            if Self.oneShotSubcommands.contains(subcommand), let restart = service.body["restart"] {
                if restart is Bool {
                    problems.append("\(at).restart is the YAML boolean false; write the string \"no\" (quoted)")
                } else if YAMLValue.scalar(restart) != "no" {
                    problems.append("\(at).restart is \"\(YAMLValue.scalar(restart) ?? "?")\": `alm \(subcommand)` runs once and must not be restarted (restart: \"no\")")
                }
            }
            for option in ["topics", "config"] {
                guard let path = service.option(option) else { continue }
                if files[Paths.normalise(path)] == nil {
                    problems.append("\(at).command passes --\(option) \(path), but the Dockerfile's runtime stage copies nothing there (it copies \(files.keys.sorted().joined(separator: ", ")))")
                }
            }
            let talksToKafka = !Self.offlineSubcommands.contains(subcommand) && !words.contains("--help") && !words.contains("-h")
            guard talksToKafka else { continue }
            guard let servers = service.kafkaProperties["bootstrap.servers"] else {
                problems.append("\(at).command runs `alm \(subcommand)` with no `-X bootstrap.servers=...`: alm's default 127.0.0.1:9092 is the container itself")
                continue
            }
            let dependencies = transitiveDependencies(of: service)
            for server in servers.split(separator: ",").map(String.init) {
                let address = HostPort(server)
                guard let target = compose.service(reachedAs: address.host) else {
                    problems.append("\(at): bootstrap.servers names \(server), whose host \(address.host) is not a service of docker-compose.yml (services: \(compose.serviceNames.sorted().joined(separator: ", ")))")
                    continue
                }
                guard kafkaServices.contains(where: { $0.name == target.name }) else {
                    problems.append("\(at): bootstrap.servers names service \(target.name), which does not run \(Self.kafkaRepository)")
                    continue
                }
                let advertised = KafkaListener.parseList(target.environment["KAFKA_ADVERTISED_LISTENERS"])
                let reachable = advertised.contains { listener in
                    listener.port == address.port && compose.service(reachedAs: listener.host)?.name == target.name
                }
                if !reachable {
                    problems.append("\(at): bootstrap.servers \(server) does not match a listener \(target.name) advertises inside the compose network (\(advertised.map(\.description).joined(separator: ", ")))")
                }
                if !dependencies.contains(target.name) {
                    problems.append("\(at) does not depend on \(target.name) (depends_on), so it may start before the broker")
                }
            }
        }
        return problems
    }

    func topicsServiceProblems() -> [String] {
        let appliers = almServices.filter { Array(($0.command ?? []).prefix(2)) == ["topics", "apply"] }
        guard !appliers.isEmpty else {
            return ["docker-compose.yml: no service runs `alm topics apply`; with auto topic creation off nothing would create the topics"]
        }
        var problems: [String] = []
        for service in appliers {
            let at = "docker-compose.yml: services.\(service.name)"
            if YAMLValue.scalar(service.body["restart"]) != "no" || service.body["restart"] is Bool {
                problems.append("\(at).restart must be the string \"no\": it is a one-shot job")
            }
            if service.option("topics") == nil {
                problems.append("\(at).command has no --topics FILE: the image's working directory holds no topics.yaml")
            }
            let brokers = kafkaServices
            if brokers.count > 1 {
                let factor = Self.replication(brokers: brokers.count).factor
                if service.option("replication-factor") != String(factor) {
                    problems.append("\(at).command passes --replication-factor \(service.option("replication-factor") ?? "(none)"): on a cluster of \(brokers.count) brokers every topic needs \(factor) copies (topics.yaml declares the single-broker 1)")
                }
                let healthy = Set(service.dependsOn.filter { $0.condition == "service_healthy" }.map(\.service))
                for broker in brokers where !healthy.contains(broker.name) {
                    problems.append("\(at).depends_on.\(broker.name) must have `condition: service_healthy`: a topic with \(factor) copies is created only once every broker is up")
                }
            }
            let hosts = (service.kafkaProperties["bootstrap.servers"] ?? "").split(separator: ",").map { HostPort(String($0)).host }
            for host in hosts {
                guard let broker = compose.service(reachedAs: host) else { continue }  // reported by almServiceProblems
                let condition = service.dependsOn.first { $0.service == broker.name }?.condition
                if condition != "service_healthy" {
                    problems.append("\(at).depends_on.\(broker.name) must have `condition: service_healthy` (it has \(condition ?? "none")): topics can only be created once the broker answers")
                }
            }
        }
        return problems
    }

    func dependsOnProblems() -> [String] {
        var problems: [String] = []
        let names = compose.serviceNames
        let conditions: Set<String> = ["service_started", "service_healthy", "service_completed_successfully"]
        for service in compose.services {
            for (dependency, condition) in service.dependsOn {
                let at = "docker-compose.yml: services.\(service.name).depends_on"
                guard names.contains(dependency) else {
                    problems.append("\(at) names \(dependency), which is not a service (services: \(names.sorted().joined(separator: ", ")))")
                    continue
                }
                if dependency == service.name { problems.append("\(at) names the service itself") }
                if let condition, !conditions.contains(condition) {
                    problems.append("\(at).\(dependency).condition \(condition) is not one of \(conditions.sorted().joined(separator: ", "))")
                }
                if condition == "service_healthy", compose.service(dependency)?.healthcheck == nil {
                    problems.append("\(at).\(dependency) waits for it to be healthy, but \(dependency) has no healthcheck")
                }
            }
            if transitiveDependencies(of: service).contains(service.name), !service.dependsOn.contains(where: { $0.service == service.name }) {
                problems.append("docker-compose.yml: services.\(service.name) depends on itself through a cycle of depends_on")
            }
        }
        return problems
    }

    func volumeProblems() -> [String] {
        let declared = compose.declaredVolumes
        return compose.services.flatMap { service in
            service.volumeMounts.compactMap { mount in
                guard let name = mount.namedVolume, !declared.contains(name) else { return nil }
                return "docker-compose.yml: services.\(service.name) mounts the named volume \(name), which is not declared under the top-level `volumes`"
            }
        }
    }

    // MARK: Dockerfile

    func stageProblems() -> [String] {
        let stages = dockerfile.stages
        guard stages.count >= 2 else {
            return ["Dockerfile has \(stages.count) stage(s) (FROM): it needs a build stage and a separate runtime stage"]
        }
        guard let build = buildStage, let runtime = runtimeStage else {
            return ["Dockerfile: no stage runs `swift build`"]
        }
        if lineage(of: runtime).contains(where: { $0.index == build.index }) {
            return ["Dockerfile: the final stage is (or starts from) the build \(build.label); the image would carry the whole toolchain"]
        }
        return []
    }

    func buildStageLibrdkafkaProblems() -> [String] {
        guard let build = buildStage else { return ["Dockerfile: no stage runs `swift build`, so none installs librdkafka-dev"] }
        let installs = aptInstalls(of: build)
        var problems: [String] = []
        if !installs.contains("librdkafka-dev") {
            problems.append("Dockerfile: the build \(build.label) does not apt-get install librdkafka-dev (it installs \(installs.sorted().joined(separator: ", ")))")
        }
        if installs.isDisjoint(with: ["pkg-config", "pkgconf"]) {
            problems.append("Dockerfile: the build \(build.label) does not apt-get install pkg-config, which SwiftPM uses to find rdkafka")
        }
        return problems
    }

    func runtimeStageLibrdkafkaProblems() -> [String] {
        guard let runtime = runtimeStage else { return ["Dockerfile has no stages"] }
        let installs = aptInstalls(of: runtime)
        guard installs.contains("librdkafka1") else {
            return ["Dockerfile: the runtime \(runtime.label) does not apt-get install librdkafka1 (it installs \(installs.sorted().joined(separator: ", ")))"]
        }
        return []
    }

    func baseImageProblems() -> [String] {
        var problems: [String] = []
        var releases: [Int: String] = [:]
        let minimum = Distributions.minimumLibrdkafka
        for stage in dockerfile.externalBases {
            let at = "Dockerfile: the \(stage.label) (line \(stage.line)) is based on \(stage.image)"
            if !ImageReference(stage.image).isPinned {
                problems.append("\(at), which pins no version tag")
            }
            guard let release = Distributions.release(ofImage: stage.image) else {
                problems.append("\(at), whose tag names no distribution release with a known librdkafka (known: \(Distributions.librdkafkaByRelease.keys.sorted().joined(separator: ", "))); name the release in the tag or add it to Distributions")
                continue
            }
            releases[stage.index] = release
            let version = Distributions.librdkafkaByRelease[release] ?? "0"
            if !Distributions.isAtLeast(version, minimum) {
                problems.append("\(at) (\(release)), whose librdkafka \(version) is older than \(minimum)")
            }
        }
        if let build = buildStage, let runtime = runtimeStage,
           let buildRelease = releases[lineage(of: build).last!.index],
           let runtimeRelease = releases[lineage(of: runtime).last!.index],
           buildRelease != runtimeRelease {
            problems.append("Dockerfile: the build stage is \(buildRelease) but the runtime stage is \(runtimeRelease); a binary linked against one release's libc and librdkafka must run on the same release")
        }
        return problems
    }

    func swiftBuildProblems() -> [String] {
        guard let build = buildStage else { return ["Dockerfile: no stage runs `swift build`"] }
        let commands = DockerfileModel.swiftBuilds(build).filter { !$0.contains("--show-bin-path") }
        func has(_ option: String, _ value: String, short: String? = nil) -> ([String]) -> Bool {
            { words in
                words.indices.contains { index in
                    let word = words[index]
                    if word == "\(option)=\(value)" { return true }
                    let names = [option] + (short.map { [$0] } ?? [])
                    return names.contains(word) && index + 1 < words.count && words[index + 1] == value
                }
            }
        }
        guard let command = commands.first(where: has("--product", "alm")) else {
            return ["Dockerfile: no `swift build` in the build \(build.label) builds `--product alm` (found: \(commands.map { $0.joined(separator: " ") }))"]
        }
        var problems: [String] = []
        if !has("--configuration", "release", short: "-c")(command) {
            problems.append("Dockerfile: `\(command.joined(separator: " "))` does not build in release configuration (-c release)")
        }
        let runtimeBase = runtimeStage.map { ImageReference(dockerfile.baseImage(of: $0)).repository }
        if runtimeBase != "swift", !command.contains("--static-swift-stdlib") {
            problems.append("Dockerfile: `\(command.joined(separator: " "))` lacks --static-swift-stdlib, and the runtime base \(runtimeBase ?? "?") has no Swift runtime libraries")
        }
        return problems
    }

    func runtimeContentProblems() -> [String] {
        guard let runtime = runtimeStage else { return ["Dockerfile has no stages"] }
        var problems: [String] = []
        let at = "Dockerfile: the runtime \(runtime.label)"

        // The binary, from the build stage.
        let binaryCopied = lineage(of: runtime).contains { stage in
            DockerfileModel.copies(stage).contains { copy in
                guard let from = copy.from, let source = dockerfile.stage(named: from), source.index != stage.index else { return false }
                return copy.sources.contains {
                    DockerfileModel.landingPath(of: $0, in: copy, workdir: "/") == "/usr/local/bin/alm"
                }
            }
        }
        if !binaryCopied {
            problems.append("\(at) does not COPY --from=<build stage> the alm binary to /usr/local/bin/alm")
        }

        // topics.yaml, which `alm topics apply --topics` reads.
        if !imageFiles.values.contains(where: { ($0 as NSString).lastPathComponent == "topics.yaml" }) {
            problems.append("\(at) does not COPY topics.yaml into the image")
        }

        // ENTRYPOINT runs alm, in exec form so signals reach it.
        let entrypoint = lineage(of: runtime).lazy.map { DockerfileModel.entrypoint($0) }.first { $0.raw != nil }
        if let entrypoint {
            if let exec = entrypoint.exec {
                if exec.first.map({ ($0 as NSString).lastPathComponent }) != "alm" {
                    problems.append("\(at): ENTRYPOINT \(entrypoint.raw ?? "") does not run alm")
                }
            } else {
                problems.append("\(at): ENTRYPOINT \(entrypoint.raw ?? "") is in shell form; use the exec form [\"alm\"] so alm receives SIGTERM")
            }
        } else {
            problems.append("\(at) has no ENTRYPOINT; it must be [\"alm\"] so compose commands are alm subcommands")
        }

        // Not root.
        let user = lineage(of: runtime).lazy.compactMap { DockerfileModel.user($0) }.first
        let name = user.map { String($0.split(separator: ":").first ?? "") }
        if name == nil || name == "root" || name == "0" {
            problems.append("\(at) runs as root; add a user and a USER instruction")
        }
        return problems
    }

    func copySourceProblems() -> [String] {
        dockerfile.stages.flatMap { stage in
            DockerfileModel.copies(stage).filter { $0.from == nil }.flatMap { copy in
                copy.sources.compactMap { source in
                    if source.contains(where: { "*?[".contains($0) }) || source.contains("://") { return nil }
                    return fileExists(Paths.normalise(source)) ? nil
                        : "Dockerfile line \(copy.line): COPY source \(source) does not exist in the repository"
                }
            }
        }
    }

    /// Local state that must stay out of the build context (the brief's list) and what the Dockerfile copies.
    static let ignoredPaths = [".build", ".venv", ".deps", "run", "state", "snapshots", ".git"]

    func dockerignoreProblems() -> [String] {
        let ignore = DockerIgnore(dockerignore)
        var problems = Self.ignoredPaths.filter { !ignore.isIgnored($0) }.map {
            ".dockerignore does not exclude \($0): it would be sent to the Docker daemon with the build context"
        }
        for stage in dockerfile.stages {
            for copy in DockerfileModel.copies(stage) where copy.from == nil {
                for source in copy.sources where source != "." && ignore.isIgnored(source) {
                    problems.append(".dockerignore excludes \(source), which the Dockerfile copies (line \(copy.line))")
                }
            }
        }
        return problems
    }

    /// Every check, for the self-tests.
    func allProblems() -> [String] {
        composeStructureProblems() + pinnedImageProblems() + buildProblems() + kafkaProblems() + almServiceProblems()
            + topicsServiceProblems() + dependsOnProblems() + volumeProblems() + stageProblems()
            + buildStageLibrdkafkaProblems() + runtimeStageLibrdkafkaProblems() + baseImageProblems()
            + swiftBuildProblems() + runtimeContentProblems() + copySourceProblems() + dockerignoreProblems()
    }
}
