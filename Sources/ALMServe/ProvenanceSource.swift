/// Where `/api/v1/works/{doi}/events` reads the records behind the numbers (the processor's state).
public protocol ProvenanceSource: Sendable {
    func page(work: String, source: String?, metric: String?, cursor: String?, limit: Int) throws -> any Encodable
}
