/// Digital Object Identifier normalisation: the one spelling of a DOI used as the work id
/// (the Kafka record key of every raw topic and the key of every aggregate).
///
/// `normalize` accepts the forms sources actually send and reduces them to `10.<registrant>/<suffix>`
/// in lower case:
/// - surrounding whitespace;
/// - a `doi:` prefix (any case, spaces after the colon allowed);
/// - a resolver prefix: `http(s)://doi.org/`, `http(s)://dx.doi.org/`, `http(s)://www.doi.org/`, or the
///   same hosts without a scheme (any case);
/// - percent-encoding (`10.1371%2Fjournal.pone.0000308`), decoded once; a `%` that starts no valid escape,
///   or an escape that decodes to `%` itself, is an error (so normalising is idempotent);
/// - trailing punctuation picked up from prose: `. , ; : ' " ! ?`, and a closing `)`, `]` or `}` that has no
///   opening partner inside the DOI (so `10.1016/0002-9343(80)90001-1` keeps its parenthesis).
///
/// The result has the shape `10.` + registrant code (digit groups separated by dots) + `/` + a non-empty
/// suffix without whitespace, control or format characters, and at most 512 characters.
///
/// Deliberately not accepted: DOIs embedded in other URLs (`https://example.org/10.1234/x` — a publisher
/// URL's path may continue past the DOI, so the DOI's end is unknowable), other identifier schemes
/// (`pmid:`, `arxiv:` — mapping those is the registry's job), and prefixes other than `10.`.
public enum DOI {
    /// The longest normalised DOI accepted, in Unicode scalars (the schema's `maxLength` of `work`).
    public static let maximumLength = 512

    public static func normalize(_ raw: String) throws(DOIError) -> String {
        // Nearly every record carries an already normal DOI: recognise it in one pass over the bytes.
        if raw.utf8.withContiguousStorageIfAvailable(isPlainNormalizedASCII) == true { return raw }

        var candidate = raw[...].trimmingUnicodeWhitespace()
        guard !candidate.isEmpty else { throw .empty }
        candidate = droppingIdentifierPrefix(candidate)

        let percentDecoded: String
        if candidate.utf8.contains(UInt8(ascii: "%")) {
            percentDecoded = try decodingPercentEscapes(candidate)
            candidate = percentDecoded[...]
        }

        candidate = droppingTrailingPunctuation(candidate)
        guard !candidate.isEmpty else { throw .empty }

        let normalized = lowercased(candidate, within: raw)
        try validateNormalizedShape(normalized)
        return normalized
    }

    /// True when `text` is already a DOI in normal form (normalising it would change nothing).
    public static func isNormalized(_ text: String) -> Bool {
        (try? normalize(text)) == text
    }

    /// True for a DOI in normal form made of printable ASCII that no step of `normalize` would touch:
    /// `10.<digits>[.<digits>...]/<suffix>`, no upper case, no `%`, no trailing punctuation or bracket.
    /// False means "take the general path", not "invalid".
    private static func isPlainNormalizedASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count <= maximumLength, let last = bytes.last, !isTrailingJunkCandidate(Unicode.Scalar(last))
        else { return false }
        var iterator = bytes.makeIterator()
        guard problemWithPrefixAndRegistrant(&iterator) == nil else { return false }
        var suffixLength = 0
        while let byte = iterator.next() {
            guard byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "%"),
                !(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            else { return false }
            suffixLength += 1
        }
        return suffixLength > 0
    }

    /// Reads `10.` and the registrant code with its closing `/` from `bytes`, leaving the iterator at
    /// the suffix. Nil when they are well-formed, otherwise what is wrong.
    private static func problemWithPrefixAndRegistrant<Bytes: IteratorProtocol<UInt8>>(
        _ bytes: inout Bytes
    ) -> DOIError? {
        guard bytes.next() == UInt8(ascii: "1"), bytes.next() == UInt8(ascii: "0"),
            bytes.next() == UInt8(ascii: ".")
        else { return .missingDirectoryIndicator }

        // Digit groups separated by single dots: 1371, 1000.10.
        var digitsInGroup = 0
        while let byte = bytes.next() {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                digitsInGroup += 1
            } else if byte == UInt8(ascii: ".") && digitsInGroup > 0 {
                digitsInGroup = 0
            } else if byte == UInt8(ascii: "/") && digitsInGroup > 0 {
                return nil
            } else {
                return .invalidRegistrantCode
            }
        }
        // The text ended inside the registrant code: "10.1371" has no suffix, "10.1371." is malformed.
        return digitsInGroup > 0 ? .missingSuffix : .invalidRegistrantCode
    }

    // MARK: - Steps

    private static let resolverPrefixes: [String] = [
        "https://doi.org/", "http://doi.org/",
        "https://dx.doi.org/", "http://dx.doi.org/",
        "https://www.doi.org/", "http://www.doi.org/",
        "doi.org/", "dx.doi.org/", "www.doi.org/",
    ]

    private static func droppingIdentifierPrefix(_ text: Substring) -> Substring {
        if let rest = text.droppingASCIICaseInsensitivePrefix("doi:") {
            return rest.drop(while: { $0 == " " })
        }
        for prefix in resolverPrefixes {
            if let rest = text.droppingASCIICaseInsensitivePrefix(prefix) { return rest }
        }
        return text
    }

    private static func decodingPercentEscapes(_ text: Substring) throws(DOIError) -> String {
        // A "%" in the result (only "%25" gives one: a bare "%" is not an escape) would be read as an
        // escape when the normalised DOI is normalised again (every decoded record is): normalisation
        // must be idempotent, so it is refused.
        guard let decoded = PercentEncoding.decode(text), !decoded.utf8.contains(UInt8(ascii: "%")) else {
            throw .invalidPercentEncoding
        }
        return decoded
    }

    private static func droppingTrailingPunctuation(_ text: Substring) -> Substring {
        var scalars = text.unicodeScalars
        guard let last = scalars.last, isTrailingJunkCandidate(last) else { return text }

        // A closing bracket is kept when an opening one inside the DOI pairs with it, as in
        // 10.1016/0002-9343(80)90001-1; an unpaired one came from the surrounding prose.
        var unpairedParentheses = 0, unpairedBrackets = 0, unpairedBraces = 0
        for scalar in scalars {
            switch scalar {
            case "(": unpairedParentheses -= 1
            case ")": unpairedParentheses += 1
            case "[": unpairedBrackets -= 1
            case "]": unpairedBrackets += 1
            case "{": unpairedBraces -= 1
            case "}": unpairedBraces += 1
            default: break
            }
        }

        while let last = scalars.last, isTrailingJunkCandidate(last) {
            switch last {
            case ")":
                guard unpairedParentheses > 0 else { return Substring(scalars) }
                unpairedParentheses -= 1
            case "]":
                guard unpairedBrackets > 0 else { return Substring(scalars) }
                unpairedBrackets -= 1
            case "}":
                guard unpairedBraces > 0 else { return Substring(scalars) }
                unpairedBraces -= 1
            default:
                break
            }
            scalars = scalars.dropLast()
        }
        return Substring(scalars)
    }

    private static func isTrailingJunkCandidate(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case ".", ",", ";", ":", "'", "\"", "!", "?", ")", "]", "}": true
        default: isUnicodeWhitespace(scalar)
        }
    }

    /// Lower-cases `text`, returning `original` itself when nothing changes (the common case for a
    /// record whose `work` is already normalised: no new string is built).
    private static func lowercased(_ text: Substring, within original: String) -> String {
        var isPlainLowercaseASCII = true
        for byte in text.utf8 where byte >= 0x80 || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) {
            isPlainLowercaseASCII = false
            break
        }
        guard isPlainLowercaseASCII else { return text.lowercased() }
        if text.startIndex == original.startIndex && text.endIndex == original.endIndex { return original }
        return String(text)
    }

    private static func validateNormalizedShape(_ doi: String) throws(DOIError) {
        var bytes = doi.utf8.makeIterator()
        if let problem = problemWithPrefixAndRegistrant(&bytes) { throw problem }
        guard bytes.next() != nil else { throw .missingSuffix }

        var length = 0
        for scalar in doi.unicodeScalars {
            length += 1
            if isWhitespaceOrInvisibleControl(scalar) { throw .containsWhitespaceOrControl }
        }
        guard length <= maximumLength else { throw .tooLong(length: length) }
    }

    private static func isWhitespaceOrInvisibleControl(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar.value <= 0x20 || scalar.value == 0x7F }
        if isUnicodeWhitespace(scalar) { return true }
        switch scalar.properties.generalCategory {
        case .control, .format: return true
        default: return false
        }
    }
}

/// Why a string is not a DOI.
public enum DOIError: Error, Sendable, Hashable, CustomStringConvertible {
    case empty
    /// The DOI does not start with `10.` (after any `doi:` or resolver prefix is removed).
    case missingDirectoryIndicator
    /// Between `10.` and `/` there must be digit groups separated by dots, e.g. `1371` or `1000.10`.
    case invalidRegistrantCode
    case missingSuffix
    case invalidPercentEncoding
    case containsWhitespaceOrControl
    case tooLong(length: Int)

    public var description: String {
        switch self {
        case .empty:
            "DOI is empty"
        case .missingDirectoryIndicator:
            "DOI must start with \"10.\" (after an optional \"doi:\" or https://doi.org/ prefix)"
        case .invalidRegistrantCode:
            "DOI registrant code (between \"10.\" and the first \"/\") must be digits, "
                + "optionally in dot-separated groups"
        case .missingSuffix:
            "DOI has no suffix: expected 10.<registrant>/<suffix>"
        case .invalidPercentEncoding:
            "DOI has invalid percent-encoding: \"%\" must be followed by two hex digits, "
                + "decode to UTF-8 and not to \"%\""
        case .containsWhitespaceOrControl:
            "DOI contains whitespace or control characters"
        case .tooLong(let length):
            "DOI is \(length) characters long; at most \(DOI.maximumLength) are allowed"
        }
    }
}

/// Unicode's White_Space property, without the property lookup for ASCII.
private func isUnicodeWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    if scalar.isASCII { return scalar == " " || (scalar.value >= 0x09 && scalar.value <= 0x0D) }
    return scalar.properties.isWhitespace
}

extension Substring {
    fileprivate func trimmingUnicodeWhitespace() -> Substring {
        var scalars = unicodeScalars
        while let first = scalars.first, isUnicodeWhitespace(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, isUnicodeWhitespace(last) { scalars = scalars.dropLast() }
        return Substring(scalars)
    }

    /// The rest after `prefix` (ASCII, compared case-insensitively), or nil.
    fileprivate func droppingASCIICaseInsensitivePrefix(_ prefix: String) -> Substring? {
        var index = utf8.startIndex
        for expected in prefix.utf8 {
            guard index != utf8.endIndex else { return nil }
            let byte = utf8[index]
            let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            guard folded == expected else { return nil }
            index = utf8.index(after: index)
        }
        return self[index...]
    }
}
