import ALMCore
import Foundation

/// The works of the registry partitions this collector instance owns, as read from `alm.works`.
struct WorkRegistry {
    private(set) var works: [String: (record: WorkRecord, partition: Int32)] = [:]

    /// Applies one `alm.works` record; returns false for a value that is not a work record (logged by the caller).
    mutating func apply(value: [UInt8], partition: Int32) -> Bool {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(value))) as? [String: Any],
              let doi = object["doi"] as? String,
              let record = try? WorkRecord(doi: doi, pmid: object["pmid"] as? String, pmcid: object["pmcid"] as? String,
                                           arxiv: object["arxiv"] as? String, url: object["url"] as? String,
                                           title: object["title"] as? String, published: object["published"] as? String)
        else { return false }
        works[record.doi] = (record, partition)
        return true
    }

    mutating func drop(partitions: Set<Int32>) {
        works = works.filter { !partitions.contains($0.value.partition) }
    }
}
