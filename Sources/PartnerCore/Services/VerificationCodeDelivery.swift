import Foundation
import Logging
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// How a verification code reaches the person who asked for it.
public enum VerificationCodeDelivery: Sendable {
    /// Written to the server log (local development default).
    case log(Logger)
    /// Returned in the API answer: for tests and demos, refused in production.
    case response
    /// POSTed as JSON to a configured URL (an SMS or e-mail gateway).
    case webhook(URL)

    public var name: String {
        switch self {
        case .log: "log"
        case .response: "response"
        case .webhook: "webhook"
        }
    }

    /// Whether the code goes back in the API answer.
    var returnsCode: Bool {
        if case .response = self { return true }
        return false
    }

    /// Builds a delivery from configuration text. Production refuses every delivery that
    /// lets a code be read by someone other than the person it is for: `response` (the API
    /// answer), `log` (the server log) and a plain `http` webhook.
    public static func named(_ name: String, webhookURL: String?, environment: String, logger: Logger) throws -> VerificationCodeDelivery {
        switch name {
        case "log":
            guard environment != "production" else {
                throw PartnerError.validation("VERIFICATION_CODE_DELIVERY=log is refused in production: codes would sit in the log")
            }
            return .log(logger)
        case "response":
            guard environment != "production" else {
                throw PartnerError.validation("VERIFICATION_CODE_DELIVERY=response is refused in production")
            }
            return .response
        case "webhook":
            guard let text = webhookURL, let url = URL(string: text), url.scheme == "https" || url.scheme == "http" else {
                throw PartnerError.validation("webhook delivery needs VERIFICATION_CODE_WEBHOOK_URL (http or https)")
            }
            guard environment != "production" || url.scheme == "https" else {
                throw PartnerError.validation("VERIFICATION_CODE_WEBHOOK_URL must be https in production")
            }
            return .webhook(url)
        default:
            throw PartnerError.validation("VERIFICATION_CODE_DELIVERY must be log, response or webhook")
        }
    }

    func deliver(code: String, id: UUID, to principal: Principal, purpose: VerificationPurpose, expiresAt: Date) async throws {
        switch self {
        case .log(let logger):
            logger.notice("verification code issued", metadata: [
                "principal": "\(principal.kind.rawValue):\(principal.id)", "purpose": "\(purpose.rawValue)",
                "code": "\(code)", "expires_at": "\(expiresAt)",
            ])
        case .response:
            return
        case .webhook(let url):
            var request = URLRequest(url: url, timeoutInterval: 5)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: [
                "id": id.uuidString.lowercased(), "principal_kind": principal.kind.rawValue,
                "principal_id": principal.id.uuidString.lowercased(), "purpose": purpose.rawValue, "code": code,
                "expires_at": ISO8601DateFormatter().string(from: expiresAt),
            ])
            let status: Int?
            do {
                status = (try await URLSession.shared.data(for: request).1 as? HTTPURLResponse)?.statusCode
            } catch {
                status = nil
            }
            guard let status, (200..<300).contains(status) else {
                throw PartnerError(.deliveryFailed, "the verification code could not be delivered; try again")
            }
        }
    }
}
