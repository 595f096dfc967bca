import ALMAggregation
import ALMCore
import Foundation
import Testing
@testable import ALMSnapshot

/// The content of works.jsonl and works.csv.
@Suite struct SnapshotFilesTests {
    @Test func jsonLinesAreTheAggregatesLinesSortedByWorkIDInByteOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (snapshot, _) = try SnapshotWriter(root: directory.snapshots, retain: 5).write(Samples.works)

        let jsonl = try bytes(snapshot.appendingPathComponent("works.jsonl"))
        let byID = Dictionary(uniqueKeysWithValues: Samples.works.map { ($0.work, $0) })
        var expected: [UInt8] = []
        for id in Samples.sortedIDs { expected += byID[id]!.jsonLine() + [0x0A] }
        #expect(jsonl == expected)

        let lines = String(decoding: jsonl, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == Samples.works.count + 1 && lines.last == "")
        #expect(lines[3] == #"{"work":"10.1234/x,y\"z","sources":{"reddit":{"comments":5,"posts":3}},"categories":{"viewed":0,"saved":0,"discussed":8,"cited":0,"recommended":0},"by_month":{}}"#)
        #expect(lines[4].hasPrefix(#"{"work":"10.1234/élan","sources":{"counter":{"total_item_requests":120,"unique_item_requests":80}}"#))
        // Each line reads back as the aggregate it came from.
        for line in lines.dropLast() {
            let parsed = try WorkAggregate(jsonLine: Array(line.utf8))
            #expect(parsed == byID[parsed.work])
        }
    }

    @Test func csvHasTheCategoriesThenTheSortedUnionOfSourceMetricColumnsQuotedOnlyWhereNeeded() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (snapshot, manifest) = try SnapshotWriter(root: directory.snapshots, retain: 5).write(Samples.works)

        #expect(try text(snapshot.appendingPathComponent("works.csv")) == Samples.csv)
        #expect(manifest.files["works.csv"]?.lines == Samples.works.count + 1)
        #expect(manifest.files["works.jsonl"]?.lines == Samples.works.count)
    }

    @Test func csvFieldsFollowRFC4180() {
        func field(_ value: String) -> String {
            var output: [UInt8] = []
            SnapshotFiles.appendField(value, to: &output)
            return String(decoding: output, as: UTF8.self)
        }
        #expect(field("10.1234/plain") == "10.1234/plain")
        #expect(field("10.1234/élan ü") == "10.1234/élan ü")  // non-ASCII and spaces need no quotes
        #expect(field("a,b") == "\"a,b\"")
        #expect(field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(field("line\nbreak") == "\"line\nbreak\"")
        #expect(field("carriage\rreturn") == "\"carriage\rreturn\"")
        #expect(field("") == "")
    }

    @Test(arguments: [UInt64(0), 7, 10, 99, 100, 12_345, 1_000_000_007, UInt64(Int64.max), UInt64.max])
    func csvNumbersAreDecimal(_ value: UInt64) {
        var output: [UInt8] = []
        SnapshotFiles.appendDecimal(value, to: &output)
        #expect(String(decoding: output, as: UTF8.self) == String(value))
    }

    @Test func anEmptySnapshotHasAnEmptyJSONLinesFileAndAHeaderOnlyCSV() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (snapshot, manifest) = try SnapshotWriter(root: directory.snapshots, retain: 5).write([])
        #expect(try bytes(snapshot.appendingPathComponent("works.jsonl")).isEmpty)
        #expect(try text(snapshot.appendingPathComponent("works.csv")) == "work,viewed,saved,discussed,cited,recommended\n")
        #expect(manifest.works == 0)
        #expect(manifest.files["works.jsonl"] == FileDigest(
            sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", bytes: 0, lines: 0))
    }

    @Test func everyJSONLineValidatesAgainstTheSnapshotRecordSchema() throws {
        let validator = try SchemaValidator(schema: try SharedFiles.snapshotRecordSchema())
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let works = Samples.works + Samples.random(count: 300, seed: 7)
        let (snapshot, _) = try SnapshotWriter(root: directory.snapshots, retain: 5).write(works)

        let lines = try bytes(snapshot.appendingPathComponent("works.jsonl")).split(separator: 0x0A)
        #expect(lines.count == works.count)
        for (number, line) in lines.enumerated() {
            let errors = validator.errors(try JSONValue.parse(Array(line)))
            #expect(errors.isEmpty, "line \(number + 1): \(errors)")
        }
    }

    /// The validator itself: it must reject what the schema rejects, or the test above proves nothing.
    @Test(arguments: [
        (#"{"sources":{},"categories":{"viewed":0,"saved":0,"discussed":0,"cited":0,"recommended":0}}"#, "missing required key work"),
        (#"{"work":"w","sources":{}}"#, "missing required key categories"),
        (#"{"work":"w","categories":{"viewed":0,"saved":0,"discussed":0,"cited":0,"recommended":0}}"#, "missing required key sources"),
        (#"{"work":"w","sources":{},"categories":{"viewed":0,"saved":0,"discussed":0,"cited":0}}"#, "missing required key recommended"),
        (#"{"work":7,"sources":{},"categories":{"viewed":0,"saved":0,"discussed":0,"cited":0,"recommended":0}}"#, "expected string"),
        (#"{"work":"w","sources":{"crossref":{"cites":-1}},"categories":{"viewed":0,"saved":0,"discussed":0,"cited":0,"recommended":0}}"#, "below the minimum"),
        (#"{"work":"w","sources":{"crossref":{"cites":1.5}},"categories":{"viewed":0,"saved":0,"discussed":0,"cited":0,"recommended":0}}"#, "expected integer"),
        (#"{"work":"w","sources":{"crossref":{"cites":"3"}},"categories":{"viewed":0,"saved":0,"discussed":0,"cited":0,"recommended":0}}"#, "expected integer"),
        (#"{"work":"w","sources":{"crossref":7},"categories":{"viewed":0,"saved":0,"discussed":0,"cited":0,"recommended":0}}"#, "expected object"),
        (#"{"work":"w","sources":{},"categories":{"viewed":true,"saved":0,"discussed":0,"cited":0,"recommended":0}}"#, "expected integer"),
        (#"{"work":"w","sources":{},"categories":{"viewed":0,"saved":0,"discussed":0,"cited":0,"recommended":0},"first_seen":"yesterday"}"#, "not an RFC 3339 date-time"),
        (#"["w"]"#, "expected object"),
    ])
    func theSchemaValidatorRejectsBrokenLines(line: String, expectedError: String) throws {
        let validator = try SchemaValidator(schema: try SharedFiles.snapshotRecordSchema())
        let errors = validator.errors(try JSONValue.parse(Array(line.utf8)))
        #expect(errors.contains { $0.contains(expectedError) }, "\(errors)")
    }

    @Test func theSchemaValidatorAcceptsAMinimalLineAndRefusesUnknownKeywords() throws {
        let validator = try SchemaValidator(schema: try SharedFiles.snapshotRecordSchema())
        let minimal = #"{"work":"w","sources":{"s":{"m":0}},"categories":{"viewed":0,"saved":0,"discussed":0,"cited":0,"recommended":18446744073709551615},"extra":[1]}"#
        #expect(validator.errors(try JSONValue.parse(Array(minimal.utf8))) == [])
        #expect(throws: SchemaValidator.UnsupportedSchema.self) {
            try SchemaValidator(schema: Array(#"{"type":"object","patternProperties":{}}"#.utf8))
        }
    }
}
