/// RFC 3986 percent-decoding, shared by DOI normalisation and the HTTP API's path segments.
public enum PercentEncoding {
    /// `text` with every `%XX` replaced by its byte; nil when an escape is not two hex digits or the
    /// bytes are not UTF-8. Nothing else is changed (`+` stays `+`: this is a path, not a form).
    public static func decode<Text: StringProtocol>(_ text: Text) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexDigitValue), let low = iterator.next().flatMap(hexDigitValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
