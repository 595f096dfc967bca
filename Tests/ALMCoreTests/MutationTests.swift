import ALMCore
import Testing

/// Seeded random damage to the spec examples: the decoder must never crash (a trap would end the
/// test process), and whatever it accepts must survive a round trip through the encoder.
struct MutationTests {
    static let mutantCount = 20_000

    static let interestingBytes: [UInt8] = Array(#""\{}[],:0129-.eEu/ A"#.utf8) + [
        0x09, 0x0A, 0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF,
    ]

    static let interestingSnippets: [String] = [
        #"\u0000"#, #"\ud800"#, #"\udc00"#, #"\ud83d\ude00"#, #"\u00e9"#, #"\""#, #"\\"#, #"\/"#, #"\x"#,
        #","value":1"#, #","action":"delete""#, #","meta":{"a":[1,{"b":null}]}"#, #","period":"2026-02""#,
        #","kind":"event""#, #","foo":1"#, #"1e5"#, #"-0"#, "null", "true", "9007199254740992", "-1",
        "{", "}", "[", "]", #""""#, "  ", "é", "😀", "\u{2028}", "doi:", "https://doi.org/", "%2F", ")", ".",
    ]

    @Test func mutatedExamplesNeverCrashAndAcceptedOnesRoundTrip() throws {
        let originals = try SharedFiles.exampleFileNames().map { try SharedFiles.example($0) }
        try #require(!originals.isEmpty)
        var generator = SplitMix64(seed: 0xA1A_2026_0302)
        var accepted = 0
        var rejectionsByCode: [String: Int] = [:]

        for _ in 0..<Self.mutantCount {
            var mutant = originals[Int.random(in: 0..<originals.count, using: &generator)]
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                Self.mutate(&mutant, using: &generator)
            }
            do {
                let event = try RawEventDecoder.decode(mutant)
                accepted += 1
                let encoded = event.encodedJSONString()
                let decodedAgain = try RawEventDecoder.decode(encoded)
                #expect(decodedAgain == event, "mutant: \(String(decoding: mutant, as: UTF8.self))")
                #expect(decodedAgain.encodedJSONString() == encoded)
            } catch {
                rejectionsByCode[error.code, default: 0] += 1
                #expect(!error.description.isEmpty)
                if error.field == nil {
                    #expect([.invalidJSON, .nestingTooDeep, .wrongType].contains(error.reason), "\(error)")
                }
            }
        }
        // The mutations must exercise both paths, and a good spread of rejections.
        #expect(accepted >= 1000, "only \(accepted) mutants accepted")
        #expect(rejectionsByCode.count >= 10, "\(rejectionsByCode)")
    }

    /// The fuzzing the production issue asks for, as a seeded property test: a million damaged records
    /// through the decoder and a million damaged identifiers through the DOI normaliser, no crash, and
    /// every normalised DOI already in normal form (normalising is idempotent).
    @Test func aMillionDamagedRecordsAndDOIsNeverCrash() throws {
        let inputs = 1_000_000
        let originals = try SharedFiles.exampleFileNames().map { try SharedFiles.example($0) }
        var generator = SplitMix64(seed: 0x2026_1130)
        var accepted = 0
        for _ in 0..<inputs {
            var mutant = originals[Int.random(in: 0..<originals.count, using: &generator)]
            for _ in 0..<Int.random(in: 1...3, using: &generator) { Self.mutate(&mutant, using: &generator) }
            if (try? RawEventDecoder.decode(mutant)) != nil { accepted += 1 }
        }
        #expect(accepted > inputs / 100 && accepted < inputs - inputs / 100, "both paths taken: \(accepted) accepted")

        let identifiers = ["10.1371/journal.pone.0000001", "https://doi.org/10.1000/XYZ%2F1", "doi:10.5555/alm.1.",
                           "http://dx.doi.org/10.1002/(SICI)1097-4636(199812)43:4<399::AID-JBM7>3.0.CO;2-B", "10.1234/a b"]
        var normalized = 0, notIdempotent: [String] = []
        for _ in 0..<inputs {
            var bytes = Array(identifiers[Int.random(in: 0..<identifiers.count, using: &generator)].utf8)
            for _ in 0..<Int.random(in: 1...3, using: &generator) { Self.mutate(&bytes, using: &generator) }
            guard let doi = try? DOI.normalize(String(decoding: bytes, as: UTF8.self)) else { continue }
            normalized += 1
            if !DOI.isNormalized(doi) || (try? DOI.normalize(doi)) != doi { notIdempotent.append(doi) }
        }
        #expect(normalized > inputs / 100 && normalized < inputs - inputs / 100, "both paths taken: \(normalized) normalised")
        #expect(notIdempotent.isEmpty, "\(notIdempotent.prefix(5))")
    }

    @Test func randomBytesNeverCrash() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<5_000 {
            let count = Int.random(in: 0...64, using: &generator)
            let bytes = (0..<count).map { _ in
                Bool.random(using: &generator)
                    ? Self.interestingBytes[Int.random(in: 0..<Self.interestingBytes.count, using: &generator)]
                    : UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? RawEventDecoder.decode(bytes)
        }
    }

    @Test func deepNestingIsRefusedWithoutRecursingFurther() {
        let depth = 100_000
        let record = String(Records.total.dropLast()) + #","meta":"# + String(repeating: "[", count: depth)
        #expect(throws: EventValidationError.self) { try RawEventDecoder.decode(record) }
    }

    static func mutate(_ bytes: inout [UInt8], using generator: inout SplitMix64) {
        func randomIndex(_ limit: Int) -> Int { Int.random(in: 0..<max(limit, 1), using: &generator) }
        func interestingByte() -> UInt8 { interestingBytes[randomIndex(interestingBytes.count)] }

        guard !bytes.isEmpty else {
            bytes.append(interestingByte())
            return
        }
        switch Int.random(in: 0..<9, using: &generator) {
        case 0:
            bytes[randomIndex(bytes.count)] = UInt8.random(in: 0...255, using: &generator)
        case 1:
            bytes[randomIndex(bytes.count)] = interestingByte()
        case 2:
            bytes.remove(at: randomIndex(bytes.count))
        case 3:
            bytes.insert(interestingByte(), at: randomIndex(bytes.count + 1))
        case 4:
            bytes.removeLast(randomIndex(bytes.count))
        case 5:
            let start = randomIndex(bytes.count)
            let end = min(bytes.count, start + randomIndex(24) + 1)
            bytes.insert(contentsOf: bytes[start..<end], at: randomIndex(bytes.count + 1))
        case 6:
            let start = randomIndex(bytes.count)
            bytes.removeSubrange(start..<min(bytes.count, start + randomIndex(12) + 1))
        case 7:
            bytes.swapAt(randomIndex(bytes.count), randomIndex(bytes.count))
        default:
            let snippet = interestingSnippets[randomIndex(interestingSnippets.count)]
            bytes.insert(contentsOf: Array(snippet.utf8), at: randomIndex(bytes.count + 1))
        }
    }
}
