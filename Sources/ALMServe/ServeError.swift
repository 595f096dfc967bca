import ALMCore
import Foundation
import HTTPTypes
import Hummingbird

/// Every error answer of the API: a status and a JSON body `{"error": {"status": N, "message": "..."}}`.
public struct ServeError: Error, HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public static func badRequest(_ message: String) -> ServeError { ServeError(.badRequest, message) }
    public static func unavailable(_ message: String) -> ServeError { ServeError(.serviceUnavailable, message) }

    public var description: String { "\(status.code) \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        var body = Array(#"{"error":{"status":"#.utf8)
        body.append(contentsOf: String(status.code).utf8)
        body.append(contentsOf: #","message":"#.utf8)
        JSONOutput.appendString(message, to: &body)
        body.append(contentsOf: "}}\n".utf8)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
