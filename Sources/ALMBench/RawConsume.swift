import Kafka
import Logging

/// The ceiling: a plain consumer that reads every record of the raw topics and only counts them,
/// joining a group with the processor's client settings and stopping the way `--until-end` does.
public enum RawConsume {
    public static func count(topics: [String], kafka: KafkaConfiguration, maxRecords: Int,
                             logger: Logger) async throws -> (records: Int, seconds: Double, firstRecordSeconds: Double?) {
        var configuration = kafka
        configuration["group.id"] = "alm-bench-raw-\(UInt32.random(in: 0...UInt32.max))"
        configuration["enable.partition.eof"] = "true"
        configuration["auto.offset.reset"] = "earliest"
        let started = ContinuousClock.now
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        try consumer.subscribe(topics: topics)
        var records = 0
        var firstRecord: ContinuousClock.Instant?
        var ended: Set<TopicPartition> = []
        do {
            while true {
                let batch = try await consumer.poll(maxRecords: maxRecords, timeout: .milliseconds(200))
                records += batch.records.count
                if firstRecord == nil, !batch.records.isEmpty { firstRecord = .now }
                for record in batch.records { ended.remove(record.topicPartition) }
                ended.formUnion(batch.endOfPartition.map(\.topicPartition))
                let assigned = Set(try consumer.assignment())
                if !assigned.isEmpty && assigned.isSubset(of: ended) { break }
            }
        } catch {
            await consumer.close()
            throw error
        }
        let seconds = (ContinuousClock.now - started).seconds
        await consumer.close()
        return (records, seconds, firstRecord.map { ($0 - started).seconds })
    }
}
