import Foundation
import Logging
import Postgres

/// How a verification code reaches the person who asked for it.
public enum VerificationCodeDelivery: Sendable {
    /// Written to the server log (local development default).
    case log(Logger)
    /// Returned in the API answer: for tests and demos, refused in production.
    case response
    /// POSTed as JSON to a configured URL (an SMS or e-mail gateway), signed with `secret`
    /// as the event webhooks are (`WebhookSignature`), tried up to three times.
    case webhook(URL, secret: String)

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
    public static func named(
        _ name: String, webhookURL: String?, webhookSecret: String? = nil, environment: String, logger: Logger
    ) throws -> VerificationCodeDelivery {
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
            guard let secret = webhookSecret, secret.utf8.count >= 32 else {
                throw PartnerError.validation(
                    "webhook delivery needs VERIFICATION_CODE_WEBHOOK_SECRET (at least 32 bytes): the gateway checks the signature with it")
            }
            return .webhook(url, secret: secret)
        default:
            throw PartnerError.validation("VERIFICATION_CODE_DELIVERY must be log, response or webhook")
        }
    }

    static let webhookAttempts = 3

    func deliver(code: String, id: UUID, to principal: Principal, purpose: VerificationPurpose, expiresAt: Date) async throws {
        switch self {
        case .log(let logger):
            logger.notice("verification code issued", metadata: [
                "principal": "\(principal.kind.rawValue):\(principal.id.lowercasedString)", "purpose": "\(purpose.rawValue)",
                "code": "\(code)", "expires_at": "\(expiresAt)",
            ])
        case .response:
            return
        case .webhook(let url, let secret):
            let body = try JSONSerialization.data(withJSONObject: [
                "id": id.lowercasedString, "principal_kind": principal.kind.rawValue,
                "principal_id": principal.id.lowercasedString, "purpose": purpose.rawValue, "code": code,
                "expires_at": ISO8601DateFormatter().string(from: expiresAt),
            ], options: [.sortedKeys])
            // The person is waiting for the code: three tries within about ten seconds, each
            // signed anew (the gateway dedups by the id header).
            for attempt in 0..<Self.webhookAttempts {
                if attempt > 0 { try await Task.sleep(for: .milliseconds(250 << (attempt - 1))) }
                let answer = await WebhookHTTP.post(url, body: Array(body), headers: [
                    (WebhookSignature.eventIDHeader, id.lowercasedString),
                    (WebhookSignature.header, WebhookSignature.sign(
                        body: Array(body), secret: secret, timestamp: Int(Date().timeIntervalSince1970))),
                ], timeout: 3)
                if answer.isSuccess { return }
            }
            throw PartnerError(.deliveryFailed, "the verification code could not be delivered; try again")
        }
    }
}
