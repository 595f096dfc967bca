import ALMCore
import Testing

struct DOITests {
    /// Accepted spellings and their normal form. DOIs without a comment are real ones from
    /// shared/fixtures/README.md.
    static let validCases: [(input: String, normalized: String)] = [
        ("10.1371/journal.pone.0000308", "10.1371/journal.pone.0000308"),
        ("10.1371/JOURNAL.PMED.0050045", "10.1371/journal.pmed.0050045"),
        ("https://doi.org/10.1371/JOURNAL.PMED.0050045", "10.1371/journal.pmed.0050045"),
        ("http://doi.org/10.7717/peerj.4375", "10.7717/peerj.4375"),
        ("https://dx.doi.org/10.1007/s00248-010-9734-2", "10.1007/s00248-010-9734-2"),
        ("http://dx.doi.org/10.1124/pr.109.001263", "10.1124/pr.109.001263"),
        ("doi.org/10.3758/s13423-011-0070-4", "10.3758/s13423-011-0070-4"),
        ("dx.doi.org/10.1164/rccm.200612-1772OC", "10.1164/rccm.200612-1772oc"),
        ("www.doi.org/10.5061/dryad.8515", "10.5061/dryad.8515"),
        ("https://www.doi.org/10.7272/q6g15xs4", "10.7272/q6g15xs4"),
        ("http://www.doi.org/10.7272/Q6G15XS4", "10.7272/q6g15xs4"),
        ("HTTPS://DOI.ORG/10.1108/JD-12-2013-0166", "10.1108/jd-12-2013-0166"),
        ("Https://Dx.Doi.Org/10.1145/3197026.3197050", "10.1145/3197026.3197050"),
        ("doi:10.1145/3197026.3197050", "10.1145/3197026.3197050"),
        ("DOI: 10.1371/journal.ppat.1000446", "10.1371/journal.ppat.1000446"),
        ("doi:  10.1371/journal.pone.0008776", "10.1371/journal.pone.0008776"),
        ("  10.1371/journal.pone.0033693\n", "10.1371/journal.pone.0033693"),
        ("\t doi:10.1371/journal.pone.0043007 \r\n", "10.1371/journal.pone.0043007"),
        // Percent-encoding, alone and behind a resolver.
        ("10.1371%2Fjournal.pone.0000308", "10.1371/journal.pone.0000308"),
        ("https://doi.org/10.1371%2fjournal.pone.0000308", "10.1371/journal.pone.0000308"),
        ("10.1234/caf%C3%A9", "10.1234/café"),
        (
            "10.1002%2F%28SICI%291097-4636%28199603%2931%3A3%3C329%3A%3AAID-JBM7%3E3.0.CO%3B2-M",
            "10.1002/(sici)1097-4636(199603)31:3<329::aid-jbm7>3.0.co;2-m"
        ),
        // Parentheses, brackets and SICI punctuation that belong to the DOI stay.
        ("10.1002/(SICI)1097-4636(199603)31:3<329::AID-JBM7>3.0.CO;2-M", "10.1002/(sici)1097-4636(199603)31:3<329::aid-jbm7>3.0.co;2-m"),
        ("10.1016/0002-9343(80)90001-1", "10.1016/0002-9343(80)90001-1"),
        ("10.1175/1520-0442(2001)014<3723:ANOTCO>2.0.CO;2", "10.1175/1520-0442(2001)014<3723:anotco>2.0.co;2"),
        ("10.5555/(abc)", "10.5555/(abc)"),
        ("10.5555/[abc]", "10.5555/[abc]"),
        ("10.5555/{abc}", "10.5555/{abc}"),
        // Trailing punctuation from the surrounding prose goes.
        ("10.1371/journal.pone.0000308.", "10.1371/journal.pone.0000308"),
        ("10.1371/journal.pone.0000308,", "10.1371/journal.pone.0000308"),
        ("10.1371/journal.pone.0000308;", "10.1371/journal.pone.0000308"),
        ("10.1371/journal.pone.0000308:", "10.1371/journal.pone.0000308"),
        ("10.1371/journal.pone.0000308'", "10.1371/journal.pone.0000308"),
        ("10.1371/journal.pone.0000308\"", "10.1371/journal.pone.0000308"),
        ("10.1371/journal.pone.0000308?!", "10.1371/journal.pone.0000308"),
        ("10.1371/journal.pone.0000308).", "10.1371/journal.pone.0000308"),
        ("10.1371/journal.pone.0000308]", "10.1371/journal.pone.0000308"),
        ("10.1371/journal.pone.0000308}", "10.1371/journal.pone.0000308"),
        ("10.1371/journal.pone.0000308 .", "10.1371/journal.pone.0000308"),
        ("10.1016/0002-9343(80)90001-1).", "10.1016/0002-9343(80)90001-1"),
        ("https://doi.org/10.1234/ABC).", "10.1234/abc"),
        ("10.1234/abc%2E", "10.1234/abc"),
        // Registrant codes with sub-registrants; the DOI Handbook's own example.
        ("10.1000.10/abc", "10.1000.10/abc"),
        ("10.1000/182", "10.1000/182"),
        ("10.1/x", "10.1/x"),
        // Non-ASCII suffixes are lower-cased by Unicode rules.
        ("10.1234/ÄBÇ", "10.1234/äbç"),
        // Exactly the 512-character limit.
        ("10.1234/" + String(repeating: "x", count: 504), "10.1234/" + String(repeating: "x", count: 504)),
    ]

    /// Rejected inputs and the reason. Decisions: only DOI resolvers are stripped (a DOI inside another
    /// URL is not extracted: where it ends is unknowable), other schemes are the registry's job, and a
    /// bracket or quote before the DOI is not stripped (only trailing punctuation is).
    static let invalidCases: [(input: String, error: DOIError)] = [
        ("", .empty),
        ("   \n", .empty),
        ("doi:", .empty),
        ("https://doi.org/", .empty),
        ("10.1371", .missingSuffix),
        ("10.1371/", .missingSuffix),
        ("doi:10.1234/.", .missingSuffix),
        ("10.1234/)", .missingSuffix),
        ("10./abc", .invalidRegistrantCode),
        ("10.12a4/x", .invalidRegistrantCode),
        ("10.1000./x", .invalidRegistrantCode),
        ("10..1000/x", .invalidRegistrantCode),
        ("10.1234 /x", .invalidRegistrantCode),
        ("11.1234/x", .missingDirectoryIndicator),
        ("https://example.org/10.1234/x", .missingDirectoryIndicator),
        ("ftp://doi.org/10.1234/x", .missingDirectoryIndicator),
        ("pmid:123", .missingDirectoryIndicator),
        ("PMC3292175", .missingDirectoryIndicator),
        ("arXiv:1501.00001", .missingDirectoryIndicator),
        ("(10.1234/x)", .missingDirectoryIndicator),
        ("/10.1234/x", .missingDirectoryIndicator),
        ("10.1234/a b", .containsWhitespaceOrControl),
        ("10.1234/a\tb", .containsWhitespaceOrControl),
        ("10.1234/a\u{0}b", .containsWhitespaceOrControl),
        ("10.1234/a\u{7F}b", .containsWhitespaceOrControl),
        ("10.1234/a\u{A0}b", .containsWhitespaceOrControl),
        ("10.1234/ab\u{200B}c", .containsWhitespaceOrControl),
        ("10.1234/a%20b", .containsWhitespaceOrControl),
        ("10.1234/%zz", .invalidPercentEncoding),
        ("10.1234%zz", .invalidPercentEncoding),
        ("10.1234/abc%2", .invalidPercentEncoding),
        ("10.1234/100%", .invalidPercentEncoding),
        ("10.1234/%FF", .invalidPercentEncoding),
        ("10.1234/%C3", .invalidPercentEncoding),
        ("10.1234/100%25", .invalidPercentEncoding),
        ("10.1234/" + String(repeating: "x", count: 592), .tooLong(length: 600)),
        ("10.1234/" + String(repeating: "x", count: 505), .tooLong(length: 513)),
    ]

    @Test(arguments: validCases)
    func normalizesAcceptedSpellings(input: String, normalized: String) throws {
        #expect(try DOI.normalize(input) == normalized)
        #expect(DOI.isNormalized(normalized))
        // Normalising is idempotent: every decoded record normalises its already normal `work` again.
        #expect(try DOI.normalize(normalized) == normalized)
    }

    @Test(arguments: invalidCases)
    func rejectsMalformedIdentifiers(input: String, error: DOIError) {
        #expect(throws: error) { try DOI.normalize(input) }
        #expect(!DOI.isNormalized(input))
    }

    @Test func tableIsAsLargeAsPromised() {
        #expect(Self.validCases.count + Self.invalidCases.count >= 40)
        #expect(Self.invalidCases.count >= 12)
    }

    /// Every decoded record normalises its already normal `work` again, so normalising must be idempotent
    /// for whatever it accepts. Checked on seeded random assemblies of the awkward pieces.
    @Test func normalizingIsIdempotent() throws {
        let pieces = [
            "10.", "1371", "1000", ".", "/", "journal", "PONE", "0000308", "doi:", "DOI: ", "https://doi.org/",
            "dx.doi.org/", " ", "\t", "(", ")", "[", "]", "{", "}", ";", ":", ",", "'", "\"", "!", "?", "%2F", "%2E",
            "%29", "%25", "%C3%A9", "%zz", "%", "<", ">", "-", "_", "Ä", "ΣΑΣ", "İ", "é", "\u{A0}", "\u{200B}", "x",
        ]
        var generator = SplitMix64(seed: 0xD01)
        var accepted = 0
        for _ in 0..<20_000 {
            var candidate = Bool.random(using: &generator) ? "10.1234/" : ""
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                candidate += pieces[Int.random(in: 0..<pieces.count, using: &generator)]
            }
            guard let normalized = try? DOI.normalize(candidate) else { continue }
            accepted += 1
            #expect(try DOI.normalize(normalized) == normalized, "\(candidate)")
            #expect(DOI.isNormalized(normalized), "\(candidate)")
        }
        #expect(accepted > 2_000)
    }

    @Test func isNormalizedOnlyForTheNormalForm() {
        #expect(DOI.isNormalized("10.1371/journal.pone.0000308"))
        #expect(!DOI.isNormalized("10.1371/JOURNAL.pone.0000308"))
        #expect(!DOI.isNormalized("doi:10.1371/journal.pone.0000308"))
        #expect(!DOI.isNormalized("10.1371/journal.pone.0000308."))
        #expect(!DOI.isNormalized(" 10.1371/journal.pone.0000308"))
    }

    @Test func errorMessagesSayWhatIsWrong() {
        #expect(DOIError.empty.description == "DOI is empty")
        #expect(DOIError.missingDirectoryIndicator.description.contains("\"10.\""))
        #expect(DOIError.missingSuffix.description.contains("suffix"))
        #expect(DOIError.invalidRegistrantCode.description.contains("registrant"))
        #expect(DOIError.invalidPercentEncoding.description.contains("percent-encoding"))
        #expect(DOIError.containsWhitespaceOrControl.description.contains("whitespace"))
        #expect(DOIError.tooLong(length: 600).description == "DOI is 600 characters long; at most 512 are allowed")
    }
}
