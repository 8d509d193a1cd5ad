import Foundation
import PartnerCore

/// Request bodies as the API accepts them. The wire names are spelled out in `CodingKeys`
/// (snake_case), so decoding needs no key strategy. Unknown fields are ignored; missing
/// required fields and wrong types are 422 `validation_failed`.
struct CreateDistributorBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey { case name, retentionSeconds = "retention_seconds" }
    var name: String
    var retentionSeconds: Int?
}

/// `retention_seconds: null` clears the tenant's own retention (absent leaves it alone).
struct UpdateTenantBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey { case status, retentionSeconds = "retention_seconds" }
    var status: TenantStatus?
    var retentionSeconds: Int?
    var clearRetention = false

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        status = try container.decodeIfPresent(TenantStatus.self, forKey: .status)
        if container.contains(.retentionSeconds), try container.decodeNil(forKey: .retentionSeconds) {
            clearRetention = true
        } else {
            retentionSeconds = try container.decodeIfPresent(Int.self, forKey: .retentionSeconds)
        }
    }
}

struct UpdateCustomerBody: Decodable, Sendable {
    var level: CustomerLevel?
}

struct RetentionPolicyBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey {
        case freezeRetentionSeconds = "freeze_retention_seconds", prepaidGraceSeconds = "prepaid_grace_seconds"
        case prepaidRetentionSeconds = "prepaid_retention_seconds"
    }
    var freezeRetentionSeconds: Int
    var prepaidGraceSeconds: Int
    var prepaidRetentionSeconds: Int
}

struct CreatePartnerBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey { case distributorId = "distributor_id", name }
    var distributorId: DistributorID
    var name: String
}

struct CreateCustomerBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey { case partnerId = "partner_id", name, level }
    var partnerId: PartnerID
    var name: String
    var level: CustomerLevel?
}

struct CreateResourcesBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey {
        case type, billingMode = "billing_mode", expiresAt = "expires_at", dataBytes = "data_bytes", count
    }
    var type: String
    var billingMode: BillingMode
    var expiresAt: Date?
    var dataBytes: Int?
    var count: Int?
}

struct CreateAPIKeyBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey { case principalKind = "principal_kind", principalId = "principal_id", expiresAt = "expires_at" }
    var principalKind: Principal.Kind
    var principalId: UUID
    var expiresAt: Date?
}

struct SettingsBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey {
        case verificationCodeRequired = "verification_code_required", verificationCode = "verification_code"
    }
    var verificationCodeRequired: Bool
    var verificationCode: String?
}

struct VerificationCodeBody: Decodable, Sendable {
    var purpose: VerificationPurpose
}

struct FreezeBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey {
        case type, reason, agreementAccepted = "agreement_accepted", verificationCode = "verification_code", liftAt = "lift_at"
        case dryRun = "dry_run"
    }
    var type: RestrictionType?
    var reason: String?
    var agreementAccepted: Bool?
    var verificationCode: String?
    var liftAt: Date?
    /// The impact preview: answer what the freeze would do and change nothing.
    var dryRun: Bool?

    var request: FreezeRequest {
        FreezeRequest(
            type: type, reason: reason, agreementAccepted: agreementAccepted, verificationCode: verificationCode, liftAt: liftAt)
    }
}

/// Only the single-customer freeze previews. Any other change refuses `dry_run: true`
/// rather than ignoring it: a client asking for a preview must never get the change.
func refuseDryRun(_ dryRun: Bool?) throws {
    if dryRun == true {
        throw PartnerError.validation("dry_run previews a single customer's freeze: POST /v1/customers/{customer_id}/freeze")
    }
}

struct UnfreezeBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey { case type, reason, verificationCode = "verification_code", dryRun = "dry_run" }
    var type: RestrictionType?
    var reason: String?
    var verificationCode: String?
    var dryRun: Bool?

    var request: UnfreezeRequest { UnfreezeRequest(type: type, reason: reason, verificationCode: verificationCode) }
}

struct BatchFreezeBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey {
        case customerIds = "customer_ids", type, reason, agreementAccepted = "agreement_accepted", verificationCode = "verification_code"
        case liftAt = "lift_at", dryRun = "dry_run"
    }
    var customerIds: [CustomerID]
    var type: RestrictionType?
    var reason: String?
    var agreementAccepted: Bool?
    var verificationCode: String?
    var liftAt: Date?
    var dryRun: Bool?
}

struct BatchUnfreezeBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey {
        case customerIds = "customer_ids", type, reason, verificationCode = "verification_code", dryRun = "dry_run"
    }
    var customerIds: [CustomerID]
    var type: RestrictionType?
    var reason: String?
    var verificationCode: String?
    var dryRun: Bool?
}

/// A freeze's answer: the change made, or the impact preview.
enum FreezeAnswer: Encodable, Sendable {
    case done(FreezeResult)
    case preview(FreezePreview)

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .done(let result): try result.encode(to: encoder)
        case .preview(let preview): try preview.encode(to: encoder)
        }
    }
}

struct BatchResults<Result: Encodable & Sendable>: Encodable, Sendable {
    var results: [Result]
}

/// `{action: "buy", resource: {...}} | {action: "renew", ...} | {action: "change", ...}`.
struct OrderBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey {
        case action, resource, resourceId = "resource_id", termMonths = "term_months", spec
    }
    enum Action: String, Decodable, Sendable { case buy, renew, change }
    struct NewResource: Decodable, Sendable {
        enum CodingKeys: String, CodingKey { case type, billingMode = "billing_mode", termMonths = "term_months", spec }
        var type: String
        var billingMode: BillingMode
        var termMonths: Int?
        var spec: JSONValue?
    }

    var action: Action
    var resource: NewResource?
    var resourceId: ResourceID?
    var termMonths: Int?
    var spec: JSONValue?

    func request() throws -> OrderRequest {
        switch action {
        case .buy:
            guard let resource else { throw PartnerError.validation("resource is required to buy") }
            return .buy(type: resource.type, billingMode: resource.billingMode, termMonths: resource.termMonths, spec: resource.spec)
        case .renew:
            guard let resourceId else { throw PartnerError.validation("resource_id is required to renew") }
            return .renew(resourceID: resourceId, termMonths: termMonths ?? 0)
        case .change:
            guard let resourceId else { throw PartnerError.validation("resource_id is required to change") }
            guard let spec else { throw PartnerError.validation("spec is required to change") }
            return .change(resourceID: resourceId, spec: spec)
        }
    }
}

struct UsageBody: Decodable, Sendable {
    var quantity: Double
}

struct PriceBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey {
        case usageUnitPrice = "usage_unit_price", monthlyPrice = "monthly_price"
    }
    /// Decimal strings: a JSON number would pass through binary floating point.
    var usageUnitPrice: String?
    var monthlyPrice: String?
}

struct BudgetBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey {
        case amount, period, onExhaustion = "on_exhaustion", agreementAccepted = "agreement_accepted"
        case verificationCode = "verification_code"
    }
    var amount: String?
    var period: BudgetPeriod?
    var onExhaustion: BudgetPolicy?
    var agreementAccepted: Bool?
    var verificationCode: String?

    var request: BudgetRequest {
        BudgetRequest(
            amount: amount, period: period, onExhaustion: onExhaustion, agreementAccepted: agreementAccepted,
            verificationCode: verificationCode)
    }
}

struct RemoveBudgetBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey {
        case verificationCode = "verification_code"
    }
    var verificationCode: String?
}

struct CreateWebhookBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey { case url, eventTypes = "event_types" }
    var url: String
    var eventTypes: [String]?
}
