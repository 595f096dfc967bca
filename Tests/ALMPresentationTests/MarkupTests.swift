import ALMPresentation
import Testing

@Suite("escaping, path segments and numbers")
struct MarkupTests {
    @Test("escape replaces the five markup characters and characters XML forbids")
    func escape() {
        #expect(Markup.escape(hostileDOI) == "10.1234/&lt;script&gt;&quot;&amp;&#39;#?;x y")
        #expect(Markup.escape("a\u{0}b\u{1F}c\td\u{FFFE}é😀") == "a\u{FFFD}b\u{FFFD}c\td\u{FFFD}é😀")
    }

    @Test("a DOI becomes one path segment: everything outside A-Z a-z 0-9 - . _ ~ is percent-encoded, slash included")
    func pathSegment() {
        #expect(Markup.pathSegment(hostileDOI) == "10.1234%2F%3Cscript%3E%22%26%27%23%3F%3Bx%20y")
        #expect(Markup.pathSegment("10.1000/ABC_def-1.2~x") == "10.1000%2FABC_def-1.2~x")
        #expect(Markup.pathSegment("10.1/é") == "10.1%2F%C3%A9")
        #expect(Markup.pathSegment(".") == "%2E" && Markup.pathSegment("..") == "%2E%2E")
        #expect(Markup.doiURL(hostileDOI) == "https://doi.org/10.1234/%3Cscript%3E%22%26%27%23%3F%3Bx%20y")
    }

    @Test("decoding a path segment gives back the text for any input; malformed escapes and non-UTF-8 are nil")
    func decodePathSegment() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("10./abcXYZ<>\"&'#?;% +~_-é😀\u{1}")
        for _ in 0..<2_000 {
            let text = String((0..<Int.random(in: 0...24, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            #expect(Markup.decodePathSegment(Markup.pathSegment(text)) == text, "\(text)")
        }
        #expect(Markup.decodePathSegment("10.1%2fx+y") == "10.1/x+y")
        #expect(Markup.decodePathSegment("%") == nil && Markup.decodePathSegment("%4") == nil && Markup.decodePathSegment("%G1") == nil)
        #expect(Markup.decodePathSegment("%C3%28") == nil)
    }

    @Test("numbers have fixed decimals, a point whatever the locale, and never a negative zero")
    func numbers() {
        #expect(Markup.fixed(12.3456, decimals: 2) == "12.35")
        #expect(Markup.fixed(-0.001, decimals: 2) == "0.00")
        #expect(Markup.fixed(-1.5, decimals: 1) == "-1.5")
        #expect(Markup.fixed(.nan, decimals: 2) == "0.00" && Markup.fixed(.infinity, decimals: 1) == "0.0")
        #expect(Markup.compact(3) == "3" && Markup.compact(0.25) == "0.25" && Markup.compact(2.5) == "2.5" && Markup.compact(8.754) == "8.75")
    }
}
