/// The domain's errors: one code per API error code of DESIGN §4, with a message meant for
/// the person at the console. The HTTP layer maps codes to statuses; nothing else does.
public struct PartnerError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case unauthenticated
        case forbidden
        case permissionNotGranted = "permission_not_granted"
        case permissionHeldByPartner = "permission_held_by_partner"
        case actorSuspended = "actor_suspended"
        case notFound = "not_found"
        case customerAlreadyRestricted = "customer_already_restricted"
        case customerNotRestricted = "customer_not_restricted"
        case freezeTypeMismatch = "freeze_type_mismatch"
        case purchaseRestricted = "purchase_restricted"
        case resourceNotChangeable = "resource_not_changeable"
        case resourceReleased = "resource_released"
        case payloadTooLarge = "payload_too_large"
        case validationFailed = "validation_failed"
        case reasonRequired = "reason_required"
        case agreementRequired = "agreement_required"
        case verificationCodeRequired = "verification_code_required"
        case verificationCodeInvalid = "verification_code_invalid"
        case idempotencyKeyReused = "idempotency_key_reused"
        case resourceFrozen = "resource_frozen"
        case verificationCodeLocked = "verification_code_locked"
        case rateLimited = "rate_limited"
        case serviceUnavailable = "service_unavailable"
        /// A gateway this service depends on (the code delivery webhook) failed.
        case deliveryFailed = "delivery_failed"
        /// A bug: logged with the request id and counted; never a database outage.
        case internalError = "internal_error"
    }

    public var code: Code
    public var message: String
    /// When the client may try again (`rate_limited`): sent as `Retry-After`.
    public var retryAfterSeconds: Int?

    public init(_ code: Code, _ message: String, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// A failure of this service or what it depends on (answered 5xx), not of the request:
    /// the same request may succeed later.
    public var isOnOurSide: Bool { code == .serviceUnavailable || code == .deliveryFailed || code == .internalError }

    public static func notFound(_ what: String) -> PartnerError {
        PartnerError(.notFound, "\(what) was not found")
    }

    public static func validation(_ message: String) -> PartnerError {
        PartnerError(.validationFailed, message)
    }
}
