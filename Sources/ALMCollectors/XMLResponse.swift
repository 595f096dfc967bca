import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML response: a small element tree (names without namespace prefixes), enough for the
/// report and query formats sources answer with.
final class XMLNode {
    let name: String
    let attributes: [String: String]
    private(set) var children: [XMLNode] = []
    fileprivate(set) var text = ""

    init(name: String, attributes: [String: String]) {
        self.name = name
        self.attributes = attributes
    }

    func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }
    func all(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }
    /// Every descendant named `name`, in document order.
    func descendants(_ name: String) -> [XMLNode] {
        children.flatMap { ($0.name == name ? [$0] : []) + $0.descendants(name) }
    }
    var trimmedText: String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

    fileprivate func append(_ child: XMLNode) { children.append(child) }

    /// Parses `body`; a body that is not well-formed XML is a malformed response of `source`.
    static func parse(_ body: [UInt8], source: String) throws(CollectorError) -> XMLNode {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(body))
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "no root element"
            throw CollectorError(source: source, kind: .malformedResponse,
                                 "not well-formed XML (line \(parser.lineNumber)): \(reason)")
        }
        // libxml2 through XMLParser accepts a body cut off inside an element (a truncated download).
        if let open = builder.openElement {
            throw CollectorError(source: source, kind: .malformedResponse, "not well-formed XML: the body ends inside <\(open)>")
        }
        return root
    }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var root: XMLNode?
    private var stack: [XMLNode] = []
    var openElement: String? { stack.last?.name }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        let node = XMLNode(name: elementName, attributes: attributes)
        if let parent = stack.last { parent.append(node) } else { root = node }
        stack.append(node)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        stack.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        stack.last?.text += string
    }
}

extension XMLNode {
    /// A non-negative integer attribute, or a malformed-response error naming it.
    func countAttribute(_ key: String, source: String) throws(CollectorError) -> UInt64 {
        guard let text = attributes[key], let value = UInt64(text) else {
            throw CollectorError(source: source, kind: .malformedResponse,
                                 "<\(name)> \(key): expected a non-negative integer, found \(attributes[key].map { "\"\($0)\"" } ?? "nothing")")
        }
        return value
    }

    /// The text of child `key` as a non-negative integer; absent counts as `absent` when given.
    func countChild(_ key: String, source: String, absent: UInt64? = nil) throws(CollectorError) -> UInt64 {
        guard let node = child(key) else {
            if let absent { return absent }
            throw CollectorError(source: source, kind: .malformedResponse, "<\(name)>: no <\(key)>")
        }
        guard let value = UInt64(node.trimmedText) else {
            throw CollectorError(source: source, kind: .malformedResponse,
                                 "<\(name)><\(key)>: expected a non-negative integer, found \"\(node.trimmedText)\"")
        }
        return value
    }
}
