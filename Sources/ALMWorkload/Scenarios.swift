/// One scenario per source: what a collector of that source reports at the stream clock. A scenario
/// writes one or more records into `scenarioOutput`, some of them for later slots (a retraction, a
/// restatement, an older observation arriving late).
extension Generator {
    // MARK: wikipedia — references, some retracted later, some retractions delivered first

    func wikipedia() {
        let work = drawWork()
        let language = Vocabulary.language(at: random.unit())
        let page = random.pick(language.pages)
        let retracted = random.chance(Mix.retractedReferences)
        let deleteFirst = retracted && random.chance(Mix.deleteBeforeAdd)
        let lifetime = random.inRange(Instant.hour...60 * Instant.day)

        func reference(_ action: Action, at occurred: Instant, delay: Int) {
            var writer = RecordWriter(kind: "event")
            writer.openString("id")
            writer.append("wikipedia:")
            writer.append(language.code)
            writer.append(byte: UInt8(ascii: ":"))
            writer.append(page.title)
            writer.append(byte: UInt8(ascii: ":"))
            writer.appendDOI(work.number)
            writer.closeString()
            writeSourceAndWork(&writer, .wikipedia, work)
            let rich = action == .add
            if rich, random.chance(0.4) {
                writer.openString("obj")
                switch random.below(3) {
                case 0:
                    writer.append("https://doi.org/10.5555/ALM.")
                    writer.appendDecimal(work.number)
                case 1:
                    writer.append("doi:")
                    writer.appendDOI(work.number)
                default:
                    writer.appendDOI(work.number)
                }
                writer.closeString()
            }
            writer.openString("subj")
            writer.append("https://")
            writer.append(language.code)
            writer.append(".wikipedia.org/wiki/")
            writer.append(page.urlTitle)
            writer.closeString()
            writer.string("metric", "references")
            writer.number("value", 1)
            writer.string("action", action.text)
            writer.timestamp("occurred_at", occurred)
            writer.timestamp("observed_at", clamp(occurred + random.inRange(1 * Instant.second...40 * Instant.second)))
            if rich, random.chance(0.5) {
                writer.openMeta()
                writer.append(#"{"title":""#)
                writer.append(page.displayTitle)
                writer.append(#""}"#)
            }
            emit(.wikipedia, work, &writer, delay: delay)
        }

        if deleteFirst {
            // The page-links stream delivers the removal; the search backfill finds the addition later.
            let removed = jitteredClock().wholeSecond
            let added = (removed - lifetime < Generator.start
                ? Generator.start + random.inRange(0...(removed.milliseconds - Generator.start.milliseconds))
                : removed - lifetime).wholeSecond
            reference(.delete, at: removed, delay: 0)
            if added < removed {
                reference(.add, at: added, delay: shortDelay(upTo: 2000))
            }
        } else {
            let added = jitteredClock(latest: Generator.end - Instant.hour).wholeSecond
            reference(.add, at: added, delay: 0)
            let removed = (added + lifetime).wholeSecond
            if retracted, removed < Generator.end - Instant.minute {
                reference(.delete, at: removed, delay: slots(forSpan: lifetime))
            }
        }
    }

    // MARK: bluesky — posts that link a work (mentions), a few deleted later

    func bluesky() {
        let work = drawWork()
        let author = random.below(50_000)
        let postSeed = random.next()
        let posted = jitteredClock(latest: Generator.end - Instant.hour)
        let deleted = random.chance(Mix.deletedPosts)

        func post(_ action: Action, at occurred: Instant, delay: Int) {
            var writer = RecordWriter(kind: "event")
            var did = SplitMix64(seed: stableHash(spec.seed, 0x4449_44, UInt64(author)))
            var rkey = SplitMix64(seed: postSeed)
            writer.openString("id")
            writer.append("bluesky:did:plc:")
            writer.appendSymbols(Vocabulary.base32, count: 24, &did)
            writer.append(byte: UInt8(ascii: ":"))
            writer.append(byte: UInt8(ascii: "3"))
            writer.appendSymbols(Vocabulary.tidAlphabet, count: 12, &rkey)
            writer.closeString()
            writeSourceAndWork(&writer, .bluesky, work)
            let rich = action == .add
            if rich, random.chance(0.7) {
                writer.openString("obj")
                writer.append("https://doi.org/")
                writer.appendDOI(work.number)
                writer.closeString()
            }
            did = SplitMix64(seed: stableHash(spec.seed, 0x4449_44, UInt64(author)))
            rkey = SplitMix64(seed: postSeed)
            writer.openString("subj")
            writer.append("at://did:plc:")
            writer.appendSymbols(Vocabulary.base32, count: 24, &did)
            writer.append("/app.bsky.feed.post/3")
            writer.appendSymbols(Vocabulary.tidAlphabet, count: 12, &rkey)
            writer.closeString()
            writer.string("metric", "mentions")
            writer.number("value", 1)
            writer.string("action", action.text)
            writer.timestamp("occurred_at", occurred, milliseconds: true)
            writer.timestamp(
                "observed_at", clamp((occurred + random.inRange(200...5000 as ClosedRange<Int64>)).wholeSecond + Instant.second))
            if rich, random.chance(0.4) {
                writer.openMeta()
                writer.append(#"{"handle":""#)
                writer.append(Vocabulary.handleWords[author % Vocabulary.handleWords.count])
                writer.appendDecimal(author)
                writer.append(#".bsky.social"}"#)
            }
            emit(.bluesky, work, &writer, delay: delay)
        }

        post(.add, at: posted, delay: 0)
        if deleted {
            let lifetime = random.inRange(10 * Instant.minute...30 * Instant.day)
            if posted + lifetime < Generator.end - Instant.minute {
                post(.delete, at: posted + lifetime, delay: slots(forSpan: lifetime))
            }
        }
    }

    // MARK: hypothesis — annotations on the work, a few deleted later

    func hypothesis() {
        let work = drawWork()
        let annotationSeed = random.next()
        let created = jitteredClock(latest: Generator.end - Instant.day).wholeSecond
        let deleted = random.chance(Mix.deletedAnnotations)

        func annotation(_ action: Action, at occurred: Instant, delay: Int) {
            var writer = RecordWriter(kind: "event")
            var identifier = SplitMix64(seed: annotationSeed)
            writer.openString("id")
            writer.append("hypothesis:")
            writer.appendSymbols(Vocabulary.base64URL, count: 22, &identifier)
            writer.closeString()
            writeSourceAndWork(&writer, .hypothesis, work)
            let rich = action == .add
            if rich {
                writer.openString("obj")
                if random.chance(0.6) {
                    writer.append("https://journals.example.org/article?id=")
                } else {
                    writer.append("https://doi.org/")
                }
                writer.appendDOI(work.number)
                writer.closeString()
            }
            identifier = SplitMix64(seed: annotationSeed)
            writer.openString("subj")
            writer.append("https://hypothes.is/a/")
            writer.appendSymbols(Vocabulary.base64URL, count: 22, &identifier)
            writer.closeString()
            writer.string("metric", "annotates")
            writer.number("value", 1)
            writer.string("action", action.text)
            writer.timestamp("occurred_at", occurred)
            writer.timestamp("observed_at", clamp(occurred + random.inRange(Instant.minute...2 * Instant.hour)).wholeSecond)
            if rich, random.chance(0.5) {
                writer.openMeta()
                writer.append(#"{"user":""#)
                writer.append(random.pick(Vocabulary.hypothesisUsers))
                writer.append(random.chance(0.5) ? #"","tags":["methods"]}"# : #""}"#)
            }
            emit(.hypothesis, work, &writer, delay: delay)
        }

        annotation(.add, at: created, delay: 0)
        if deleted {
            let lifetime = random.inRange(Instant.hour...90 * Instant.day)
            if created + lifetime < Generator.end - Instant.day {
                annotation(.delete, at: (created + lifetime).wholeSecond, delay: slots(forSpan: lifetime))
            }
        }
    }

    // MARK: eventdata — Crossref Event Data: discussions, citations, F1000 recommendations

    func eventdata() {
        let work = drawWork()
        let observed = jitteredClock().wholeSecond
        let lag = random.inRange(0...min(14 * Instant.day, observed.milliseconds - Generator.start.milliseconds))
        let occurred = (observed - lag).wholeSecond
        var writer = RecordWriter(kind: "event")
        writer.openString("id")
        writer.append("eventdata:")
        let high = random.next(), low = random.next()
        writer.appendHex(high >> 32, digits: 8)
        writer.append(byte: UInt8(ascii: "-"))
        writer.appendHex(high >> 16, digits: 4)
        writer.append("-4")
        writer.appendHex(high, digits: 3)
        writer.append(byte: UInt8(ascii: "-"))
        writer.append(byte: Array("89ab".utf8)[Int(low >> 62)])
        writer.appendHex(low >> 48, digits: 3)
        writer.append(byte: UInt8(ascii: "-"))
        writer.appendHex(low, digits: 12)
        writer.closeString()
        writeSourceAndWork(&writer, .eventdata, work)
        if random.chance(0.7) {
            writer.openString("obj")
            writer.append("https://doi.org/")
            writer.appendDOI(work.number)
            writer.closeString()
        }
        let u = random.unit()
        let metric: StaticString
        let meta: String
        writer.openString("subj")
        if u < 0.6 {
            let site = random.pick(Vocabulary.discussionSites)
            writer.append(site.urlPrefix)
            writer.appendSymbols(Vocabulary.lowerAlphanumeric, count: 6, &random)
            writer.append(byte: UInt8(ascii: "/"))
            metric = "discusses"
            meta = #"{"source_id":""# + site.sourceID + #""}"#
        } else if u < 0.9 {
            writer.append("https://doi.org/10.")
            writer.appendDecimal(1000 + random.below(9000))
            writer.append(byte: UInt8(ascii: "/"))
            writer.appendSymbols(Vocabulary.lowerAlphanumeric, count: 8, &random)
            metric = "cites"
            meta = random.chance(0.7)
                ? #"{"source_id":"crossref","relation_type_id":"references"}"#
                : #"{"source_id":"datacite","relation_type_id":"cites"}"#
        } else {
            writer.append("https://f1000.com/prime/7")
            writer.appendDecimal(100_000 + random.below(900_000))
            metric = "recommends"
            meta = #"{"source_id":"f1000","relation_type_id":"recommends"}"#
        }
        writer.closeString()
        writer.string("metric", metric)
        writer.number("value", 1)
        writer.string("action", "add")
        writer.timestamp("occurred_at", occurred)
        writer.timestamp("observed_at", observed)
        writer.openMeta()
        writer.append(meta)
        emit(.eventdata, work, &writer)
    }

    // MARK: crossref, openalex — cited-by totals, growing over time; crossref delivers some late

    /// The work's Crossref cited-by count at `instant`: grows with time, larger for popular works.
    func crossrefCites(_ work: WorkRef, at instant: Instant) -> UInt64 {
        let popularity = 1 / Double(work.rank + 1).squareRoot()
        let base = (400 * popularity * (0.3 + stableUnit(spec.seed, UInt64(work.number), 1))).rounded(.down)
        let perDay = (base + 3) / 365 * (0.2 + 1.6 * stableUnit(spec.seed, UInt64(work.number), 2))
        let days = Double(instant.milliseconds - Generator.start.milliseconds) / Double(Instant.day)
        return UInt64(base + (perDay * days).rounded(.down))
    }

    func crossref() {
        let work = drawWork()
        let observed = jitteredClock()
        func total(at instant: Instant, delay: Int) {
            var writer = RecordWriter(kind: "total")
            writeSourceAndWork(&writer, .crossref, work)
            if random.chance(0.5) {
                writer.openString("obj")
                writer.appendDOI(work.number)
                writer.closeString()
            }
            writer.string("metric", "cites")
            writer.number("value", crossrefCites(work, at: instant))
            writer.string("action", "add")
            writer.timestamp("observed_at", instant.wholeSecond)
            emit(.crossref, work, &writer, delay: delay)
        }
        total(at: observed, delay: 0)
        if random.chance(Mix.olderTotalAfterNewer) {
            // A retried request from an earlier crawl arrives after the newer answer.
            let older = observed - random.inRange(7 * Instant.day...120 * Instant.day)
            if older > Generator.start {
                total(at: older, delay: shortDelay(upTo: 500))
            }
        }
    }

    func openalex() {
        let work = drawWork()
        let observed = jitteredClock().wholeSecond
        let crossrefCount = Double(crossrefCites(work, at: observed))
        let factor = 1.02 + 0.15 * stableUnit(spec.seed, UInt64(work.number), 3)
        var writer = RecordWriter(kind: "total")
        writeSourceAndWork(&writer, .openalex, work)
        if random.chance(0.6) {
            writer.openString("obj")
            writer.append("https://openalex.org/W")
            writer.appendDecimal(4_000_000_000 + stableHash(spec.seed, UInt64(work.number), 4) % 900_000_000)
            writer.closeString()
        }
        writer.string("metric", "cites")
        writer.number("value", UInt64((crossrefCount * factor).rounded(.down)))
        writer.string("action", "add")
        writer.timestamp("observed_at", observed)
        emit(.openalex, work, &writer)
    }

    // MARK: counter, pmc — monthly usage counts; counter restates some months later

    /// A month's count for a work: larger for popular works, varied by month.
    func monthlyCount(_ source: Source, _ work: WorkRef, _ month: Month, _ metric: Metric) -> UInt64 {
        let popularity = 1 / Double(work.rank + 1).squareRoot()
        let scale: Double = source == .counter ? 3000 : 900
        let downloads = (3 + scale * popularity) * (0.5 + stableUnit(spec.seed, UInt64(work.number), UInt64(month.index), UInt64(source.rawValue)))
        guard metric == .views else { return UInt64(downloads.rounded(.down)) }
        let viewsPerDownload = 2 + 2 * stableUnit(spec.seed, UInt64(work.number), UInt64(month.index), 100 + UInt64(source.rawValue))
        return UInt64((downloads * viewsPerDownload).rounded(.down))
    }

    /// When (if ever) COUNTER restates the month for this work and metric, and the restated value.
    func restatement(_ work: WorkRef, _ month: Month, _ metric: Metric, original: UInt64) -> (at: Instant, value: UInt64)? {
        let key = (UInt64(work.number), UInt64(month.index), UInt64(metric.rawValue))
        guard stableUnit(spec.seed, key.0, key.1, 200 + key.2) < Mix.restatedMonths else { return nil }
        let hash = stableHash(spec.seed, key.0, key.1, 300 + key.2)
        let at = month.adding(months: 1).start + 8 * Instant.day + Int64(hash % UInt64(37 * Instant.day))
        // Between 10% fewer and 15% more; never the same number.
        let fraction: Double = -0.10 + 0.25 * (Double(hash >> 40) / 16_777_216.0)
        let change = Int64((Double(original) * fraction).rounded(.down))
        let restated: Int64 = max(0, Int64(original) + (change == 0 ? 1 : change))
        let value: UInt64 = restated == Int64(original) ? UInt64(restated) + 1 : UInt64(restated)
        return (at.wholeSecond, value)
    }

    func monthlyCounts(_ source: Source) {
        let work = drawWork()
        // Monthly reports start with the first full month: none is observed before February 2025.
        var observed = jitteredClock()
        let firstReport = Instant(year: 2025, month: 2, day: 1) + 6 * Instant.hour
        if observed < firstReport { observed = firstReport + random.inRange(0...10 * Instant.day) }
        observed = observed.wholeSecond
        let u = random.unit()
        let monthsBack = u < 0.8 ? 1 : u < 0.95 ? 2 : random.inRange(3...6)
        let month = max(Month(year: 2025, month: 1), observed.month.adding(months: -monthsBack))
        let withMeta = source == .counter && random.chance(0.3)

        func count(_ metric: Metric, _ value: UInt64, at instant: Instant, delay: Int) {
            var writer = RecordWriter(kind: "count", capacity: 256)
            writeSourceAndWork(&writer, source, work)
            if source == .pmc {
                writer.openString("obj")
                writer.append("PMC")
                writer.appendDecimal(1_000_000 + stableHash(spec.seed, UInt64(work.number), 5) % 9_000_000)
                writer.closeString()
            }
            writer.string("metric", metric.text)
            writer.number("value", value)
            writer.period(month)
            writer.string("action", "add")
            writer.timestamp("observed_at", instant)
            if withMeta {
                writer.openMeta()
                writer.append(#"{"report":"IR","release":"5.1"}"#)
            }
            emit(source, work, &writer, delay: delay)
        }

        for metric in [Metric.downloads, .views] {
            let original = monthlyCount(source, work, month, metric)
            guard source == .counter, let restated = restatement(work, month, metric, original: original) else {
                count(metric, original, at: observed, delay: 0)
                continue
            }
            if observed >= restated.at {
                count(metric, restated.value, at: observed, delay: 0)
            } else {
                count(metric, original, at: observed, delay: 0)
                let restatedAt = restated.at + random.inRange(0...Instant.hour)
                if restatedAt <= Generator.end {
                    count(metric, restated.value, at: restatedAt.wholeSecond,
                          delay: slots(forSpan: restatedAt.milliseconds - observed.milliseconds))
                }
            }
        }
    }

    // MARK: accesslog — one visitor session: page views, PDF downloads, double clicks, robots

    func accessSession() {
        let session = random.next()
        let agent = random.chance(spec.robotRate) ? random.pick(Vocabulary.robotAgents) : random.pick(Vocabulary.humanAgents)
        let host = random.pick(Vocabulary.accessHosts)
        var time = jitteredClock(latest: Generator.end - 2 * Instant.hour)
        if random.chance(Mix.lateLogSession) {
            time = clamp(time - random.inRange(3 * Instant.day...10 * Instant.day))
        }
        let u = random.unit()
        let works = u < 0.7 ? 1 : u < 0.9 ? 2 : 3

        func request(_ work: WorkRef, _ metric: Metric, at occurred: Instant) {
            var writer = RecordWriter(kind: "event", capacity: 448)
            writer.openString("id")
            writer.append("accesslog:")
            writer.append(host)
            writer.append(byte: UInt8(ascii: ":"))
            writer.appendTimestamp(occurred, milliseconds: true)
            writer.append(byte: UInt8(ascii: ":"))
            writer.appendDecimal(requestNumber)
            writer.closeString()
            requestNumber += 1
            writeSourceAndWork(&writer, .accesslog, work)
            writer.openString("subj")
            writer.append(metric == .downloads ? "/article/file?id=" : "/article?id=")
            writer.appendDOI(work.number)
            if metric == .downloads { writer.append("&type=printable") }
            writer.closeString()
            writer.string("metric", metric.text)
            writer.number("value", 1)
            writer.string("action", "add")
            writer.timestamp("occurred_at", occurred, milliseconds: true)
            writer.timestamp("observed_at", occurred.wholeSecond + random.inRange(1...5) * Instant.second)
            writer.openString("session")
            writer.appendHex(session, digits: 16)
            writer.closeString()
            writer.string("agent", agent)
            emit(.accesslog, work, &writer)
        }

        for _ in 0..<works {
            let work = drawWork()
            let downloads = random.chance(Mix.downloadAfterView)
            for metric in downloads ? [Metric.views, .downloads] : [Metric.views] {
                request(work, metric, at: time)
                if random.chance(Mix.burstAfterRequest) {
                    // Double clicks and reloads: most within 30 s (not counted but the last), a few just outside.
                    for _ in 0..<random.inRange(1...3) {
                        time = time + burstGap()
                        request(work, metric, at: time)
                    }
                }
                time = time + random.inRange(2 * Instant.second...120 * Instant.second)
            }
            time = time + random.inRange(10 * Instant.second...300 * Instant.second)
        }
    }
}

extension Generator {
    /// Milliseconds between two clicks of a burst: mostly well inside the 30 s double-click window,
    /// some exactly on its (inclusive) edge, a few just outside it.
    func burstGap() -> Int64 {
        let v = random.unit()
        if v < 0.85 { return random.inRange(300...10_000 as ClosedRange<Int64>) }
        if v < 0.95 { return random.inRange(10_000...29_999 as ClosedRange<Int64>) }
        if v < 0.97 { return 30_000 }
        return random.inRange(31_000...90_000 as ClosedRange<Int64>)
    }
}

enum Action {
    case add, delete

    var text: StaticString {
        switch self {
        case .add: "add"
        case .delete: "delete"
        }
    }
}

enum Metric: Int {
    case downloads, views

    var text: StaticString {
        switch self {
        case .downloads: "downloads"
        case .views: "views"
        }
    }
}
