import ALMCore
import ALMWorkload
import Foundation

/// The standard workload most tests look at: the defaults of `WorkloadSpec`, 100 000 records.
let standardSpec = WorkloadSpec(records: 100_000, works: 10_000, seed: 7)
let standardRecords: [WorkloadRecord] = Workload(standardSpec).all()

/// Each valid record of `standardRecords` decoded, with its position in the stream.
let standardEvents: [(index: Int, event: RawEvent)] = standardRecords.enumerated().compactMap { index, record in
    guard !record.isMalformed else { return nil }
    return (index, try! RawEventDecoder.decode(record.value))
}

/// The valid records without re-deliveries: the first delivery of each distinct value.
let firstDeliveries: [(index: Int, event: RawEvent)] = {
    var seen = Set<[UInt8]>()
    return standardEvents.filter { seen.insert(standardRecords[$0.index].value).inserted }
}()

func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

/// The `work` string exactly as the record writes it.
func writtenWork(_ value: [UInt8]) -> String? {
    let marker = Array(#""work":""#.utf8)
    guard let start = (0...(value.count - marker.count)).first(where: { Array(value[$0..<$0 + marker.count]) == marker })
    else { return nil }
    let from = start + marker.count
    guard let end = value[from...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
    return text(Array(value[from..<end]))
}

/// The COUNTER-Robots list of the repository (`data/counter-robots/`), or nil where it is not found.
let counterRobots: NSRegularExpression? = {
    let here = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let candidates = [
        root.appendingPathComponent("data/counter-robots/COUNTER_Robots_list.json"),
        root.deletingLastPathComponent().appendingPathComponent("shared/data/COUNTER-Robots/COUNTER_Robots_list.json"),
    ]
    guard let data = candidates.lazy.compactMap({ try? Data(contentsOf: $0) }).first,
        let entries = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
    else { return nil }
    let patterns = entries.compactMap { $0["pattern"] as? String }.map { "(?:\($0))" }
    return try? NSRegularExpression(pattern: patterns.joined(separator: "|"), options: [.caseInsensitive])
}()

func isRobot(_ agent: String, _ list: NSRegularExpression) -> Bool {
    list.firstMatch(in: agent, range: NSRange(agent.startIndex..<agent.endIndex, in: agent)) != nil
}
