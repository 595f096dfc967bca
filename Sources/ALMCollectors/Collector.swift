import ALMCore

/// The ids a work is known by in the registry (`alm.works`); a collector asks each source by the ones
/// it understands.
public struct WorkIdentifiers: Sendable, Equatable {
    /// The normalised DOI: the work's key everywhere.
    public var doi: String
    public var pmid: String?
    public var pmcid: String?

    public init(doi: String, pmid: String? = nil, pmcid: String? = nil) {
        self.doi = doi
        self.pmid = pmid
        self.pmcid = pmcid
    }
}

/// What a parser needs besides the response body: which work was asked about (nil for a response that
/// names its works itself, such as a monthly usage report) and when the response was observed.
public struct ResponseContext: Sendable {
    public var work: WorkIdentifiers?
    public var observedAt: Timestamp
    /// For responses that link works (streams): maps PubMed, PMC and arXiv links to registered DOIs.
    public var resolve: IdentifierResolver?

    public init(work: WorkIdentifiers?, observedAt: Timestamp, resolve: IdentifierResolver? = nil) {
        self.work = work
        self.observedAt = observedAt
        self.resolve = resolve
    }

    /// The work asked about, or an error saying the response needs one.
    func requireWork(_ source: String) throws(CollectorError) -> WorkIdentifiers {
        guard let work else { throw CollectorError(source: source, kind: .workRequired, "this response does not name its work: pass --work DOI") }
        return work
    }
}

/// One kind of response from a source, turned into raw events. Pure: no network, no Kafka, no clock.
public protocol ResponseParser: Sendable {
    /// The source the events belong to (`alm.raw.<source>`).
    var source: String { get }
    /// What the response is, for `alm collect <source> --replay FILE --format NAME` and error messages.
    var format: String { get }
    func events(from body: [UInt8], context: ResponseContext) throws(CollectorError) -> [RawEvent]
}

/// Why a response yields no events: never a crash, never a silent zero.
public struct CollectorError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The body is not what the source documents (bad JSON/XML, missing or wrong-typed fields).
        case malformedResponse = "malformed_response"
        /// The source answered with an error of its own (in the body).
        case sourceError = "source_error"
        /// The response does not name its work and none was given.
        case workRequired = "work_required"
        /// A field holds an id or value an event cannot carry.
        case invalidValue = "invalid_value"
    }

    public let source: String
    public let kind: Kind
    public let message: String

    public init(source: String, kind: Kind, _ message: String) {
        self.source = source
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(source): \(kind.rawValue): \(message)" }
}
