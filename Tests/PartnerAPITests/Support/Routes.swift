import Foundation
import HTTPTypes
import Testing

/// Every `/v1` route of DESIGN §4 with a well-formed body, so that a refusal in a table test
/// is about who calls or which ids, never about what was sent. `{name}` in the path or body
/// is filled from the ids given to `path(_:)` / `body(_:)`.
struct Route: Sendable, Hashable, CustomTestStringConvertible {
    let method: HTTPRequest.Method
    let template: String
    let bodyTemplate: String?

    init(_ method: HTTPRequest.Method, _ template: String, _ body: String? = nil) {
        self.method = method
        self.template = template
        self.bodyTemplate = body
    }

    var testDescription: String { "\(method.rawValue) \(template)" }

    func path(_ ids: [String: String]) -> String { Self.fill(template, ids) }

    func body(_ ids: [String: String]) -> String? { bodyTemplate.map { Self.fill($0, ids) } }

    /// The path parameters the template names.
    var parameters: [String] {
        template.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
    }

    static func fill(_ text: String, _ ids: [String: String]) -> String {
        var text = text
        for (name, value) in ids { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
        return text
    }

    // Operator provisioning.
    static let createDistributor = Route(.post, "/v1/distributors", #"{"name":"D"}"#)
    static let updateDistributor = Route(.patch, "/v1/distributors/{distributor_id}", #"{"status":"active"}"#)
    static let createPartner = Route(.post, "/v1/partners", #"{"distributor_id":"{distributor_id}","name":"P"}"#)
    static let updatePartner = Route(.patch, "/v1/partners/{partner_id}", #"{"retention_seconds":60}"#)
    static let createCustomer = Route(.post, "/v1/customers", #"{"partner_id":"{partner_id}","name":"C"}"#)
    static let provisionResources = Route(
        .post, "/v1/customers/{customer_id}/resources", #"{"type":"ecs.instance","billing_mode":"pay_per_use"}"#)
    static let createAPIKey = Route(.post, "/v1/api-keys", #"{"principal_kind":"customer","principal_id":"{customer_id}"}"#)
    static let updateCustomer = Route(.patch, "/v1/customers/{customer_id}", #"{"level":"v1"}"#)
    static let updateRetentionPolicy = Route(
        .put, "/v1/retention-policies/v2",
        #"{"freeze_retention_seconds":60,"prepaid_grace_seconds":60,"prepaid_retention_seconds":60}"#)
    static let setPrice = Route(.put, "/v1/prices/ecs.instance", #"{"usage_unit_price":"0.25","monthly_price":"30"}"#)
    // Every principal.
    static let retentionPolicies = Route(.get, "/v1/retention-policies")
    static let prices = Route(.get, "/v1/prices")
    // Distributor.
    static let listPartners = Route(.get, "/v1/partners")
    static let getPermission = Route(.get, "/v1/partners/{partner_id}/freeze-permission")
    static let grantPermission = Route(.put, "/v1/partners/{partner_id}/freeze-permission")
    static let revokePermission = Route(.delete, "/v1/partners/{partner_id}/freeze-permission")
    // Customer management.
    static let listCustomers = Route(.get, "/v1/customers")
    static let getCustomer = Route(.get, "/v1/customers/{customer_id}")
    static let listResources = Route(.get, "/v1/customers/{customer_id}/resources")
    static let getSettings = Route(.get, "/v1/settings")
    static let updateSettings = Route(.patch, "/v1/settings", #"{"verification_code_required":false}"#)
    static let getAgreement = Route(.get, "/v1/agreement")
    static let issueCode = Route(.post, "/v1/verification-codes", #"{"purpose":"freeze"}"#)
    static let freeze = Route(
        .post, "/v1/customers/{customer_id}/freeze", #"{"type":"purchase_and_resources","reason":"budget","agreement_accepted":true}"#)
    static let unfreeze = Route(.post, "/v1/customers/{customer_id}/unfreeze", #"{"reason":"paid"}"#)
    static let previewFreeze = Route(.post, "/v1/customers/{customer_id}/freeze", #"{"dry_run":true}"#)
    static let batchFreeze = Route(
        .post, "/v1/customers/freeze", #"{"customer_ids":["{customer_id}"],"reason":"budget","agreement_accepted":true}"#)
    static let batchUnfreeze = Route(.post, "/v1/customers/unfreeze", #"{"customer_ids":["{customer_id}"],"reason":"paid"}"#)
    static let getBudget = Route(.get, "/v1/customers/{customer_id}/budget")
    static let setBudget = Route(
        .put, "/v1/customers/{customer_id}/budget", #"{"amount":"100.00","period":"monthly","on_exhaustion":"restrict_purchase"}"#)
    static let removeBudget = Route(.delete, "/v1/customers/{customer_id}/budget")
    static let auditEvents = Route(.get, "/v1/audit-events")
    static let events = Route(.get, "/v1/events")
    // Customer.
    static let order = Route(
        .post, "/v1/customers/{customer_id}/orders", #"{"action":"buy","resource":{"type":"ecs.instance","billing_mode":"pay_per_use"}}"#)
    static let usage = Route(.post, "/v1/customers/{customer_id}/resources/{resource_id}/usage", #"{"quantity":1}"#)

    static let all: [Route] = [
        createDistributor, updateDistributor, createPartner, updatePartner, createCustomer, provisionResources, createAPIKey,
        updateCustomer, updateRetentionPolicy, setPrice, retentionPolicies, prices,
        listPartners, getPermission, grantPermission, revokePermission,
        listCustomers, getCustomer, listResources, getSettings, updateSettings, getAgreement, issueCode,
        freeze, previewFreeze, unfreeze, batchFreeze, batchUnfreeze, getBudget, setBudget, removeBudget, auditEvents, events,
        order, usage,
    ]

    /// Routes only the platform operator may call.
    static let operatorOnly: [Route] = [
        createDistributor, updateDistributor, createPartner, updatePartner, createCustomer, provisionResources, createAPIKey,
        updateCustomer, updateRetentionPolicy, setPrice,
    ]
    static let distributorOnly: [Route] = [listPartners, grantPermission, revokePermission]
    /// Routes for the partner or distributor acting on its own account or customers.
    static let partnerOrDistributor: [Route] = [
        getSettings, updateSettings, issueCode, freeze, previewFreeze, unfreeze, batchFreeze, batchUnfreeze, setBudget, removeBudget,
    ]
    static let customerOnly: [Route] = [order, usage]
}
