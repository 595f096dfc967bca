import ALMCollectors
import ALMCore
import Foundation
import Kafka
import Logging
import Synchronization

/// Every work of the registry (`alm.works`, all partitions), kept up to date in the background: which
/// DOIs are registered, and the DOI of each PMID, PMCID and arXiv id. Stream collectors use it to keep
/// only registered works and to resolve links that name a work by another id.
public final class RegistryIndex: Sendable {
    private struct Maps {
        var dois: Set<String> = []
        var byPMID: [String: String] = [:]
        var byPMCID: [String: String] = [:]
        var byArXiv: [String: String] = [:]
    }

    private let maps = Mutex(Maps())
    private let consumer: KafkaConsumer
    private let logger: Logger
    private let follower = Mutex<Task<Void, Never>?>(nil)

    /// Reads the registry to its end before returning, then follows it until `close`.
    public init(kafka: KafkaConfiguration, topic: String = "alm.works", partitions: Int32, logger: Logger) async throws {
        var configuration = kafka
        configuration["group.id"] = "alm-registry-index-\(UUID().uuidString)"
        configuration["enable.partition.eof"] = "true"
        consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        self.logger = logger
        let all = (0..<partitions).map { TopicPartition(topic, $0) }
        try consumer.assign(all.map { TopicPartitionOffset($0, offset: TopicPartitionOffset.beginning) })
        var ended: Set<TopicPartition> = []
        let deadline = ContinuousClock.now + .seconds(120)
        while ended != Set(all) {
            guard ContinuousClock.now < deadline else { throw CollectorRuntimeError("\(topic) could not be read to its end within 2 minutes") }
            let batch = try await consumer.poll(maxRecords: 10_000, timeout: .milliseconds(200))
            apply(batch.records)
            for record in batch.records { ended.remove(record.topicPartition) }
            ended.formUnion(batch.endOfPartition.map(\.topicPartition))
        }
        let task = Task { [consumer, weak self] in
            while !Task.isCancelled {
                guard let batch = try? await consumer.poll(maxRecords: 10_000, timeout: .milliseconds(500)) else { continue }
                self?.apply(batch.records)
            }
        }
        follower.withLock { $0 = task }
    }

    public var count: Int { maps.withLock { $0.dois.count } }

    public func contains(doi: String) -> Bool { maps.withLock { $0.dois.contains(doi) } }

    /// The registered DOI a PMID, PMCID (`PMC…`) or arXiv id names.
    public func doi(pmid: String? = nil, pmcid: String? = nil, arxiv: String? = nil) -> String? {
        maps.withLock { maps in
            pmid.flatMap { maps.byPMID[$0] } ?? pmcid.flatMap { maps.byPMCID[$0.uppercased()] } ?? arxiv.flatMap { maps.byArXiv[$0.lowercased()] }
        }
    }

    /// The resolver stream parsers use for links to PubMed, PMC, Europe PMC and arXiv.
    public var resolver: IdentifierResolver {
        { [self] identifier in
            switch identifier {
            case .pmid(let pmid): doi(pmid: pmid)
            case .pmcid(let pmcid): doi(pmcid: pmcid)
            case .arxiv(let arxiv): doi(arxiv: arxiv)
            }
        }
    }

    public func close() async {
        follower.withLock { $0?.cancel() }
        await consumer.close()
    }

    private func apply(_ records: [ConsumerRecord]) {
        guard !records.isEmpty else { return }
        var registry = WorkRegistry()
        for record in records where !registry.apply(value: record.value, partition: record.partition) {
            logger.warning("alm.works[\(record.partition)]@\(record.offset) is not a work record; ignored")
        }
        maps.withLock { maps in
            for (record, _) in registry.works.values {
                maps.dois.insert(record.doi)
                if let pmid = record.pmid { maps.byPMID[pmid] = record.doi }
                if let pmcid = record.pmcid { maps.byPMCID[pmcid] = record.doi }
                if let arxiv = record.arxiv { maps.byArXiv[arxiv] = record.doi }
            }
        }
    }
}
