import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// An SVG parsed by a real XML parser: parsing fails unless the text is well-formed XML.
struct ParsedSVG {
    let document: XMLDocument

    init(_ text: String) throws {
        document = try XMLDocument(xmlString: text, options: [])
    }

    var root: XMLElement { document.rootElement()! }

    /// The elements with this local name (the SVG namespace is the default one, so plain XPath names miss it).
    func elements(_ name: String) throws -> [XMLElement] {
        try document.nodes(forXPath: "//*[local-name()='\(name)']").map { $0 as! XMLElement }
    }

    func elements(_ name: String, class className: String) throws -> [XMLElement] {
        try elements(name).filter { ($0.value("class") ?? "").split(separator: " ").contains(Substring(className)) }
    }
}

extension XMLElement {
    /// Looked up by name in `attributes`: corelibs Foundation's `attribute(forName:)` misses every
    /// attribute of an element in a default namespace, as all SVG elements are.
    func value(_ attribute: String) -> String? { attributes?.first { $0.name == attribute }?.stringValue }

    func number(_ attribute: String) -> Double? { value(attribute).flatMap(Double.init) }

    /// The text of the first `<title>` child.
    var titleText: String? {
        children?.compactMap { $0 as? XMLElement }.first { $0.localName == "title" }?.stringValue
    }
}

/// Problems that would make a browser read the HTML differently from what was meant: an unclosed or
/// misnested element, an attribute without quotes or with a stray quote, a bare `<` or `&` in text.
/// Not an HTML validator; enough to catch markup broken by unescaped input.
func htmlProblems(_ html: String) -> [String] {
    let voidElements: Set<String> = ["meta", "img", "br", "hr", "link", "input", "source", "col", "wbr"]
    let rawTextElements: Set<String> = ["style", "script"]
    var problems: [String] = []
    var open: [String] = []
    let characters = Array(html.unicodeScalars)
    var index = 0

    func checkText(_ text: String) {
        var rest = Substring(text)
        while let ampersand = rest.firstIndex(of: "&") {
            let after = rest[ampersand...]
            guard after.range(of: #"^&(#[0-9]+|#x[0-9A-Fa-f]+|[A-Za-z]+);"#, options: .regularExpression) != nil else {
                problems.append("bare & near \(after.prefix(20))")
                return
            }
            rest = rest[rest.index(after: ampersand)...]
        }
    }

    var text = ""
    while index < characters.count {
        guard characters[index] == "<" else {
            text.unicodeScalars.append(characters[index])
            index += 1
            continue
        }
        checkText(text)
        text = ""
        guard let close = characters[index...].firstIndex(of: ">") else {
            problems.append("unterminated tag at \(index)")
            break
        }
        let tag = String(String.UnicodeScalarView(characters[(index + 1)..<close]))
        index = close + 1
        if tag.hasPrefix("!") { continue }
        if tag.hasPrefix("/") {
            let name = String(tag.dropFirst()).lowercased()
            if open.last == name { open.removeLast() } else { problems.append("</\(name)> closes <\(open.last ?? "nothing")>") }
            continue
        }
        let pattern = #"^[A-Za-z][A-Za-z0-9-]*(\s+[A-Za-z_:][A-Za-z0-9_:.-]*(="[^"<]*"|='[^'<]*')?)*\s*/?$"#
        guard tag.range(of: pattern, options: .regularExpression) != nil else {
            problems.append("malformed tag <\(tag.prefix(80))>")
            continue
        }
        let name = String(tag.prefix { !$0.isWhitespace && $0 != "/" }).lowercased()
        if tag.hasSuffix("/") || voidElements.contains(name) { continue }
        if rawTextElements.contains(name) {
            let end = Array("</\(name)>".unicodeScalars)
            guard let found = stride(from: index, through: characters.count - end.count, by: 1).first(where: {
                Array(characters[$0..<($0 + end.count)]) == end
            }) else {
                problems.append("<\(name)> never closed")
                break
            }
            index = found + end.count
            continue
        }
        open.append(name)
    }
    checkText(text)
    if !open.isEmpty { problems.append("unclosed: \(open)") }
    return problems
}

/// Every `<svg …>…</svg>` inlined in an HTML page.
func inlineSVGs(_ html: String) -> [String] {
    var result: [String] = []
    var rest = Substring(html)
    while let start = rest.range(of: "<svg "), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
        result.append(String(rest[start.lowerBound..<end.upperBound]))
        rest = rest[end.upperBound...]
    }
    return result
}

/// A DOI carrying every character that breaks markup or URLs when left unescaped.
let hostileDOI = #"10.1234/<script>"&'#?;x y"#
