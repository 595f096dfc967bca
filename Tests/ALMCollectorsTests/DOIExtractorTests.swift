import ALMCollectors
import Testing

@Suite("collectors: DOIs in links and text")
struct DOIExtractorTests {
    @Test("a URL gives the DOI it links, normalised, or none",
          arguments: [
            ("https://doi.org/10.1371/journal.pone.0008776", ["10.1371/journal.pone.0008776"]),
            ("http://dx.doi.org/10.1371/JOURNAL.PONE.0008776", ["10.1371/journal.pone.0008776"]),
            ("https://www.doi.org/10.1000/182", ["10.1000/182"]),
            ("HTTPS://DOI.ORG/10.1000/182", ["10.1000/182"]),
            ("doi.org/10.1000/182", ["10.1000/182"]),
            ("//doi.org/10.1000/182", ["10.1000/182"]),
            ("https://doi.org/10.1371%2Fjournal.pone.0008776", ["10.1371/journal.pone.0008776"]),
            ("https://doi.org/10.1002/%28SICI%291097-4571%28198909%2940%3A5%3C342%3A%3AAID-ASI7%3E3.0.CO%3B2-U",
             ["10.1002/(sici)1097-4571(198909)40:5<342::aid-asi7>3.0.co;2-u"]),
            ("https://doi.org/10.1000/182?utm_source=twitter&utm_medium=social", ["10.1000/182"]),
            ("https://doi.org/10.1000/182#references", ["10.1000/182"]),
            ("https://doi.org/10.1000/182.", ["10.1000/182"]),
            ("https://doi.org/10.1016/0002-9343(80)90001-1", ["10.1016/0002-9343(80)90001-1"]),
            ("doi:10.1000/182", ["10.1000/182"]),
            ("DOI:10.1000/182", ["10.1000/182"]),
            ("info:doi/10.1000/182", ["10.1000/182"]),
            ("https://onlinelibrary.wiley.com/doi/full/10.1002/asi.4630240406", ["10.1002/asi.4630240406"]),
            ("https://onlinelibrary.wiley.com/doi/10.1002/asi.4630240406/abstract", ["10.1002/asi.4630240406"]),
            ("https://journals.sagepub.com/doi/pdf/10.1177/0961000615616450?download=true", ["10.1177/0961000615616450"]),
            ("https://link.springer.com/article/10.1007%2Fs00248-010-9734-2", ["10.1007/s00248-010-9734-2"]),
            ("https://www.biorxiv.org/content/10.1101/108480v1.full", ["10.1101/108480"]),
            ("https://www.biorxiv.org/content/10.1101/2020.03.22.002386v2.full.pdf", ["10.1101/2020.03.22.002386"]),
            ("https://journals.plos.org/plosone/article?id=10.1371/journal.pone.0008776", ["10.1371/journal.pone.0008776"]),
            ("https://journals.plos.org/plosone/article?id=10.1371%2Fjournal.pone.0008776&type=printable", ["10.1371/journal.pone.0008776"]),
            ("https://example.org/redirect?to=https%3A%2F%2Fdoi.org%2F10.1000%2F182", ["10.1000/182"]),
            ("https://user@doi.org:443/10.1000/182", ["10.1000/182"]),
            ("https://www.youtube.com/watch?v=V5lDo-jw8mA", []),
            ("https://example.org/prices/10.5/20", []),
            ("https://doi.org/", []),
            ("https://doi.org/10.1371", []),
            ("https://doi.org/not-a-doi", []),
            ("https://example.org/10.1234", []),
            ("", []),
          ] as [(String, [String])])
    func url(_ url: String, expected: [String]) {
        #expect(DOIExtractor.dois(inURL: url) == expected, "\(url)")
    }

    @Test("text gives every DOI it mentions, once each, without the punctuation around it",
          arguments: [
            ("See doi:10.1000/182, and (https://doi.org/10.5555/12345678).", ["10.1000/182", "10.5555/12345678"]),
            ("Published as 10.1038/nature19798.", ["10.1038/nature19798"]),
            ("DOI: 10.1093/bib/bbx057; PMID 123", ["10.1093/bib/bbx057"]),
            ("[10.1016/0002-9343(80)90001-1]", ["10.1016/0002-9343(80)90001-1"]),
            ("doi:10.1000/182 and again https://dx.doi.org/10.1000/182?ref=x", ["10.1000/182"]),
            (#"<a href="https://doi.org/10.7554/eLife.32822">paper</a>"#, ["10.7554/elife.32822"]),
            ("read www.example.org/doi/10.3233/ds-190016/full!", ["10.3233/ds-190016"]),
            ("The ratio was 10.5/20 and 10.25/7, no DOI here.", []),
            ("nothing at all", []),
          ] as [(String, [String])])
    func text(_ text: String, expected: [String]) {
        #expect(DOIExtractor.dois(inText: text) == expected, "\(text)")
    }
}

@Suite("collectors: links naming a work by PMID, PMCID or arXiv id")
struct OtherIdentifierTests {
    @Test("PubMed, PubMed Central, Europe PMC and arXiv links give their id", arguments: [
        ("https://pubmed.ncbi.nlm.nih.gov/17183631/", OtherIdentifier.pmid("17183631")),
        ("https://www.ncbi.nlm.nih.gov/pubmed/0017183631?dopt=Abstract", .pmid("17183631")),
        ("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC2808249/", .pmcid("PMC2808249")),
        ("https://pmc.ncbi.nlm.nih.gov/articles/pmc2808249", .pmcid("PMC2808249")),
        ("https://europepmc.org/article/MED/19749171", .pmid("19749171")),
        ("https://europepmc.org/abstract/PMC/PMC2808249", .pmcid("PMC2808249")),
        ("https://arxiv.org/abs/2101.00001v2", .arxiv("2101.00001")),
        ("https://arxiv.org/pdf/2101.00001.pdf", .arxiv("2101.00001")),
        ("http://arxiv.org/abs/hep-th/9901001", .arxiv("hep-th/9901001")),
    ] as [(String, OtherIdentifier)])
    func recognised(url: String, expected: OtherIdentifier) {
        #expect(DOIExtractor.otherIdentifier(inURL: url) == expected)
    }

    @Test("other links name no work", arguments: [
        "https://pubmed.ncbi.nlm.nih.gov/?term=malaria", "https://www.ncbi.nlm.nih.gov/pmc/", "https://example.org/pubmed/123",
        "https://arxiv.org/list/hep-th/new", "https://europepmc.org/search?query=x", "not a url",
    ])
    func ignored(url: String) {
        #expect(DOIExtractor.otherIdentifier(inURL: url) == nil)
    }

    @Test("a resolver maps them to registered DOIs; a DOI link needs none, and an unknown id links nothing")
    func resolving() {
        let resolve: IdentifierResolver = { $0 == .pmid("17183631") ? "10.1371/journal.pone.0000001" : nil }
        #expect(DOIExtractor.dois(inURL: "https://pubmed.ncbi.nlm.nih.gov/17183631/", resolving: resolve) == ["10.1371/journal.pone.0000001"])
        #expect(DOIExtractor.dois(inURL: "https://pubmed.ncbi.nlm.nih.gov/1/", resolving: resolve).isEmpty)
        #expect(DOIExtractor.dois(inURL: "https://pubmed.ncbi.nlm.nih.gov/17183631/", resolving: nil).isEmpty)
        #expect(DOIExtractor.dois(inURL: "https://doi.org/10.1/X", resolving: resolve) == ["10.1/x"])
    }
}
