import Foundation
import Testing

@testable import ALMState

/// Tests only, skipped unless ALM_STORED_BYTES_PROBE names a directory holding `rec.txt` and `agg.txt`
/// (hex key/work and value/line a line, from `sqlite3`): prints the raw and stored sizes.
@Suite struct StoredBytesSizeProbe {
    @Test func sizes() throws {
        guard let dir = ProcessInfo.processInfo.environment["ALM_STORED_BYTES_PROBE"] else { return }
        func hex(_ s: Substring) -> [UInt8] {
            var out: [UInt8] = []
            var i = s.startIndex
            while i < s.endIndex {
                let j = s.index(i, offsetBy: 2)
                out.append(UInt8(s[i..<j], radix: 16)!)
                i = j
            }
            return out
        }
        var raw = 0, stored = 0, count = 0
        let start = Date()
        for line in try String(contentsOfFile: dir + "/rec.txt", encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            let key = hex(parts[0]), value = hex(parts[1])
            let s = StoredBytes.encodeRecord(value: value, key: key)
            #expect(try StoredBytes.decodeRecord(s, key: key) == value)
            raw += value.count; stored += s.count; count += 1
        }
        print("records \(count): value \(Double(raw) / Double(count)) -> \(Double(stored) / Double(count)) in \(Date().timeIntervalSince(start)) s")
        raw = 0; stored = 0; count = 0
        for line in try String(contentsOfFile: dir + "/agg.txt", encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            let work = String(decoding: hex(parts[0]), as: UTF8.self), value = hex(parts[1])
            let s = StoredBytes.encodeAggregate(line: value, work: work)
            #expect(try StoredBytes.decodeAggregate(s, work: work) == value)
            raw += value.count; stored += s.count; count += 1
        }
        print("aggregates \(count): line \(Double(raw) / Double(count)) -> \(Double(stored) / Double(count))")
    }
}
