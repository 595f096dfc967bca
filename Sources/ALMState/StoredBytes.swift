import Foundation

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
///
/// Every stored row passes through here (written with Array ops and copies, these took a tenth of the
/// processor's CPU), so the code works on buffer pointers over scratch on the stack (up to 1 KiB each;
/// longer inputs get it from the heap) and makes an Array of the result alone. There is no shared
/// mutable state: the functions run on several threads at once. They write exactly the bytes of the
/// first, Array-based version of schema 5, which `StoredBytesExactnessTests` keeps as its reference.
enum StoredBytes {
    // MARK: - Record values

    static func encodeRecord(value: [UInt8], key: [UInt8]) -> [UInt8] {
        // No compact form is shorter than an empty value.
        guard !value.isEmpty else { return [0] }
        return preset.withUnsafeBufferPointer { preset in
            key.withUnsafeBufferPointer { key in
                value.withUnsafeBufferPointer { value in encodeRecord(value, preset: preset, key: key) }
            }
        }
    }

    private static func encodeRecord(
        _ value: UnsafeBufferPointer<UInt8>, preset: UnsafeBufferPointer<UInt8>, key: UnsafeBufferPointer<UInt8>
    ) -> [UInt8] {
        let start = preset.count + key.count
        // preset + key + value in one piece (a match may run from the dictionary on into the value);
        // the verification decodes into the same buffer, over the value.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: start + value.count) { buffer in
            let bytes = buffer.baseAddress!
            bytes.initialize(from: preset.baseAddress!, count: preset.count)
            if !key.isEmpty { (bytes + preset.count).initialize(from: key.baseAddress!, count: key.count) }
            (bytes + start).initialize(from: value.baseAddress!, count: value.count)
            // A copy of the preset's heads, on the stack; the encoder adds the positions after the preset.
            if buffer.count <= Int(Int16.max) {
                var heads = presetHeads16
                return withUnsafeMutableBytes(of: &heads) { heads in
                    encodeRecord(value, in: buffer, start: start, heads: HeadsPointer<Int16>(heads.baseAddress!))
                }
            }
            var heads = presetHeads32
            return withUnsafeMutableBytes(of: &heads) { heads in
                encodeRecord(value, in: buffer, start: start, heads: HeadsPointer<Int32>(heads.baseAddress!))
            }
        }
    }

    private static func encodeRecord<Position>(
        _ value: UnsafeBufferPointer<UInt8>, in buffer: UnsafeMutableBufferPointer<UInt8>, start: Int, heads: HeadsPointer<Position>
    ) -> [UInt8] {
        // The format byte, then the compact form, kept only when shorter than the value.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: value.count) { out in
            out[0] = 1
            let room = UnsafeMutableBufferPointer(rebasing: out[1..<value.count])
            guard let n = lzEncode(UnsafeBufferPointer(buffer), start: start, heads: heads, into: room),
                  lzDecodes(UnsafeBufferPointer(rebasing: room[..<n]), into: buffer, dictionaryCount: start, to: value)
            else { return raw(value) }
            return array(UnsafeBufferPointer(rebasing: out[..<(1 + n)]))
        }
    }

    static func decodeRecord(_ stored: [UInt8], key: [UInt8]) throws -> [UInt8] {
        guard let format = stored.first else { throw StoredFormError("an empty stored record value") }
        switch format {
        case 0: return Array(stored[1...])
        case 1:
            return try preset.withUnsafeBufferPointer { preset in
                try key.withUnsafeBufferPointer { key in
                    try stored.withUnsafeBufferPointer { stored in
                        let compact = UnsafeBufferPointer(rebasing: stored[1...])
                        let start = preset.count + key.count
                        if let value = try lzDecodeValue(compact, preset: preset, key: key, capacity: max(stackScratch, start)) {
                            return value
                        }
                        // Too long for the stack scratch: check and measure first, for a scratch of the exact size.
                        let end = try lzDecode(compact, dictionaryCount: start, into: nil, capacity: .max)!
                        return try lzDecodeValue(compact, preset: preset, key: key, capacity: end)!
                    }
                }
            }
        default: throw StoredFormError("stored record value of unknown format \(format)")
        }
    }

    /// The size of scratch that `withUnsafeTemporaryAllocation` puts on the stack (more goes on the
    /// heap). Most values and lines decode within it, in one pass.
    private static let stackScratch = 1024

    /// The value that `compact` decodes to after `preset + key`, decoded in a scratch of `capacity`
    /// bytes (dictionary included); nil when it does not fit.
    private static func lzDecodeValue(
        _ compact: UnsafeBufferPointer<UInt8>, preset: UnsafeBufferPointer<UInt8>, key: UnsafeBufferPointer<UInt8>, capacity: Int
    ) throws -> [UInt8]? {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            let bytes = buffer.baseAddress!
            let start = preset.count + key.count
            bytes.initialize(from: preset.baseAddress!, count: preset.count)
            if !key.isEmpty { (bytes + preset.count).initialize(from: key.baseAddress!, count: key.count) }
            guard let end = try lzDecode(compact, dictionaryCount: start, into: bytes, capacity: capacity) else { return nil }
            return array(UnsafeBufferPointer(rebasing: buffer[start..<end]))
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

    /// The encoder's hash heads: the last position (or -1) of each of 1024 buckets, as one value, so
    /// that the encoder's copy of the preset's goes on the stack (withUnsafeTemporaryAllocation puts
    /// more than 1 KiB on the heap, a malloc and free per call). Int16 positions, half the copy, while
    /// preset + key + value fit in 32 KiB (nearly every record); Int32 beyond.
    private typealias Heads<Position: SIMDScalar> = (
        SIMD64<Position>, SIMD64<Position>, SIMD64<Position>, SIMD64<Position>,
        SIMD64<Position>, SIMD64<Position>, SIMD64<Position>, SIMD64<Position>,
        SIMD64<Position>, SIMD64<Position>, SIMD64<Position>, SIMD64<Position>,
        SIMD64<Position>, SIMD64<Position>, SIMD64<Position>, SIMD64<Position>
    )

    /// The hash heads of `preset` alone (positions whose 4 bytes lie inside it), computed once.
    private static let presetHeads16: Heads<Int16> = presetHeads()
    private static let presetHeads32: Heads<Int32> = presetHeads()

    private static func presetHeads<Position: SIMDScalar & FixedWidthInteger>() -> Heads<Position> {
        let none = SIMD64<Position>(repeating: -1)
        var heads: Heads<Position> = (none, none, none, none, none, none, none, none, none, none, none, none, none, none, none, none)
        preset.withUnsafeBufferPointer { preset in
            withUnsafeMutableBytes(of: &heads) { heads in
                let heads = HeadsPointer<Position>(heads.baseAddress!)
                var i = 0
                while i + minMatch <= preset.count {
                    heads[hash(preset.baseAddress! + i)] = i
                    i += 1
                }
            }
        }
        return heads
    }

    /// The position in each bucket of a `Heads`, by raw loads and stores (the memory is bound to the
    /// SIMD vectors, whose elements are `Position`s).
    private struct HeadsPointer<Position: FixedWidthInteger> {
        let raw: UnsafeMutableRawPointer
        init(_ raw: UnsafeMutableRawPointer) { self.raw = raw }

        subscript(bucket: Int) -> Int {
            @inline(__always) get { Int(raw.load(fromByteOffset: bucket &* MemoryLayout<Position>.stride, as: Position.self)) }
            @inline(__always) nonmutating set {
                raw.storeBytes(of: Position(truncatingIfNeeded: newValue), toByteOffset: bucket &* MemoryLayout<Position>.stride, as: Position.self)
            }
        }
    }

    /// The bucket of the 4 bytes at `p`: their little-endian word, multiplied, top 10 bits.
    @inline(__always) private static func hash(_ p: UnsafePointer<UInt8>) -> Int {
        let v = UInt32(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt32.self))
        return Int((v &* 2_654_435_761) >> 22)
    }

    @inline(__always) private static func load32(_ p: UnsafePointer<UInt8>) -> UInt32 {
        UnsafeRawPointer(p).loadUnaligned(as: UInt32.self)
    }

    @inline(__always) private static func load64(_ p: UnsafePointer<UInt8>) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
    }

    /// Ops: a byte `c` < 0x80 is a literal run of `c + 1` bytes that follow; `c` ≥ 0x80 copies
    /// `(c & 0x7F) + minMatch` bytes from the LEB128 distance that follows, counted back from the end of
    /// dictionary + output so far (copies may overlap their own output).
    private static let minMatch = 4
    private static let maxMatch = 0x7F + minMatch

    /// Writes the ops of `buffer[start...]` against the dictionary `buffer[..<start]` (which begins with
    /// `preset`) into `out` and returns their length, or nil as soon as they do not fit in `out`.
    ///
    /// Greedy, one candidate per position: the last earlier position whose 4 bytes hash alike. `heads`
    /// holds a copy of the preset's; every later position with 4 bytes is added in order, overwriting
    /// its bucket, before the first lookup that could see it (as the first version did, which indexed
    /// all positions below i before looking i up).
    private static func lzEncode<Position>(
        _ buffer: UnsafeBufferPointer<UInt8>, start: Int, heads: HeadsPointer<Position>,
        into out: UnsafeMutableBufferPointer<UInt8>
    ) -> Int? {
        let bytes = buffer.baseAddress!
        let end = buffer.count
        // The positions indexed (up to end - 4) fit in `Position` (a value of 2 GiB is no state row).
        precondition(end - minMatch <= Int(Position.max), "a record value too large to store")
        /// Adds the positions from..<to that have 4 bytes.
        @inline(__always) func index(from: Int, to: Int) {
            var p = from
            while p < min(to, end - minMatch + 1) {
                heads[hash(bytes + p)] = p
                p += 1
            }
        }
        // The positions from the preset's last 3 to the value: they depend on the key.
        index(from: max(0, preset.count - minMatch + 1), to: start)
        var o = 0
        var literalStart = start
        var i = start
        // Positions without 4 bytes left neither match nor get indexed: they end as literals.
        while i + minMatch <= end {
            // Look up i, then add it.
            let bucket = hash(bytes + i)
            let candidate = heads[bucket]
            heads[bucket] = i
            // A match needs its first 4 bytes: most lookups fail on this one compare.
            guard candidate >= 0, load32(bytes + candidate) == load32(bytes + i) else {
                i += 1
                continue
            }
            let length = matchLength(bytes + candidate, bytes + i, limit: min(end - i, maxMatch))
            guard appendLiterals(bytes + literalStart, i - literalStart, to: out, at: &o) else { return nil }
            var distance = i - candidate
            guard o + 1 + leb128Length(distance) <= out.count else { return nil }
            out[o] = 0x80 | UInt8(length - minMatch)
            o += 1
            while distance >= 0x80 {
                out[o] = UInt8(distance & 0x7F) | 0x80
                o += 1
                distance >>= 7
            }
            out[o] = UInt8(distance)
            o += 1
            index(from: i + 1, to: i + length)
            i += length
            literalStart = i
        }
        guard appendLiterals(bytes + literalStart, end - literalStart, to: out, at: &o) else { return nil }
        return o
    }

    /// How many bytes at `a` and `b` agree, up to `limit`. Compares 8 bytes at a time: in a
    /// little-endian word the first differing byte is the lowest set byte of the XOR.
    @inline(__always) private static func matchLength(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, limit: Int) -> Int {
        var n = 0
        while n + 8 <= limit {
            let difference = load64(a + n) ^ load64(b + n)
            if difference != 0 { return n + (difference.trailingZeroBitCount >> 3) }
            n += 8
        }
        while n < limit && a[n] == b[n] { n += 1 }
        return n
    }

    @inline(__always) private static func leb128Length(_ value: Int) -> Int {
        var length = 1
        var rest = value >> 7
        while rest != 0 {
            length += 1
            rest >>= 7
        }
        return length
    }

    /// Writes `count` bytes from `from` to `out` at `o` as literal runs of at most 128; false when they
    /// do not fit.
    @inline(__always) private static func appendLiterals(
        _ from: UnsafePointer<UInt8>, _ count: Int, to out: UnsafeMutableBufferPointer<UInt8>, at o: inout Int
    ) -> Bool {
        var done = 0
        while done < count {
            let n = min(128, count - done)
            guard o + 1 + n <= out.count else { return false }
            out[o] = UInt8(n - 1)
            (out.baseAddress! + o + 1).initialize(from: from + done, count: n)
            o += 1 + n
            done += n
        }
        return true
    }

    /// Decodes the ops of `compact` into `buffer` after the dictionary in its first `dictionaryCount`
    /// bytes and returns where the output ends, or nil when it would pass `capacity`. With `buffer` nil
    /// it only checks the ops and measures. Throws on ops the format does not allow, checked in the
    /// order of the first version (so the same message for the same bytes).
    private static func lzDecode(
        _ compact: UnsafeBufferPointer<UInt8>, dictionaryCount: Int, into buffer: UnsafeMutablePointer<UInt8>?, capacity: Int
    ) throws -> Int? {
        var end = dictionaryCount
        var i = 0
        while i < compact.count {
            let c = compact[i]
            i += 1
            if c < 0x80 {
                let n = Int(c) + 1
                guard i + n <= compact.count else { throw StoredFormError("a literal run past the end") }
                guard end + n <= capacity else { return nil }
                buffer?.advanced(by: end).initialize(from: compact.baseAddress! + i, count: n)
                i += n
                end += n
            } else {
                let n = Int(c & 0x7F) + minMatch
                var distance = 0
                var shift = 0
                while true {
                    guard i < compact.count, shift < 28 else { throw StoredFormError("a bad copy distance") }
                    let b = compact[i]
                    i += 1
                    distance |= Int(b & 0x7F) << shift
                    shift += 7
                    if b < 0x80 { break }
                }
                guard distance > 0, distance <= end else { throw StoredFormError("a copy before the start") }
                guard end + n <= capacity else { return nil }
                if let buffer {
                    let from = end - distance
                    if distance >= n {
                        (buffer + end).initialize(from: buffer + from, count: n)
                    } else {
                        // The copy overlaps its own output: byte by byte, front to back.
                        for k in 0..<n { buffer[end + k] = buffer[from + k] }
                    }
                }
                end += n
            }
        }
        return end
    }

    /// The safety net of `encodeRecord`: whether `compact` decodes, into `buffer` after its dictionary
    /// (the first `dictionaryCount` bytes), to exactly `value`.
    private static func lzDecodes(
        _ compact: UnsafeBufferPointer<UInt8>, into buffer: UnsafeMutableBufferPointer<UInt8>, dictionaryCount: Int,
        to value: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        guard let end = try? lzDecode(compact, dictionaryCount: dictionaryCount, into: buffer.baseAddress!, capacity: buffer.count),
              end == dictionaryCount + value.count
        else { return false }
        return memcmp(buffer.baseAddress! + dictionaryCount, value.baseAddress!, value.count) == 0
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

    /// Followed by the 14 digits of a `YYYY-MM-DDTHH:MM:SS` as 7 bytes of two digits each (0–99).
    private static let timestampToken = UInt8(tokens.count + 1)
    private static let timestampLength = 19  // "0000-00-00T00:00:00"

    /// `{"work":"` and `",` around the work: how every aggregate line begins; the stored form leaves it out.
    private static let lineHead: StaticString = #"{"work":""#
    private static let lineTail: StaticString = #"","#

    /// A token as the encoder looks for it: its first bytes (up to 8) as a little-endian word and the
    /// mask of those bytes, so that a candidate fails on one compare.
    private struct TokenMatcher {
        var head: UInt64 = 0
        var mask: UInt64 = 0
        var length: Int
        var offset: Int
        var code: UInt8
    }

    /// `tokens` arranged for the coders, built once. The coders copy it (and other statics) into locals
    /// once per call: each read of a lazily initialised static is a call.
    private struct TokenTable {
        /// Token t is stored as the byte t + 1 and stands for `bytes[offsets[t]..<offsets[t + 1]]`.
        var bytes: [UInt8] = []
        var offsets: [Int] = [0]
        /// The tokens whose first two bytes have the bucket k (`TokenTable.bucket`) are
        /// `matchers[starts[k]..<starts[k + 1]]`, longest first, so the first that matches is the longest.
        /// That is the token the first version chose (the longest; the first in `tokens` of that length,
        /// but tokens are distinct, so no two of one length match at one position). Every token is at
        /// least 2 bytes long.
        var matchers: [TokenMatcher] = []
        var starts: [Int] = []
        /// What may begin at byte b: a token, a timestamp (digits 1 and 2, which begin no token) or
        /// neither (most bytes, which skip the searches).
        var kinds = [ByteKind](repeating: .literal, count: 256)
        /// For decoding: stored byte b stands for `expansionLengths[b]` bytes at `expansions[b * slot...]`
        /// (b itself for b ≥ 0x20); 0 bytes for 0x00 and the timestamp token, which decode apart. One
        /// table lookup for literals and tokens alike, so the decoder hardly branches on the bytes.
        var expansions = [UInt8](repeating: 0, count: 256 * TokenTable.slot)
        var expansionLengths = [UInt8](repeating: 0, count: 256)
        var timestampToken = StoredBytes.timestampToken

        /// The width of an expansion: room for the longest token.
        static let slot = 32

        static let buckets = 256

        @inline(__always) static func bucket(_ first: UInt8, _ second: UInt8) -> Int {
            Int(((UInt32(first) | UInt32(second) << 8) &* 2_654_435_761) >> 24)
        }

        init() {
            for (t, token) in tokens.enumerated() {
                precondition(token.count >= 2 && token.count <= Self.slot)
                bytes += token
                offsets.append(bytes.count)
                kinds[Int(token[0])] = .token
                expansions.replaceSubrange((t + 1) * Self.slot..<(t + 1) * Self.slot + token.count, with: token)
                expansionLengths[t + 1] = UInt8(token.count)
            }
            for b in 0x20...0xFF {
                expansions[b * Self.slot] = UInt8(b)
                expansionLengths[b] = 1
            }
            for digit in [UInt8(ascii: "1"), UInt8(ascii: "2")] {
                precondition(kinds[Int(digit)] == .literal)
                kinds[Int(digit)] = .timestamp
            }
            for k in 0..<Self.buckets {
                starts.append(matchers.count)
                let group = tokens.indices.filter { Self.bucket(tokens[$0][0], tokens[$0][1]) == k }
                    .sorted { a, b in tokens[a].count != tokens[b].count ? tokens[a].count > tokens[b].count : a < b }
                for t in group {
                    var matcher = TokenMatcher(length: tokens[t].count, offset: offsets[t], code: UInt8(t + 1))
                    for (k, b) in tokens[t].prefix(8).enumerated() {
                        matcher.head |= UInt64(b) << (8 * k)
                        matcher.mask |= 0xFF << (8 * k)
                    }
                    matchers.append(matcher)
                }
            }
            starts.append(matchers.count)
        }
    }

    private enum ByteKind { case literal, token, timestamp }

    private static let tokenTable = TokenTable()

    /// Where the k-th of the 7 digit pairs of `YYYY-MM-DDTHH:MM:SS` begins: 0, 2, 5, 8, 11, 14, 17 (after
    /// the first two, each pair follows a one-byte separator).
    @inline(__always) private static func pairOffset(_ k: Int) -> Int { k < 2 ? 2 * k : 3 * k - 1 }

    /// Writes `token` and the 7 digit pairs of the `YYYY-MM-DDTHH:MM:SS` at `p` (19 bytes readable) to
    /// `out`; false, writing nothing, when `p` holds no such timestamp.
    @inline(__always) private static func packTimestamp(
        _ p: UnsafePointer<UInt8>, token: UInt8, into out: UnsafeMutablePointer<UInt8>
    ) -> Bool {
        guard p[4] == UInt8(ascii: "-"), p[7] == UInt8(ascii: "-"), p[10] == UInt8(ascii: "T"),
              p[13] == UInt8(ascii: ":"), p[16] == UInt8(ascii: ":")
        else { return false }
        for k in 0..<7 {
            // A byte below "0" wraps around to ≥ 10 as well.
            guard p[pairOffset(k)] &- UInt8(ascii: "0") < 10, p[pairOffset(k) + 1] &- UInt8(ascii: "0") < 10 else { return false }
        }
        out[0] = token
        for k in 0..<7 {
            out[1 + k] = (p[pairOffset(k)] - UInt8(ascii: "0")) * 10 + (p[pairOffset(k) + 1] - UInt8(ascii: "0"))
        }
        return true
    }

    /// The inverse of `packTimestamp`: 7 pairs (each checked < 100) to the 19 bytes at `out`.
    @inline(__always) private static func unpackTimestamp(_ pairs: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) {
        for k in 0..<7 {
            out[pairOffset(k)] = UInt8(ascii: "0") + pairs[k] / 10
            out[pairOffset(k) + 1] = UInt8(ascii: "0") + pairs[k] % 10
        }
        out[4] = UInt8(ascii: "-")
        out[7] = UInt8(ascii: "-")
        out[10] = UInt8(ascii: "T")
        out[13] = UInt8(ascii: ":")
        out[16] = UInt8(ascii: ":")
    }

    static func encodeAggregate(line: [UInt8], work: String) -> [UInt8] {
        var work = work
        return work.withUTF8 { work in
            line.withUnsafeBufferPointer { line in encodeAggregate(line, work: work) }
        }
    }

    private static func encodeAggregate(_ line: UnsafeBufferPointer<UInt8>, work: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let prefixCount = lineHead.utf8CodeUnitCount + work.count + lineTail.utf8CodeUnitCount
        guard line.count > prefixCount, startsWithPrefix(line, work: work), !holdsControlByte(line) else { return raw(line) }
        let table = tokenTable
        // The format byte, then the compact form: each token and timestamp is shorter than what it stands
        // for, and the prefix is left out, so it is shorter than the line.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: line.count) { out in
            out[0] = 1
            let n = 1 + tokenize(line, from: prefixCount, table: table, into: out.baseAddress! + 1)
            let verified = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: line.count) { scratch in
                let body = UnsafeBufferPointer(rebasing: out[1..<n])
                guard let decoded = try? decodeAggregateBody(body, work: work, table: table, into: scratch.baseAddress!, capacity: line.count),
                      decoded == line.count
                else { return false }
                return memcmp(scratch.baseAddress!, line.baseAddress!, line.count) == 0
            }
            return verified ? array(UnsafeBufferPointer(rebasing: out[..<n])) : raw(line)
        }
    }

    /// Whether `line` (longer than the prefix) begins with `{"work":"<work>",`.
    private static func startsWithPrefix(_ line: UnsafeBufferPointer<UInt8>, work: UnsafeBufferPointer<UInt8>) -> Bool {
        let bytes = line.baseAddress!
        let head = lineHead, tail = lineTail
        return memcmp(bytes, head.utf8Start, head.utf8CodeUnitCount) == 0
            && (work.isEmpty || memcmp(bytes + head.utf8CodeUnitCount, work.baseAddress!, work.count) == 0)
            && memcmp(bytes + head.utf8CodeUnitCount + work.count, tail.utf8Start, tail.utf8CodeUnitCount) == 0
    }

    /// Whether `bytes` holds a byte below 0x20. Without an early exit, so that the loop vectorises.
    private static func holdsControlByte(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var lowest: UInt8 = 0xFF
        for b in bytes { lowest = min(lowest, b) }
        return lowest < 0x20
    }

    /// Writes the compact form of `line[start...]` to `out` and returns its length: greedily a packed
    /// timestamp, else the longest token, else the byte itself.
    private static func tokenize(
        _ line: UnsafeBufferPointer<UInt8>, from start: Int, table: TokenTable, into out: UnsafeMutablePointer<UInt8>
    ) -> Int {
        let timestampToken = table.timestampToken
        let bytes = line.baseAddress!
        let end = line.count
        return table.bytes.withUnsafeBufferPointer { tokenBytes in
            var o = 0
            var i = start
            scan: while i < end {
                let b = bytes[i]
                switch table.kinds[Int(b)] {
                case .literal:
                    break
                case .timestamp:
                    if i + timestampLength <= end, packTimestamp(bytes + i, token: timestampToken, into: out + o) {
                        o += 8
                        i += timestampLength
                        continue scan
                    }
                case .token:
                    guard i + 2 <= end else { break }
                    let bucket = TokenTable.bucket(b, bytes[i + 1])
                    // The next 8 bytes, zero past the end of the line (no token reaches there).
                    var word: UInt64 = 0
                    if i + 8 <= end {
                        word = load64(bytes + i)
                    } else {
                        for k in 0..<(end - i) { word |= UInt64(bytes[i + k]) << (8 * k) }
                    }
                    for m in table.starts[bucket]..<table.starts[bucket + 1] {
                        let matcher = table.matchers[m]
                        guard i + matcher.length <= end, word & matcher.mask == matcher.head,
                              matcher.length <= 8 || tailsEqual(bytes + i, tokenBytes.baseAddress! + matcher.offset, length: matcher.length)
                        else { continue }
                        out[o] = matcher.code
                        o += 1
                        i += matcher.length
                        continue scan
                    }
                }
                out[o] = b
                o += 1
                i += 1
            }
            return o
        }
    }

    /// Whether bytes 8..<length (length > 8) at `a` and `b` agree: 8 at a time, the last 8 ending at
    /// `length` (overlapping the word before), so that no load reaches past `length`.
    @inline(__always) private static func tailsEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, length: Int) -> Bool {
        var k = 8
        while k + 8 < length {
            guard load64(a + k) == load64(b + k) else { return false }
            k += 8
        }
        return load64(a + length - 8) == load64(b + length - 8)
    }

    static func decodeAggregate(_ stored: [UInt8], work: String) throws -> [UInt8] {
        guard let format = stored.first else { throw StoredFormError("an empty stored aggregate") }
        switch format {
        case 0: return Array(stored[1...])
        case 1:
            var work = work
            let table = tokenTable
            return try work.withUTF8 { work in
                try stored.withUnsafeBufferPointer { stored in
                    let body = UnsafeBufferPointer(rebasing: stored[1...])
                    if let line = try decodeLine(body, work: work, table: table, capacity: stackScratch) { return line }
                    // Too long for the stack scratch: check and measure first, for a scratch of the exact size.
                    let count = try decodeAggregateBody(body, work: work, table: table, into: nil, capacity: .max)!
                    return try decodeLine(body, work: work, table: table, capacity: count)!
                }
            }
        default: throw StoredFormError("stored aggregate of unknown format \(format)")
        }
    }

    /// The line that `body` decodes to, decoded in a scratch of `capacity` bytes; nil when it does not fit.
    private static func decodeLine(
        _ body: UnsafeBufferPointer<UInt8>, work: UnsafeBufferPointer<UInt8>, table: TokenTable, capacity: Int
    ) throws -> [UInt8]? {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { line in
            guard let count = try decodeAggregateBody(body, work: work, table: table, into: line.baseAddress!, capacity: capacity)
            else { return nil }
            return array(UnsafeBufferPointer(rebasing: line[..<count]))
        }
    }

    /// Decodes the compact form `body` (after the format byte) of the line of `work` into `out` and
    /// returns the line's length, or nil when it would pass `capacity`. With `out` nil it only checks
    /// and measures. Throws on bytes the format does not allow, checked in the order of the first
    /// version (so the same message for the same bytes).
    private static func decodeAggregateBody(
        _ body: UnsafeBufferPointer<UInt8>, work: UnsafeBufferPointer<UInt8>, table: TokenTable,
        into out: UnsafeMutablePointer<UInt8>?, capacity: Int
    ) throws -> Int? {
        let head = lineHead, tail = lineTail
        var o = head.utf8CodeUnitCount + work.count + tail.utf8CodeUnitCount
        guard o <= capacity else { return nil }
        if let out {
            out.initialize(from: head.utf8Start, count: head.utf8CodeUnitCount)
            if !work.isEmpty { (out + head.utf8CodeUnitCount).initialize(from: work.baseAddress!, count: work.count) }
            (out + o - tail.utf8CodeUnitCount).initialize(from: tail.utf8Start, count: tail.utf8CodeUnitCount)
        }
        let timestampToken = table.timestampToken
        let slot = TokenTable.slot
        return try table.expansionLengths.withUnsafeBufferPointer { lengths in
            try table.expansions.withUnsafeBufferPointer { expansions in
                var i = 0
                while i < body.count {
                    let b = body[i]
                    i += 1
                    let length = Int(lengths[Int(b)])
                    if length == 0 {
                        guard b == timestampToken else { throw StoredFormError("an unknown aggregate token \(b)") }
                        guard i + 7 <= body.count else { throw StoredFormError("a packed timestamp past the end") }
                        for k in 0..<7 where body[i + k] >= 100 { throw StoredFormError("a bad packed timestamp") }
                        guard o + timestampLength <= capacity else { return nil }
                        if let out { unpackTimestamp(body.baseAddress! + i, into: out + o) }
                        i += 7
                        o += timestampLength
                        continue
                    }
                    if let out, o + slot <= capacity {
                        // The whole slot: a copy of fixed size is a couple of vector moves, and the bytes
                        // past `length` are overwritten by what follows (the output fills 0..<capacity
                        // front to back, or is thrown away).
                        UnsafeMutableRawPointer(out + o).copyMemory(from: expansions.baseAddress! + Int(b) * slot, byteCount: slot)
                    } else {
                        guard o + length <= capacity else { return nil }
                        out?.advanced(by: o).initialize(from: expansions.baseAddress! + Int(b) * slot, count: length)
                    }
                    o += length
                }
                return o
            }
        }
    }

    /// Format 0: a zero byte, then the bytes as given.
    private static func raw(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var stored: [UInt8] = []
        stored.reserveCapacity(1 + bytes.count)
        stored.append(0)
        stored.append(contentsOf: bytes)
        return stored
    }

    /// The result arrays are copied from scratch buffers: `Array(unsafeUninitializedCapacity:)` looks up
    /// the array's type metadata on every call (Swift 6.3 on Linux), which made it slower than the copy.
    @inline(__always) private static func array(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] { Array(bytes) }
}

struct StoredFormError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
