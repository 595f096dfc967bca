import ALMAggregation
@testable import ALMPresentation
import Testing

@Suite("the attention score")
struct AttentionScoreTests {
    let scorer = AttentionScore()

    func part(_ result: AttentionScoreResult, _ source: String, _ metric: String) -> AttentionScoreResult.Part? {
        result.parts.first { $0.source == source && $0.metric == metric }
    }

    @Test("default weights: each source's mentions times its type's weight, by hand")
    func defaultWeights() throws {
        let aggregate = WorkAggregate(work: "10.1234/a", sources: [
            "bluesky": ["discusses": 10],                                   // social 10 × 0.25 = 2.5
            "reddit": ["discusses": 3, "likes": 40, "comments": 12],        // reddit 3 × 0.25 = 0.75; reactions 0
            "wikipedia": ["references": 4],                                 // flat: 1 × 3 = 3
            "hypothesis": ["annotates": 2],                                 // annotation 2 × 0.25 = 0.5
            "eventdata": ["discusses": 4, "reviews": 1, "is_version_of": 9], // social 1, peer review 1, other 0
            "crossref": ["cites": 120],                                     // citation 0
            "counter": ["views": 5000, "downloads": 800],                   // usage 0
            "somewhere": ["foo": 7],                                        // other 0
            "pmc": ["views": 0],                                            // zero: no part
        ])
        let result = scorer.score(aggregate)

        #expect(result.score == 8.75)
        #expect(result.displayScore == 9)
        #expect(result.parts.count == 13)
        #expect(result.parts.map { "\($0.source)/\($0.metric)" } == [
            "bluesky/discusses", "counter/downloads", "counter/views", "crossref/cites", "eventdata/discusses",
            "eventdata/is_version_of", "eventdata/reviews", "hypothesis/annotates", "reddit/comments", "reddit/discusses",
            "reddit/likes", "somewhere/foo", "wikipedia/references",
        ])
        let wikipedia = try #require(part(result, "wikipedia", "references"))
        #expect(wikipedia.type == "wikipedia" && wikipedia.value == 4 && wikipedia.mentions == 1 && wikipedia.points == 3)
        let likes = try #require(part(result, "reddit", "likes"))
        #expect(likes.type == "reactions" && likes.mentions == 40 && likes.points == 0)
        #expect(part(result, "eventdata", "reviews")?.type == "peer_review")
        #expect(part(result, "eventdata", "is_version_of")?.type == "other")
        #expect(part(result, "somewhere", "foo")?.type == "other")
        #expect(part(result, "crossref", "cites")?.type == "citation")
        #expect(part(result, "crossref", "cites")?.points == 0)
        #expect(part(result, "pmc", "views") == nil)
        #expect(result.parts.reduce(0) { $0 + $1.points } == 8.75)

        // docs/attention-score.md's worked example goes on with 4 distinct Bluesky accounts.
        let byAuthors = scorer.score(aggregate, distinctAuthors: ["bluesky": 4])
        #expect(byAuthors.score == 7.25 && byAuthors.displayScore == 8)
    }

    @Test("an empty aggregate scores 0 with no parts")
    func empty() {
        let result = scorer.score(WorkAggregate(work: "10.1234/empty"))
        #expect(result.score == 0 && result.parts.isEmpty && result.displayScore == 0)
    }

    @Test("Wikipedia counts 3 once per work, across sources; the part with the most pages gets the credit")
    func flatWikipedia() {
        let twoSources = WorkAggregate(work: "10.1234/w", sources: ["wikipedia": ["references": 5], "eventdata": ["references": 2]])
        let result = scorer.score(twoSources)
        #expect(result.score == 3)
        #expect(result.parts.map(\.mentions) == [0, 1])  // eventdata first in order, wikipedia credited
        #expect(result.parts.map(\.points) == [0, 3])

        let tie = WorkAggregate(work: "10.1234/w", sources: ["wikipedia": ["references": 2], "eventdata": ["references": 2]])
        #expect(scorer.score(tie).parts.map(\.mentions) == [1, 0])

        let many = WorkAggregate(work: "10.1234/w", sources: ["wikipedia": ["references": 250]])
        #expect(scorer.score(many).score == 3)
    }

    @Test("overridden weights and source types change the sum as configured; source/metric beats source")
    func overrides() throws {
        let weights = try AttentionWeights(overrides: ["social": 1, "wikipedia": 0, "citation": 0.5], sourceTypes: ["hypothesis": "peer_review"])
        let aggregate = WorkAggregate(work: "10.1234/o", sources: [
            "bluesky": ["discusses": 10], "hypothesis": ["annotates": 2], "wikipedia": ["references": 4], "crossref": ["cites": 120],
        ])
        // 10 × 1 + 2 × 1 + 1 × 0 + 120 × 0.5
        #expect(AttentionScore(weights: weights).score(aggregate).score == 72)
        #expect(weights.weight(ofType: "news") == 8)

        let redditAsNews = try AttentionWeights(sourceTypes: ["reddit": "news"])
        let reddit = WorkAggregate(work: "10.1234/r", sources: ["reddit": ["discusses": 3, "likes": 40]])
        #expect(AttentionScore(weights: redditAsNews).score(reddit).score == 24)
        #expect(redditAsNews.type(source: "reddit", metric: "likes") == "reactions")

        let silenced = try AttentionWeights(sourceTypes: ["bluesky/discusses": "other"])
        #expect(AttentionScore(weights: silenced).score(aggregate).score == 3.5)
    }

    @Test("distinct authors replace the mention count of author-counted types, capped at the mentions")
    func distinctAuthors() throws {
        let aggregate = WorkAggregate(work: "10.1234/d", sources: [
            "bluesky": ["discusses": 10], "reddit": ["discusses": 3, "likes": 40], "hypothesis": ["annotates": 2], "crossref": ["cites": 120],
        ])
        #expect(scorer.score(aggregate).score == 3.75)  // 2.5 + 0.75 + 0.5
        let result = scorer.score(aggregate, distinctAuthors: ["bluesky": 4, "reddit/discusses": 2, "reddit": 99, "hypothesis": 50, "crossref": 1])
        // bluesky 4 × 0.25 + reddit 2 × 0.25 + hypothesis min(50, 2) × 0.25
        #expect(result.score == 2)
        #expect(part(result, "bluesky", "discusses")?.mentions == 4)
        #expect(part(result, "reddit", "discusses")?.mentions == 2)
        #expect(part(result, "reddit", "likes")?.mentions == 40)       // reactions are not author-counted
        #expect(part(result, "hypothesis", "annotates")?.mentions == 2)
        #expect(part(result, "crossref", "cites")?.mentions == 120)    // citations are not author-counted
    }

    @Test("policy counts once per source, or once per issuing body when the distinct count is known")
    func policyPerSource() throws {
        let weights = try AttentionWeights(sourceTypes: ["overton": "policy", "govwatch": "policy"])
        let aggregate = WorkAggregate(work: "10.1234/p", sources: ["overton": ["mentions": 7], "govwatch": ["mentions": 2]])
        let scorer = AttentionScore(weights: weights)
        #expect(scorer.score(aggregate).score == 6)
        #expect(scorer.score(aggregate, distinctAuthors: ["overton": 3]).score == 12)
    }

    @Test("the score is rounded to 2 decimals; the badge number is that rounded up, so any attention shows as at least 1")
    func rounding() throws {
        let weights = try AttentionWeights(overrides: ["social": 0.1])
        let result = AttentionScore(weights: weights).score(WorkAggregate(work: "10.1234/x", sources: ["bluesky": ["discusses": 3]]))
        #expect(result.parts[0].points != 0.3)  // 3 × 0.1 in binary floating point
        #expect(result.score == 0.3)
        #expect(result.displayScore == 1)
        #expect(AttentionScoreResult.displayScore(0) == 0)
        #expect(AttentionScoreResult.displayScore(0.01) == 1)
        #expect(AttentionScoreResult.displayScore(2) == 2)
        #expect(AttentionScoreResult.displayScore(2.01) == 3)
        #expect(AttentionScoreResult.displayScore(5.25) == 6)
        #expect(AttentionScoreResult.displayScore(1e30) == Int.max)
    }

    @Test("invalid configuration is refused with the key at fault in the message")
    func invalidOverrides() {
        func error(_ overrides: [String: Double] = [:], _ sourceTypes: [String: String] = [:]) -> AttentionWeightsError? {
            do {
                _ = try AttentionWeights(overrides: overrides, sourceTypes: sourceTypes)
                return nil
            } catch {
                return error
            }
        }
        let unknown = error(["tweets": 1])
        #expect(unknown?.code == .unknownType && unknown?.key == "tweets")
        #expect(unknown?.message.contains("\"tweets\": unknown type") == true && unknown?.message.contains("news") == true)
        for bad in [-1, Double.nan, Double.infinity] {
            let invalid = error(["news": bad])
            #expect(invalid?.code == .invalidWeight && invalid?.key == "news" && invalid?.message.contains("news") == true)
        }
        for key in ["a/b/c", "/x", "x/", ""] {
            #expect(error([:], [key: "social"])?.code == .invalidSourceKey)
        }
        let badType = error([:], ["bluesky": "tweet"])
        #expect(badType?.code == .unknownType && badType?.key == "bluesky" && badType?.message.contains("\"tweet\"") == true)
        #expect(error(["zzz": 1, "aaa": 1])?.key == "aaa")
        #expect(error(["news": 0, "social": 2], ["mastodon": "social", "reddit/likes": "other"]) == nil)
    }
}
