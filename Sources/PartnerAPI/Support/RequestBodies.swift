import Foundation
import PartnerCore

/// Request bodies as the API accepts them (snake_case on the wire). Unknown fields are
/// ignored; missing required fields and wrong types are 422 `validation_failed`.
struct CreateDistributorBody: Decodable, Sendable {
    var name: String
    var retentionSeconds: Int?
}

struct UpdateTenantBody: Decodable, Sendable {
    var status: TenantStatus?
    var retentionSeconds: Int?
}

struct CreatePartnerBody: Decodable, Sendable {
    var distributorId: UUID
    var name: String
}

struct CreateCustomerBody: Decodable, Sendable {
    var partnerId: UUID
    var name: String
}

struct CreateResourcesBody: Decodable, Sendable {
    var type: String
    var billingMode: BillingMode
    var expiresAt: Date?
    var dataBytes: Int?
    var count: Int?
}

struct CreateAPIKeyBody: Decodable, Sendable {
    var principalKind: Principal.Kind
    var principalId: UUID
}

struct SettingsBody: Decodable, Sendable {
    var verificationCodeRequired: Bool
}

struct VerificationCodeBody: Decodable, Sendable {
    var purpose: VerificationPurpose
}

struct FreezeBody: Decodable, Sendable {
    var type: RestrictionType?
    var reason: String?
    var agreementAccepted: Bool?
    var verificationCode: String?

    var request: FreezeRequest {
        FreezeRequest(type: type, reason: reason, agreementAccepted: agreementAccepted, verificationCode: verificationCode)
    }
}

struct UnfreezeBody: Decodable, Sendable {
    var type: RestrictionType?
    var reason: String?
    var verificationCode: String?

    var request: UnfreezeRequest { UnfreezeRequest(type: type, reason: reason, verificationCode: verificationCode) }
}

struct BatchFreezeBody: Decodable, Sendable {
    var customerIds: [UUID]
    var type: RestrictionType?
    var reason: String?
    var agreementAccepted: Bool?
    var verificationCode: String?
}

struct BatchUnfreezeBody: Decodable, Sendable {
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
    enum Action: String, Decodable, Sendable { case buy, renew, change }
    struct NewResource: Decodable, Sendable {
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
