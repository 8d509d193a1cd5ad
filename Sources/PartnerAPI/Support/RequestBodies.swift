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

struct UpdateTenantBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey { case status, retentionSeconds = "retention_seconds" }
    var status: TenantStatus?
    var retentionSeconds: Int?
}

struct CreatePartnerBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey { case distributorId = "distributor_id", name }
    var distributorId: UUID
    var name: String
}

struct CreateCustomerBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey { case partnerId = "partner_id", name }
    var partnerId: UUID
    var name: String
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
        case type, reason, agreementAccepted = "agreement_accepted", verificationCode = "verification_code"
    }
    var type: RestrictionType?
    var reason: String?
    var agreementAccepted: Bool?
    var verificationCode: String?

    var request: FreezeRequest {
        FreezeRequest(type: type, reason: reason, agreementAccepted: agreementAccepted, verificationCode: verificationCode)
    }
}

struct UnfreezeBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey { case type, reason, verificationCode = "verification_code" }
    var type: RestrictionType?
    var reason: String?
    var verificationCode: String?

    var request: UnfreezeRequest { UnfreezeRequest(type: type, reason: reason, verificationCode: verificationCode) }
}

struct BatchFreezeBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey {
        case customerIds = "customer_ids", type, reason, agreementAccepted = "agreement_accepted", verificationCode = "verification_code"
    }
    var customerIds: [UUID]
    var type: RestrictionType?
    var reason: String?
    var agreementAccepted: Bool?
    var verificationCode: String?
}

struct BatchUnfreezeBody: Decodable, Sendable {
    enum CodingKeys: String, CodingKey {
        case customerIds = "customer_ids", type, reason, verificationCode = "verification_code"
    }
    var customerIds: [UUID]
    var type: RestrictionType?
    var reason: String?
    var verificationCode: String?
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
    var resourceId: UUID?
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
