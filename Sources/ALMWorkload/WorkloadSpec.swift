/// What to generate. The same spec always yields the same records, byte for byte.
public struct WorkloadSpec: Sendable, Hashable {
    /// Total records to produce: `generate` yields exactly this many.
    public var records: Int
    /// Distinct works, numbered 1...works, with DOIs `10.5555/alm.<n>`.
    public var works: Int
    public var seed: UInt64
    /// Popularity of works: the work of popularity rank r is drawn with probability ∝ 1 / r^zipfExponent
    /// (0 draws works uniformly).
    public var zipfExponent: Double
    /// Share of records that re-deliver an earlier record, byte-identical (same topic, key and value).
    public var duplicateRate: Double
    /// Share of records a processor must reject (they fail `RawEventDecoder.decode`), broken in varied ways.
    public var malformedRate: Double
    /// Share of usage requests (`accesslog` events) whose user agent is on the COUNTER-Robots list.
    public var robotRate: Double

    public init(
        records: Int,
        works: Int,
        seed: UInt64 = 1,
        zipfExponent: Double = 1.0,
        duplicateRate: Double = 0.2,
        malformedRate: Double = 0.001,
        robotRate: Double = 0.1
    ) {
        self.records = records
        self.works = works
        self.seed = seed
        self.zipfExponent = zipfExponent
        self.duplicateRate = duplicateRate
        self.malformedRate = malformedRate
        self.robotRate = robotRate
    }
}

/// One Kafka record for an `alm.raw.<source>` topic.
public struct WorkloadRecord: Sendable, Hashable {
    /// `alm.raw.<source>`.
    public var topic: String
    /// The normalised work id (collectors normalise keys). For a malformed record: the work it was meant
    /// for, or the identifier it names when that is not a DOI (`pmid:…`).
    public var key: [UInt8]
    /// The JSON record. Valid records are exactly `RawEvent.encodedJSON()` of the event they decode to,
    /// except the ~2% that spell `work` in another accepted form (`https://doi.org/10.5555/ALM.42`).
    public var value: [UInt8]
    /// True for the records a processor must reject: their value fails `RawEventDecoder.decode`.
    public var isMalformed: Bool

    public init(topic: String, key: [UInt8], value: [UInt8], isMalformed: Bool) {
        self.topic = topic
        self.key = key
        self.value = value
        self.isMalformed = isMalformed
    }
}
