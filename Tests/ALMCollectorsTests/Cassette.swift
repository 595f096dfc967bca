import Foundation
import Testing
import Yams

/// An HTTP recording (VCR, Betamax or R's vcr): its request/response pairs, with each response body as
/// the bytes the service sent (a base64 `!binary` body decoded).
struct Cassette {
    struct Interaction {
        var method: String
        var uri: String
        var body: [UInt8]
    }

    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    var interactions: [Interaction]

    init(yaml text: String) throws {
        guard let root = try Yams.compose(yaml: text), let list = root["http_interactions"]?.sequence else {
            throw ReadError(description: "no http_interactions")
        }
        interactions = try list.enumerated().map { index, interaction in
            guard let request = interaction["request"], let uri = request["uri"]?.string,
                let body = interaction["response"]?["body"]?["string"]
            else { throw ReadError(description: "http_interactions[\(index)]: no request.uri or response.body.string") }
            return Interaction(method: request["method"]?.string ?? "get", uri: uri, body: try Self.bytes(of: body, at: index))
        }
    }

    /// The cassette at `path` under the shared fixtures.
    init(fixture path: String) throws {
        try self.init(yaml: String(decoding: try fixture(path), as: UTF8.self))
    }

    private static func bytes(of body: Node, at index: Int) throws -> [UInt8] {
        guard let text = body.scalar?.string else { throw ReadError(description: "http_interactions[\(index)]: body is not text") }
        let tag = body.tag.description
        // Ruby's VCR writes a non-UTF-8 body as `!binary`; YAML's own tag is `!!binary`.
        guard tag == "!binary" || tag == "tag:yaml.org,2002:binary" else { return Array(text.utf8) }
        guard let data = Data(base64Encoded: text.filter { !$0.isWhitespace }) else {
            throw ReadError(description: "http_interactions[\(index)]: !binary body is not base64")
        }
        return Array(data)
    }
}

@Suite("collectors: cassette reader")
struct CassetteTests {
    @Test("a base64 !binary body is decoded; a text body is kept as written")
    func binaryBody() throws {
        let cassette = try Cassette(yaml: """
            http_interactions:
            - request:
                method: get
                uri: https://example.org/a
              response:
                body:
                  encoding: ASCII-8BIT
                  string: !binary |-
                    eyJxdWVyeSI6
                    e319
            - request:
                uri: https://example.org/b
              response:
                body:
                  string: '{"a":
                    1}'
            """)
        #expect(cassette.interactions.map(\.uri) == ["https://example.org/a", "https://example.org/b"])
        #expect(String(decoding: cassette.interactions[0].body, as: UTF8.self) == #"{"query":{}}"#)
        #expect(String(decoding: cassette.interactions[1].body, as: UTF8.self) == #"{"a": 1}"#)
    }
}
