import ALMCore
import ALMRuntime
import DevBroker
import Foundation
import Kafka
import Logging

import ALMTestSupport

extension DevBroker {
    var kafka: KafkaConfiguration {
        KafkaConfiguration(["bootstrap.servers": bootstrapServers, "session.timeout.ms": "6000", "heartbeat.interval.ms": "500"])
    }

    /// Publishes works to alm.works as `alm works import` does.
    func register(_ works: [WorkRecord]) async throws {
        let producer = try KafkaProducer(configuration: KafkaConfiguration(["bootstrap.servers": bootstrapServers]), logger: testLogger)
        _ = try await producer.sendAll(works.map { ProducerRecord(topic: "alm.works", key: Array($0.doi.utf8), value: $0.jsonLine()) })
        try await producer.close()
    }
}

func decoded(_ records: [ConsumerRecord]) -> [RawEvent] {
    records.compactMap { try? RawEventDecoder.decode($0.value) }
}
