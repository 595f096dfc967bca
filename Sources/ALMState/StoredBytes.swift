/// The stored forms of record values and aggregate lines (schema 5). Both are exact: `decode` gives
/// back the very bytes `encode` was given, which `encode` checks before choosing a compact form (it
/// falls back to the raw bytes otherwise). Callers of the store never see these forms.
///
/// A record value is stored as LZ77 against a fixed dictionary (`preset`) and its own key: the
/// processor's values repeat much of their key (the work inside a DOI URL, a Bluesky DID and post id
/// inside the subject's URI) and share strings across records (metric names, URL prefixes). An aggregate
/// line is stored without its leading `{"work":"<work>",` (the row's key) and with the JSON names and
/// punctuation of `WorkAggregate.jsonLine` as one-byte tokens (bytes 0x01–0x1F, which a JSON line
/// never holds raw).
///
/// Format byte first: 0 = the raw bytes follow; 1 = the compact form follows.
enum StoredBytes {
    // MARK: - Record values

    static func encodeRecord(value: [UInt8], key: [UInt8]) -> [UInt8] {
        let dictionary = preset + key
        let compact = lzEncode(value, dictionary: dictionary)
        if compact.count < value.count, (try? lzDecode(compact[...], dictionary: dictionary)) == value {
            return [1] + compact
        }
        return [0] + value
    }

    static func decodeRecord(_ stored: [UInt8], key: [UInt8]) throws -> [UInt8] {
        guard let format = stored.first else { throw StoredFormError("an empty stored record value") }
        switch format {
        case 0: return Array(stored[1...])
        case 1: return try lzDecode(stored[1...], dictionary: preset + key)
        default: throw StoredFormError("stored record value of unknown format \(format)")
        }
    }

    /// Put before the key in the dictionary: strings common in the values of the sources we collect
    /// (metric names, URL prefixes, Crossref Event Data's relation objects). Part of the stored format:
    /// changing it needs a new schema version.
    static let preset: [UInt8] = Array(
        ([
            "https://doi.org/", "at://did:plc:", "/app.bsky.feed.post/", "mentions", "references", "annotates",
            "discusses", "recommends", "downloads", "views", "https://hypothes.is/a/", "https://f1000.com/prime/",
            #"{"source_id":"f1000","relation_type_id":"recommends"}"#,
            #"{"source_id":"datacite","relation_type_id":"cites"}"#,
            #"{"source_id":"crossref","relation_type_id":"references"}"#,
            #"{"source_id":"crossref","relation_type_id":"cites"}"#,
            "https://en.wikipedia.org/wiki/", ".wikipedia.org/wiki/", #"{"title":""#, "https://openalex.org/W",
            #"{"report":"IR","release":"5.1"}"#, #"{"report":"TR","release":"5.1"}"#,
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) ",
            "https://", "PMC",
        ] as [String]).joined().utf8)

    /// The hash heads of `preset` alone (positions whose 4 bytes lie inside it), computed once.
    private static let presetHeads: [Int32] = {
        var heads = [Int32](repeating: -1, count: 1024)
        var i = 0
        while i + minMatch <= preset.count {
            heads[hash(preset, i)] = Int32(i)
            i += 1
        }
        return heads
    }()

    @inline(__always) private static func hash(_ buffer: [UInt8], _ i: Int) -> Int {
        let v = UInt32(buffer[i]) | UInt32(buffer[i + 1]) << 8 | UInt32(buffer[i + 2]) << 16 | UInt32(buffer[i + 3]) << 24
        return Int((v &* 2_654_435_761) >> 22)
    }

    /// Ops: a byte `c` < 0x80 is a literal run of `c + 1` bytes that follow; `c` ≥ 0x80 copies
    /// `(c & 0x7F) + minMatch` bytes from the LEB128 distance that follows, counted back from the end of
    /// dictionary + output so far (copies may overlap their own output).
    private static let minMatch = 4

    private static func lzEncode(_ value: [UInt8], dictionary: [UInt8]) -> [UInt8] {
        let buffer = dictionary + value
        let start = dictionary.count
        var out: [UInt8] = []
        out.reserveCapacity(value.count)
        // When the dictionary begins with `preset`, its positions are hashed already.
        let presetIndexed = dictionary.starts(with: preset)
        var heads = presetIndexed ? presetHeads : [Int32](repeating: -1, count: 1024)
        @inline(__always) func hash(_ i: Int) -> Int { Self.hash(buffer, i) }
        var indexed = presetIndexed ? max(0, preset.count - minMatch + 1) : 0  // positions below this are in `heads`
        func index(upTo end: Int) {
            while indexed < end && indexed + minMatch <= buffer.count {
                heads[hash(indexed)] = Int32(indexed)
                indexed += 1
            }
            indexed = max(indexed, end)
        }
        var literalStart = start
        func flushLiterals(_ end: Int) {
            var i = literalStart
            while i < end {
                let n = min(128, end - i)
                out.append(UInt8(n - 1))
                out.append(contentsOf: buffer[i..<i + n])
                i += n
            }
        }
        var i = start
        while i < buffer.count {
            index(upTo: i)
            var matchLength = 0
            var matchAt = 0
            if i + minMatch <= buffer.count {
                let candidate = Int(heads[hash(i)])
                if candidate >= 0 {
                    var n = 0
                    while i + n < buffer.count && n < 127 + minMatch && buffer[candidate + n] == buffer[i + n] { n += 1 }
                    if n >= minMatch {
                        matchLength = n
                        matchAt = candidate
                    }
                }
            }
            if matchLength == 0 {
                i += 1
                continue
            }
            flushLiterals(i)
            out.append(0x80 | UInt8(matchLength - minMatch))
            var distance = i - matchAt
            while distance >= 0x80 {
                out.append(UInt8(distance & 0x7F) | 0x80)
                distance >>= 7
            }
            out.append(UInt8(distance))
            i += matchLength
            literalStart = i
        }
        flushLiterals(buffer.count)
        return out
    }

    private static func lzDecode(_ compact: ArraySlice<UInt8>, dictionary: [UInt8]) throws -> [UInt8] {
        var buffer = dictionary
        buffer.reserveCapacity(dictionary.count + compact.count * 2)
        var i = compact.startIndex
        while i < compact.endIndex {
            let c = compact[i]
            i += 1
            if c < 0x80 {
                let n = Int(c) + 1
                guard i + n <= compact.endIndex else { throw StoredFormError("a literal run past the end") }
                buffer.append(contentsOf: compact[i..<i + n])
                i += n
            } else {
                let n = Int(c & 0x7F) + minMatch
                var distance = 0
                var shift = 0
                while true {
                    guard i < compact.endIndex, shift < 28 else { throw StoredFormError("a bad copy distance") }
                    let b = compact[i]
                    i += 1
                    distance |= Int(b & 0x7F) << shift
                    shift += 7
                    if b < 0x80 { break }
                }
                guard distance > 0, distance <= buffer.count else { throw StoredFormError("a copy before the start") }
                let from = buffer.count - distance
                for k in 0..<n { buffer.append(buffer[from + k]) }
            }
        }
        return Array(buffer[dictionary.count...])
    }

    // MARK: - Aggregate lines

    /// Longest first where one token begins another, so a greedy longest match picks the longer.
    private static let tokens: [[UInt8]] = [
        #""sources":{"#, #"}},"categories":{"viewed":"#, #"},"categories":{"viewed":"#, #","saved":"#, #","discussed":"#, #","cited":"#,
        #","recommended":"#, #"},"by_month":{"#, #"":{"viewed":"#, #"":{"saved":"#, #"":{"discussed":"#,
        #"":{"cited":"#, #"}},"authors":{""#, #"}},"first_seen":""#, #"},"first_seen":""#,
        #"","last_seen":""#, #"},""#, #"}}"#, #","20"#, #"":{""#, #""downloads":"#,
        #""views":"#, #""cites":"#, #""references":"#, #""mentions":"#, #""annotates":"#,
        #""discusses":"#, #""recommends":"#, #""bluesky":"#, #""accesslog":{""#,
    ].map { Array($0.utf8) }

    /// The indexes of the tokens that begin with each byte.
    private static let tokensByFirstByte: [[Int]] = {
        var index = [[Int]](repeating: [], count: 256)
        for (t, token) in tokens.enumerated() { index[Int(token[0])].append(t) }
        return index
    }()

    /// Followed by the 14 digits of a `YYYY-MM-DDTHH:MM:SS` as 7 bytes of two digits each (0–99).
    private static let timestampToken = UInt8(tokens.count + 1)
    private static let timestampPattern = Array("0000-00-00T00:00:00".utf8)

    /// The 7 digit pairs of the `YYYY-MM-DDTHH:MM:SS` at `i`, or nil.
    private static func packedTimestamp(_ line: [UInt8], at i: Int) -> [UInt8]? {
        guard i + timestampPattern.count <= line.count else { return nil }
        var digits: [UInt8] = []
        digits.reserveCapacity(14)
        for (k, p) in timestampPattern.enumerated() {
            let b = line[i + k]
            if p == UInt8(ascii: "0") {
                guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else { return nil }
                digits.append(b - UInt8(ascii: "0"))
            } else if b != p {
                return nil
            }
        }
        return (0..<7).map { digits[2 * $0] * 10 + digits[2 * $0 + 1] }
    }

    static func encodeAggregate(line: [UInt8], work: String) -> [UInt8] {
        let prefix = Array(#"{"work":""#.utf8) + Array(work.utf8) + Array(#"","#.utf8)
        guard line.count > prefix.count, line.starts(with: prefix), !line.contains(where: { $0 < 0x20 }) else {
            return [0] + line
        }
        var out: [UInt8] = [1]
        out.reserveCapacity(line.count / 2)
        var i = prefix.count
        while i < line.count {
            if line[i] == UInt8(ascii: "2") || line[i] == UInt8(ascii: "1"), let packed = packedTimestamp(line, at: i) {
                out.append(timestampToken)
                out.append(contentsOf: packed)
                i += timestampPattern.count
                continue
            }
            var best = -1
            var bestLength = 1
            for t in tokensByFirstByte[Int(line[i])] {
                let token = tokens[t]
                guard token.count > bestLength, i + token.count <= line.count else { continue }
                var k = 1
                while k < token.count && line[i + k] == token[k] { k += 1 }
                if k == token.count {
                    best = t
                    bestLength = token.count
                }
            }
            if best >= 0 {
                out.append(UInt8(best + 1))
                i += bestLength
            } else {
                out.append(line[i])
                i += 1
            }
        }
        if (try? decodeAggregate(out, work: work)) == line { return out }
        return [0] + line
    }

    static func decodeAggregate(_ stored: [UInt8], work: String) throws -> [UInt8] {
        guard let format = stored.first else { throw StoredFormError("an empty stored aggregate") }
        switch format {
        case 0: return Array(stored[1...])
        case 1:
            var out = Array(#"{"work":""#.utf8) + Array(work.utf8) + Array(#"","#.utf8)
            out.reserveCapacity(stored.count * 3)
            var i = 1
            while i < stored.count {
                let b = stored[i]
                i += 1
                if b >= 0x20 {
                    out.append(b)
                } else if b == timestampToken {
                    guard i + 7 <= stored.count else { throw StoredFormError("a packed timestamp past the end") }
                    var digits = stored[i..<i + 7].flatMap { [$0 / 10, $0 % 10] }.makeIterator()
                    guard stored[i..<i + 7].allSatisfy({ $0 < 100 }) else { throw StoredFormError("a bad packed timestamp") }
                    for p in timestampPattern {
                        out.append(p == UInt8(ascii: "0") ? UInt8(ascii: "0") + digits.next()! : p)
                    }
                    i += 7
                } else {
                    let t = Int(b) - 1
                    guard t >= 0, t < tokens.count else { throw StoredFormError("an unknown aggregate token \(b)") }
                    out.append(contentsOf: tokens[t])
                }
            }
            return out
        default: throw StoredFormError("stored aggregate of unknown format \(format)")
        }
    }
}

struct StoredFormError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
