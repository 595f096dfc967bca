/// A seeded, deterministic workload of raw Kafka records for the demo, the integration tests and the
/// benchmark. Nothing here touches Kafka, files or the clock: records come back in memory or are
/// streamed to a closure, and the same `WorkloadSpec` always yields the same bytes.
///
/// The stream imitates nine collectors over 2025-01-01 … 2026-10-31 (a stream clock moves through
/// that span as records are produced) and exercises every rule of design.md:
///
/// | source     | kind  | metric(s)                         | share of fresh records | features |
/// |------------|-------|-----------------------------------|-----|----------|
/// | accesslog  | event | views, downloads                  | 40% | sessions, double-click bursts within 30 s, robots (`robotRate` of requests) |
/// | bluesky    | event | mentions                          | 10% | 3% of posts deleted later |
/// | counter    | count | downloads, views (monthly)        | 10% | 10% of (work, month, metric) restated 8–45 days after the month with another value |
/// | wikipedia  | event | references                        |  8% | 5% retracted later (`delete`), 30% of those delivered before their add |
/// | eventdata  | event | discusses 60%, cites 30%, recommends 10% | 8% | |
/// | crossref   | total | cites                             |  8% | 15% followed by an older, smaller observation (out of order) |
/// | openalex   | total | cites                             |  6% | |
/// | pmc        | count | views, downloads (monthly)        |  6% | |
/// | hypothesis | event | annotates                         |  4% | 2% deleted later |
///
/// Of the access sessions, 0.5% are delivered 3–10 days after they happened (a log shipped late): behind
/// the processor's default usage horizon, so they end up in the dead-letter topic as `late`.
///
/// On top of the fresh records: `duplicateRate` byte-identical re-deliveries of records from the last six
/// hours of stream time and
/// `malformedRate` records broken in one of `MalformedKind`'s ways. About 2% of valid records spell
/// `work` in another accepted form (`https://doi.org/10.5555/ALM.42`, `doi:10.5555/alm.42`, …); the key is
/// always the normalised DOI.
public struct Workload: Sendable {
    public let spec: WorkloadSpec
    let zipf: ZipfTable
    /// Popularity rank → work number (1-based): a seeded permutation, so the most popular work is not
    /// always `10.5555/alm.1`.
    let workOfRank: [Int32]

    public init(_ spec: WorkloadSpec) {
        precondition(spec.records >= 0, "records must not be negative")
        precondition(spec.works >= 1, "works must be at least 1")
        precondition(spec.works <= Int(Int32.max), "too many works")
        precondition((0...1).contains(spec.duplicateRate) && (0...1).contains(spec.malformedRate)
            && spec.duplicateRate + spec.malformedRate <= 1, "duplicateRate + malformedRate must lie in 0...1")
        precondition((0...1).contains(spec.robotRate), "robotRate must lie in 0...1")
        precondition(spec.zipfExponent >= 0, "zipfExponent must not be negative")
        self.spec = spec
        zipf = ZipfTable(count: spec.works, exponent: spec.zipfExponent)
        var permutation = (0..<spec.works).map { Int32($0 + 1) }
        var random = SplitMix64(seed: stableHash(spec.seed, 0x5045_524D))  // "PERM"
        if permutation.count > 1 {
            for index in stride(from: permutation.count - 1, to: 0, by: -1) {
                permutation.swapAt(index, random.below(index + 1))
            }
        }
        workOfRank = permutation
    }

    /// The sources the workload produces records for, each on topic `alm.raw.<source>`.
    public static let sources: [String] = Source.allCases.map(\.name)

    /// The DOI of work number `n` (1...works), as the workload writes it: `10.5555/alm.<n>`.
    public static func doi(ofWork number: Int) -> String {
        "10.5555/alm.\(number)"
    }

    /// Works by popularity, most drawn first (their normalised DOIs).
    public func worksByPopularity() -> [String] {
        workOfRank.map { Self.doi(ofWork: Int($0)) }
    }

    /// Streams exactly `spec.records` records to `body`, in order. Deterministic for a spec.
    public func generate(_ body: (WorkloadRecord) throws -> Void) rethrows {
        let generator = Generator(self)
        for slot in 0..<spec.records {
            try body(generator.record(at: slot))
        }
    }

    /// All records in memory (values average about 345 bytes).
    public func all() -> [WorkloadRecord] {
        var records: [WorkloadRecord] = []
        records.reserveCapacity(spec.records)
        generate { records.append($0) }
        return records
    }
}

/// The sources of the workload.
enum Source: Int, CaseIterable, Sendable {
    case wikipedia, bluesky, hypothesis, eventdata, crossref, openalex, counter, pmc, accesslog

    var name: String { Self.names[rawValue] }
    var topic: String { Self.topics[rawValue] }

    private static let names = ["wikipedia", "bluesky", "hypothesis", "eventdata", "crossref", "openalex", "counter", "pmc", "accesslog"]
    private static let topics = names.map { "alm.raw." + $0 }

    /// Target share of the fresh (not duplicated, not malformed) records.
    var recordShare: Double {
        switch self {
        case .accesslog: 0.40
        case .bluesky: 0.10
        case .counter: 0.10
        case .wikipedia: 0.08
        case .eventdata: 0.08
        case .crossref: 0.08
        case .openalex: 0.06
        case .pmc: 0.06
        case .hypothesis: 0.04
        }
    }

    /// Records one scenario of the source yields on average (measured), to turn record shares into
    /// scenario weights.
    var recordsPerScenario: Double {
        switch self {
        case .wikipedia: 1.05
        case .bluesky: 1.03
        case .hypothesis: 1.02
        case .eventdata: 1.0
        case .crossref: 1.13
        case .openalex: 1.0
        case .counter: 2.09
        case .pmc: 2.0
        case .accesslog: 2.94
        }
    }

    /// Cumulative scenario probabilities in `allCases` order.
    static let scenarioCumulative: [Double] = {
        let weights = allCases.map { $0.recordShare / $0.recordsPerScenario }
        let total = weights.reduce(0, +)
        var sum = 0.0
        var cumulative = weights.map { weight -> Double in
            sum += weight / total
            return sum
        }
        cumulative[cumulative.count - 1] = 1
        return cumulative
    }()

    static func scenario(at u: Double) -> Source {
        for (index, bound) in scenarioCumulative.enumerated() where u < bound { return allCases[index] }
        return .accesslog
    }

    static let eventSources: [Source] = [.wikipedia, .bluesky, .hypothesis, .eventdata, .accesslog]
    static let countSources: [Source] = [.counter, .pmc]
}

/// The rates of the features, in one place (see the table on `Workload`).
enum Mix {
    static let alternativeWorkSpelling = 0.02
    static let retractedReferences = 0.05
    static let deleteBeforeAdd = 0.30
    static let deletedPosts = 0.03
    static let deletedAnnotations = 0.02
    static let olderTotalAfterNewer = 0.15
    static let restatedMonths = 0.10
    static let burstAfterRequest = 0.25
    static let downloadAfterView = 0.40
    /// Access sessions whose log arrives days late (a server that was offline), behind the processor's
    /// default two-day usage horizon.
    static let lateLogSession = 0.005
}

/// A work as drawn: its popularity rank (0 = most popular) and number (`10.5555/alm.<number>`).
struct WorkRef {
    let rank: Int
    let number: Int
}

/// A record a scenario produced, and how many slots later it should be delivered (0: at once).
struct Emission {
    var record: WorkloadRecord
    var delay: Int
}

/// The state of one pass of `Workload.generate`.
final class Generator {
    let spec: WorkloadSpec
    let zipf: ZipfTable
    let workOfRank: [Int32]
    var random: SplitMix64

    /// The span the timestamps cover: 2025-01-01T00:00:00Z ... 2026-10-31T23:59:59Z.
    static let start = Instant(year: 2025, month: 1, day: 1)
    static let end = Instant(year: 2026, month: 11, day: 1) - Instant.second
    static let span = end.milliseconds - start.milliseconds

    /// Scenario records waiting for their turn: first those due now, in order, then the deferred ones.
    private var immediate: [WorkloadRecord] = []
    private var immediateHead = 0
    private var deferred = DeferredQueue()
    /// The latest fresh records, for re-deliveries.
    private var recent: [WorkloadRecord] = []
    private var recentNext = 0
    private static let recentCapacity = 8192
    /// How far back in stream time a re-delivered record may lie.
    static let redeliveryWindow = 6 * Instant.hour
    var scenarioOutput: [Emission] = []
    var requestNumber: Int
    /// The slot being filled (the stream clock follows it).
    var slot = 0

    init(_ workload: Workload) {
        spec = workload.spec
        zipf = workload.zipf
        workOfRank = workload.workOfRank
        random = SplitMix64(seed: stableHash(workload.spec.seed, 0x574F_524B_4C4F_4144))  // "WORKLOAD"
        requestNumber = 1000 + random.below(9000)
        recent.reserveCapacity(Self.recentCapacity)
        scenarioOutput.reserveCapacity(32)
    }

    func record(at slot: Int) -> WorkloadRecord {
        self.slot = slot
        let u = random.unit()
        if u < spec.malformedRate {
            return malformedRecord()
        }
        if u < spec.malformedRate + spec.duplicateRate, !recent.isEmpty {
            // Collectors re-deliver what they sent in the last hours (a restart resends its batch).
            let newest = recent.count < Self.recentCapacity ? recent.count - 1 : (recentNext + recent.count - 1) % recent.count
            let back = random.below(min(recent.count, slots(forSpan: Self.redeliveryWindow)))
            return recent[(newest - back + recent.count) % recent.count]
        }
        let record = freshRecord()
        if recent.count < Self.recentCapacity {
            recent.append(record)
        } else {
            recent[recentNext] = record
            recentNext = (recentNext + 1) % Self.recentCapacity
        }
        return record
    }

    private func freshRecord() -> WorkloadRecord {
        while true {
            if immediateHead < immediate.count {
                let record = immediate[immediateHead]
                immediateHead += 1
                if immediateHead == immediate.count {
                    immediate.removeAll(keepingCapacity: true)
                    immediateHead = 0
                }
                return record
            }
            if let due = deferred.popDue(atOrBefore: slot) {
                return due
            }
            scenarioOutput.removeAll(keepingCapacity: true)
            runScenario(Source.scenario(at: random.unit()))
            for emission in scenarioOutput {
                if emission.delay <= 0 {
                    immediate.append(emission.record)
                } else {
                    deferred.push(emission.record, due: slot + emission.delay)
                }
            }
        }
    }

    func runScenario(_ source: Source) {
        switch source {
        case .wikipedia: wikipedia()
        case .bluesky: bluesky()
        case .hypothesis: hypothesis()
        case .eventdata: eventdata()
        case .crossref: crossref()
        case .openalex: openalex()
        case .counter: monthlyCounts(.counter)
        case .pmc: monthlyCounts(.pmc)
        case .accesslog: accessSession()
        }
    }

    // MARK: Shared helpers

    func drawWork() -> WorkRef {
        let rank = zipf.rank(at: random.unit())
        return WorkRef(rank: rank, number: Int(workOfRank[rank]))
    }

    /// The stream clock at the current slot: it runs from `start` to `end` over the records.
    var clock: Instant {
        let records = max(spec.records, 1)
        return Self.start + Int64((Double(slot) / Double(records)) * Double(Self.span))
    }

    /// The stream clock give or take half a day (reflected back inside `start...latest` at the edges).
    func jitteredClock(latest: Instant = Generator.end) -> Instant {
        var instant = clock + random.inRange(-12 * Instant.hour...12 * Instant.hour)
        if instant < Self.start { instant = Self.start + (Self.start.milliseconds - instant.milliseconds) }
        if instant > latest { instant = latest - (instant.milliseconds - latest.milliseconds) }
        return clamp(instant, latest: latest)
    }

    func clamp(_ instant: Instant, earliest: Instant = Generator.start, latest: Instant = Generator.end) -> Instant {
        max(earliest, min(latest, instant))
    }

    /// How many slots the stream clock needs to move by `milliseconds` (at least 1).
    func slots(forSpan milliseconds: Int64) -> Int {
        max(1, Int(Double(milliseconds) / Double(Self.span) * Double(max(spec.records, 1))))
    }

    /// A short delay in slots, for records a collector delivers a little late.
    func shortDelay(upTo limit: Int) -> Int {
        1 + random.below(max(1, min(limit, spec.records / 50)))
    }

    func emit(_ source: Source, _ work: WorkRef, _ writer: inout RecordWriter, delay: Int = 0) {
        let record = WorkloadRecord(topic: source.topic, key: doiBytes(work.number), value: writer.finish(), isMalformed: false)
        scenarioOutput.append(Emission(record: record, delay: delay))
    }

    /// `,"source":"…","work":"…"`, the work usually in normal form, ~2% in another accepted spelling.
    func writeSourceAndWork(_ writer: inout RecordWriter, _ source: Source, _ work: WorkRef) {
        writer.string("source", source.name)
        writer.openString("work")
        if random.chance(Mix.alternativeWorkSpelling) {
            switch random.below(4) {
            case 0:
                writer.append("https://doi.org/10.5555/ALM.")
                writer.appendDecimal(work.number)
            case 1:
                writer.append("doi:")
                writer.appendDOI(work.number)
            case 2:
                writer.append("https://dx.doi.org/")
                writer.appendDOI(work.number)
            default:
                writer.append("10.5555/ALM.")
                writer.appendDecimal(work.number)
            }
        } else {
            writer.appendDOI(work.number)
        }
        writer.closeString()
    }
}

/// Records held back for a later slot: a binary min-heap on (due slot, arrival), so ties keep their order.
struct DeferredQueue {
    private struct Entry {
        let due: Int
        let sequence: Int
        let record: WorkloadRecord

        func precedes(_ other: Entry) -> Bool {
            due != other.due ? due < other.due : sequence < other.sequence
        }
    }

    private var heap: [Entry] = []
    private var sequence = 0

    var count: Int { heap.count }

    mutating func push(_ record: WorkloadRecord, due: Int) {
        heap.append(Entry(due: due, sequence: sequence, record: record))
        sequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popDue(atOrBefore slot: Int) -> WorkloadRecord? {
        guard let first = heap.first, first.due <= slot else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count, heap[left].precedes(heap[smallest]) { smallest = left }
                if right < heap.count, heap[right].precedes(heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first.record
    }
}
