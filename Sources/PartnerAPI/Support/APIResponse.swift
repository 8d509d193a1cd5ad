import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PartnerCore
import Postgres

/// A JSON answer before it becomes a Hummingbird `Response`: kept as bytes so an
/// idempotent request can store exactly what was sent.
struct APIResponse: Sendable {
    var status: HTTPResponse.Status
    var body: Data
    var headers: HTTPFields = [:]

    init(status: HTTPResponse.Status, body: Data, headers: HTTPFields = [:]) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    init<Value: Encodable>(_ status: HTTPResponse.Status, _ value: Value) throws {
        self.init(status: status, body: try JSONStreamEncoder.encode(value))
    }

    /// The error body of DESIGN §4: `{"error": {"code", "message"}}`, written directly:
    /// refusals (a frozen customer's buy, usage of a frozen resource) are hot paths too.
    init(error: PartnerError) {
        let writer = JSONStreamWriter()
        writer.writeRaw(#"{"error":{"code":"#)
        writer.writeString(error.code.rawValue)
        writer.writeRaw(#","message":"#)
        writer.writeString(error.message)
        writer.writeRaw("}}")
        self.init(status: ErrorMapping.status(for: error.code), body: Data(writer.bytes))
        if let retryAfter = error.retryAfterSeconds {
            headers[.retryAfter] = String(retryAfter)
        } else if error.code == .serviceUnavailable {
            headers[.retryAfter] = "1"
        }
    }

    func response(requestID: String) -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.requestID] = requestID
        // Answers name tenants and one-time secrets: no cache keeps them, no browser sniffs them.
        headers[.cacheControl] = "no-store"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-ID")!
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplay = Self("Idempotent-Replayed")!
}

/// Error codes to HTTP statuses (DESIGN §4), and any error to a domain error.
enum ErrorMapping {
    static func status(for code: PartnerError.Code) -> HTTPResponse.Status {
        switch code {
        case .unauthenticated: .unauthorized
        case .forbidden, .permissionNotGranted, .permissionHeldByPartner, .actorSuspended: .forbidden
        case .notFound: .notFound
        case .customerAlreadyRestricted, .customerNotRestricted, .freezeTypeMismatch, .purchaseRestricted, .resourceNotChangeable: .conflict
        case .resourceReleased: .gone
        case .payloadTooLarge: .contentTooLarge
        case .validationFailed, .reasonRequired, .agreementRequired, .verificationCodeRequired, .verificationCodeInvalid,
            .idempotencyKeyReused:
            .unprocessableContent
        case .resourceFrozen: .init(code: 423, reasonPhrase: "Locked")
        case .verificationCodeLocked, .rateLimited: .tooManyRequests
        case .serviceUnavailable: .serviceUnavailable
        case .deliveryFailed: .badGateway
        case .internalError: .internalServerError
        }
    }

    /// Turns whatever a handler threw into the domain error the client sees.
    static func partnerError(from error: any Error) -> PartnerError {
        switch error {
        case let error as PartnerError:
            return error
        case let error as HTTPError:
            switch error.status.code {
            case 413: return PartnerError(.payloadTooLarge, "the request body is larger than 1 MiB")
            case 404: return PartnerError(.notFound, "no such endpoint")
            case 405: return PartnerError(.notFound, "no such endpoint")
            default: return PartnerError(.validationFailed, error.body ?? "the request is malformed")
            }
        case let error as DecodingError:
            return PartnerError(.validationFailed, describe(error))
        default:
            return PartnerError.from(error)
        }
    }

    /// A decoding error in the API's own words: which field, what was wrong.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? JSONCoding.snakeCase($0.stringValue) }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
            return text.isEmpty ? "the body" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is required"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context.codingPath)) has the wrong type"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "the body is not valid JSON" }
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "the body is malformed"
        }
    }
}
