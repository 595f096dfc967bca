import ALMAggregation
import ALMCore

/// The bytes of works.jsonl and works.csv, handed on in chunks of about `chunkSize` bytes.
/// `order` lists the indices of `works` in the order of the lines (`SnapshotWriter` sorts by work id).
enum SnapshotFiles {
    /// A chunk is handed on once the buffer holds this many bytes.
    static let chunkSize = 1 << 20

    /// One `jsonLine()` + "\n" per work.
    static func writeJSONLines(_ works: [WorkAggregate], order: [Int],
                               chunk: (inout [UInt8]) throws -> Void) throws {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(chunkSize + 64 * 1024)
        for index in order {
            buffer.append(contentsOf: works[index].jsonLine())
            buffer.append(UInt8(ascii: "\n"))
            if buffer.count >= chunkSize { try chunk(&buffer) }
        }
        if !buffer.isEmpty { try chunk(&buffer) }
    }

    /// RFC 4180 with "\n" line ends: header `work,viewed,saved,discussed,cited,recommended,<source>.<metric>...`
    /// (the union of all works' source/metric pairs, sorted by source then metric in byte order), then
    /// one row per work, absent values written as 0.
    static func writeCSV(_ works: [WorkAggregate], order: [Int],
                         chunk: (inout [UInt8]) throws -> Void) throws {
        let table = MetricTable(works)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(chunkSize + 64 * 1024)
        buffer.append(contentsOf: "work".utf8)
        for category in Category.allCases {
            buffer.append(UInt8(ascii: ","))
            appendField(category.rawValue, to: &buffer)
        }
        for column in table.columns {
            buffer.append(UInt8(ascii: ","))
            appendField(column.source + "." + column.metric, to: &buffer)
        }
        buffer.append(UInt8(ascii: "\n"))

        var row = [UInt64](repeating: 0, count: table.columns.count)
        for index in order {
            let work = works[index]
            appendField(work.work, to: &buffer)
            for category in Category.allCases {
                buffer.append(UInt8(ascii: ","))
                appendDecimal(work.categories[category] ?? 0, to: &buffer)
            }
            for cell in table.cells[table.cellStarts[index]..<table.cellStarts[index + 1]] {
                row[Int(cell.column)] = cell.value
            }
            for column in row.indices {
                buffer.append(UInt8(ascii: ","))
                appendDecimal(row[column], to: &buffer)
                row[column] = 0
            }
            buffer.append(UInt8(ascii: "\n"))
            if buffer.count >= chunkSize { try chunk(&buffer) }
        }
        if !buffer.isEmpty { try chunk(&buffer) }
    }

    /// A CSV field, quoted only when it holds `,` `"` CR or LF; quotes inside are doubled.
    static func appendField(_ value: String, to output: inout [UInt8]) {
        let needsQuotes = value.utf8.contains { byte in
            byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == 0x0D || byte == 0x0A
        }
        guard needsQuotes else {
            output.append(contentsOf: value.utf8)
            return
        }
        output.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            if byte == UInt8(ascii: "\"") { output.append(byte) }
            output.append(byte)
        }
        output.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    static func appendDecimal(_ value: UInt64, to output: inout [UInt8]) {
        if value < 10 {
            output.append(UInt8(truncatingIfNeeded: value) &+ UInt8(ascii: "0"))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var rest = value
            var start = 20
            while rest > 0 {
                start -= 1
                digits[start] = UInt8(truncatingIfNeeded: rest % 10) &+ UInt8(ascii: "0")
                rest /= 10
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }
}

/// The source/metric values of all works in one pass: the sorted columns of works.csv and each work's
/// cells (column position, value), so rows are written without looking names up again.
struct MetricTable {
    struct Cell {
        var column: UInt32
        var value: UInt64
    }

    /// Sorted by source then metric (byte order).
    private(set) var columns: [(source: String, metric: String)] = []
    /// The cells of `works[i]` are `cells[cellStarts[i]..<cellStarts[i + 1]]`.
    private(set) var cells: [Cell] = []
    private(set) var cellStarts: [Int] = []

    init(_ works: [WorkAggregate]) {
        // Columns are numbered as first met, then renumbered in sorted order.
        var sourceNumbers: [String: Int] = [:]
        var metricNumbers: [[String: Int]] = []
        var found: [(source: String, metric: String)] = []
        cellStarts.reserveCapacity(works.count + 1)
        cells.reserveCapacity(works.count * 8)
        for work in works {
            cellStarts.append(cells.count)
            for (source, metrics) in work.sources {
                let sourceNumber: Int
                if let known = sourceNumbers[source] {
                    sourceNumber = known
                } else {
                    sourceNumber = metricNumbers.count
                    sourceNumbers[source] = sourceNumber
                    metricNumbers.append([:])
                }
                for (metric, value) in metrics {
                    let column: Int
                    if let known = metricNumbers[sourceNumber][metric] {
                        column = known
                    } else {
                        column = found.count
                        metricNumbers[sourceNumber][metric] = column
                        found.append((source, metric))
                    }
                    cells.append(Cell(column: UInt32(column), value: value))
                }
            }
        }
        cellStarts.append(cells.count)

        let sorted = found.indices.sorted { a, b in
            let (x, y) = (found[a], found[b])
            if !x.source.utf8.elementsEqual(y.source.utf8) { return utf8Less(x.source, y.source) }
            return utf8Less(x.metric, y.metric)
        }
        var position = [UInt32](repeating: 0, count: found.count)
        for (index, column) in sorted.enumerated() { position[column] = UInt32(index) }
        columns = sorted.map { found[$0] }
        for index in cells.indices { cells[index].column = position[Int(cells[index].column)] }
    }
}
