import Foundation
import HTTPTypes
import NIOCore
import PartnerCore
import Testing

/// Invariant 8: bad input gets a clear 4xx error with a code and changes nothing; no input
/// gives a 5xx. One row per kind of malformation, each against a fresh world.
@Suite("Malformed input")
struct MalformedInputTests {
    enum Role: String, Sendable { case `operator`, distributor, partner, customer }
    enum Payload: Sendable {
        case none
        case text(String)
        case bytes([UInt8])
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let what: String
        let role: Role
        let method: HTTPRequest.Method
        let path: String
        let payload: Payload
        let status: Int
        let code: String

        init(_ what: String, _ role: Role, _ method: HTTPRequest.Method, _ path: String, _ payload: Payload = .none,
             _ status: Int = 422, _ code: String = "validation_failed") {
            self.what = what
            self.role = role
            self.method = method
            self.path = path
            self.payload = payload
            self.status = status
            self.code = code
        }

        var testDescription: String { what }
    }

    static let freeze = "/v1/customers/{customer_id}/freeze"
    static let orders = "/v1/customers/{customer_id}/orders"
    static let usage = "/v1/customers/{customer_id}/resources/{resource_id}/usage"
    static let resources = "/v1/customers/{customer_id}/resources"
    static let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)

    static let cases: [Case] = [
        // Not JSON at all.
        Case("truncated JSON", .operator, .post, "/v1/distributors", .text(#"{"name":"#)),
        Case("JSON with a syntax error", .partner, .post, freeze, .text(#"{"reason" "x"}"#)),
        Case("not UTF-8", .operator, .post, "/v1/distributors", .bytes([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D])),
        Case("a bare word", .partner, .patch, "/v1/settings", .text("true")),
        Case("an array instead of an object", .operator, .post, "/v1/partners", .text("[]")),
        Case("a string instead of an object", .customer, .post, orders, .text(#""buy""#)),
        Case("null instead of an object", .partner, .post, "/v1/verification-codes", .text("null")),
        Case("nesting 5000 deep", .customer, .post, orders, .text(#"{"action":"buy","resource":{"type":"a","billing_mode":"pay_per_use","spec":{"x":\#(deep)}}}"#)),
        Case("a body on PUT where none is expected, not JSON", .distributor, .put, "/v1/partners/{partner_id}/freeze-permission", .text("grant please")),
        // Wrong types.
        Case("name is a number", .operator, .post, "/v1/distributors", .text(#"{"name":5}"#)),
        Case("name is null", .operator, .post, "/v1/distributors", .text(#"{"name":null}"#)),
        Case("retention is a string", .operator, .post, "/v1/distributors", .text(#"{"name":"D","retention_seconds":"15d"}"#)),
        Case("retention is fractional", .operator, .patch, "/v1/distributors/{distributor_id}", .text(#"{"retention_seconds":1.5}"#)),
        Case("customer_ids is an object", .partner, .post, "/v1/customers/freeze", .text(#"{"customer_ids":{},"reason":"r"}"#)),
        Case("reason is a number", .partner, .post, freeze, .text(#"{"reason":42,"agreement_accepted":true}"#)),
        Case("agreement_accepted is a string", .partner, .post, freeze, .text(#"{"reason":"r","agreement_accepted":"true"}"#)),
        Case("verification_code is a number", .partner, .post, freeze, .text(#"{"reason":"r","agreement_accepted":true,"verification_code":123456}"#)),
        Case("quantity is a string", .customer, .post, usage, .text(#"{"quantity":"1"}"#)),
        Case("count is fractional", .operator, .post, resources, .text(#"{"type":"a","billing_mode":"prepaid","count":1.5}"#)),
        Case("resource is a string", .customer, .post, orders, .text(#"{"action":"buy","resource":"vm"}"#)),
        Case("term_months is a string", .customer, .post, orders, .text(#"{"action":"renew","resource_id":"{resource_id}","term_months":"1"}"#)),
        Case("verification_code_required is a number", .partner, .patch, "/v1/settings", .text(#"{"verification_code_required":1}"#)),
        // Unknown enum values.
        Case("unknown billing mode", .operator, .post, resources, .text(#"{"type":"a","billing_mode":"monthly"}"#)),
        Case("unknown tenant status", .operator, .patch, "/v1/partners/{partner_id}", .text(#"{"status":"deleted"}"#)),
        Case("unknown principal kind", .operator, .post, "/v1/api-keys", .text(#"{"principal_kind":"admin","principal_id":"{customer_id}"}"#)),
        Case("unknown purpose", .partner, .post, "/v1/verification-codes", .text(#"{"purpose":"delete"}"#)),
        Case("unknown restriction type", .partner, .post, freeze, .text(#"{"type":"all","reason":"r","agreement_accepted":true}"#)),
        Case("unknown order action", .customer, .post, orders, .text(#"{"action":"steal"}"#)),
        Case("enum value in the wrong case", .partner, .post, freeze, .text(#"{"type":"PURCHASE","reason":"r"}"#)),
        // Bad UUIDs in bodies.
        Case("distributor_id is not a UUID", .operator, .post, "/v1/partners", .text(#"{"distributor_id":"d-1","name":"P"}"#)),
        Case("partner_id is empty", .operator, .post, "/v1/customers", .text(#"{"partner_id":"","name":"C"}"#)),
        Case("principal_id is a number", .operator, .post, "/v1/api-keys", .text(#"{"principal_kind":"customer","principal_id":123}"#)),
        Case("customer_ids holds a non-UUID", .partner, .post, "/v1/customers/unfreeze", .text(#"{"customer_ids":["zz"],"reason":"r"}"#)),
        Case("resource_id is not a UUID", .customer, .post, orders, .text(#"{"action":"change","resource_id":"nope","spec":{}}"#)),
        // Bad UUIDs in paths.
        Case("customer path id is not a UUID", .partner, .get, "/v1/customers/not-a-uuid", .none, 404, "not_found"),
        Case("customer path id has a suffix", .partner, .post, "/v1/customers/{customer_id}x/freeze",
             .text(#"{"reason":"r","agreement_accepted":true}"#), 404, "not_found"),
        Case("partner path id is a number", .distributor, .put, "/v1/partners/42/freeze-permission", .none, 404, "not_found"),
        Case("resource path id is not a UUID", .customer, .post, "/v1/customers/{customer_id}/resources/..%2F/usage",
             .text(#"{"quantity":1}"#), 404, "not_found"),
        Case("distributor path id is 200 characters", .operator, .patch, "/v1/distributors/\(String(repeating: "a", count: 200))",
             .text(#"{"status":"active"}"#), 404, "not_found"),
        // Bad query values.
        Case("limit is a word", .partner, .get, "/v1/customers?limit=ten"),
        Case("limit is zero", .partner, .get, "/v1/customers?limit=0"),
        Case("limit above 200", .distributor, .get, "/v1/partners?limit=201"),
        Case("limit is negative", .partner, .get, "/v1/audit-events?limit=-1"),
        Case("limit overflows", .partner, .get, "/v1/events?limit=99999999999999999999999"),
        Case("limit is fractional", .partner, .get, "/v1/customers/{customer_id}/resources?limit=1.5"),
        Case("cursor is not base64", .partner, .get, "/v1/customers?cursor=***"),
        Case("cursor is foreign base64", .distributor, .get, "/v1/partners?cursor=aGVsbG8"),
        Case("cursor is 300 characters", .partner, .get, "/v1/audit-events?cursor=\(String(repeating: "A", count: 300))"),
        Case("cursor of another list", .partner, .get, "/v1/events?after=djE6bm90LWEtdXVpZA"),
        Case("status is unknown", .partner, .get, "/v1/customers?status=FROZEN"),
        Case("state is unknown", .customer, .get, "/v1/customers/{customer_id}/resources?state=deleted"),
        Case("customer_id filter is not a UUID", .distributor, .get, "/v1/audit-events?customer_id=all"),
        // Empty bodies where one is required.
        Case("empty body to create a distributor", .operator, .post, "/v1/distributors", .text("")),
        Case("empty body to change settings", .partner, .patch, "/v1/settings", .text("")),
        Case("empty body to freeze", .partner, .post, freeze, .text(""), 422, "reason_required"),
        Case("empty body to ask for a code", .distributor, .post, "/v1/verification-codes", .text("")),
        Case("empty body to order", .customer, .post, orders, .text("")),
        Case("empty body to report usage", .customer, .post, usage, .text("")),
        Case("empty body to batch", .partner, .post, "/v1/customers/freeze", .text("")),
        Case("empty body to provision resources", .operator, .post, resources, .text("")),
        // Huge numbers.
        Case("retention of 1e30 seconds", .operator, .post, "/v1/distributors", .text(#"{"name":"D","retention_seconds":1e30}"#)),
        Case("retention beyond Int64", .operator, .patch, "/v1/partners/{partner_id}", .text(#"{"retention_seconds":99999999999999999999}"#)),
        Case("count of 1e20", .operator, .post, resources, .text(#"{"type":"a","billing_mode":"pay_per_use","count":1e20}"#)),
        Case("count of two billion", .operator, .post, resources, .text(#"{"type":"a","billing_mode":"pay_per_use","count":2147483648}"#)),
        Case("data_bytes beyond Int64", .operator, .post, resources, .text(#"{"type":"a","billing_mode":"pay_per_use","data_bytes":9223372036854775808}"#)),
        Case("term_months of 1e100", .customer, .post, orders, .text(#"{"action":"buy","resource":{"type":"a","billing_mode":"prepaid","term_months":1e100}}"#)),
        Case("term_months of Int64.max", .customer, .post, orders, .text(#"{"action":"renew","resource_id":"{resource_id}","term_months":9223372036854775807}"#)),
        Case("quantity of 1e308", .customer, .post, usage, .text(#"{"quantity":1e308}"#)),
        Case("quantity beyond Double", .customer, .post, usage, .text(#"{"quantity":1e400}"#)),
        Case("expires_at in year 99999", .operator, .post, resources, .text(#"{"type":"a","billing_mode":"prepaid","expires_at":"99999-01-01T00:00:00Z"}"#)),
        // Text the database cannot store.
        Case("a NUL in a name", .operator, .post, "/v1/distributors", .text(#"{"name":"a\u0000b"}"#)),
        Case("a NUL in a reason", .partner, .post, freeze, .text(#"{"reason":"a\u0000b","agreement_accepted":true}"#)),
        Case("a NUL in a spec", .customer, .post, orders, .text(#"{"action":"buy","resource":{"type":"a","billing_mode":"pay_per_use","spec":{"k":"a\u0000b"}}}"#)),
        Case("a NUL in a spec key", .customer, .post, orders, .text(#"{"action":"change","resource_id":"{resource_id}","spec":{"a\u0000":1}}"#)),
        Case("a reason of 200 flags (400 code points)", .partner, .post, freeze,
             .text(#"{"reason":"\#(String(repeating: "\u{1F1FA}\u{1F1F8}", count: 200))","agreement_accepted":true}"#)),
        Case("a name of 150 flags (300 code points)", .operator, .post, "/v1/distributors",
             .text(#"{"name":"\#(String(repeating: "\u{1F1FA}\u{1F1F8}", count: 150))"}"#)),
        Case("a spec nested 40 deep", .customer, .post, orders,
             .text(#"{"action":"buy","resource":{"type":"a","billing_mode":"pay_per_use","spec":{"x":\#(String(repeating: "[", count: 40) + String(repeating: "]", count: 40))}}}"#)),
        Case("a spec nested 508 deep, near the JSON encoder's limit", .customer, .post, orders,
             .text(#"{"action":"buy","resource":{"type":"a","billing_mode":"pay_per_use","spec":{"x":\#(String(repeating: "[", count: 507) + String(repeating: "]", count: 507))}}}"#)),
        Case("expires_at in year 1", .operator, .post, resources, .text(#"{"type":"a","billing_mode":"prepaid","expires_at":"0001-01-01T00:00:00Z"}"#)),
        Case("expires_at in year 0", .operator, .post, resources, .text(#"{"type":"a","billing_mode":"prepaid","expires_at":"0000-01-01T00:00:00Z"}"#)),
        Case("quantity below the recorded precision", .customer, .post, usage, .text(#"{"quantity":0.0000001}"#)),
        Case("quantity of the smallest double", .customer, .post, usage, .text(#"{"quantity":5e-324}"#)),
        // Headers.
        Case("an Idempotency-Key with spaces", .operator, .post, "/v1/distributors?idempotency", .text(#"{"name":"D"}"#)),
    ]

    @Test(arguments: cases)
    func malformedInputIsA4xxWithACodeAndChangesNothing(_ input: Case) async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let ids = ["distributor_id": tenant.distributor.id.uuidString, "partner_id": tenant.partner.id.uuidString,
                       "customer_id": tenant.customer.id.uuidString, "resource_id": tenant.prepaidIDs[0].uuidString]
            let token: String
            switch input.role {
            case .operator: token = api.operatorToken
            case .distributor: token = tenant.distributor.token
            case .partner: token = tenant.partner.token
            case .customer: token = tenant.customer.token
            }
            var path = Route.fill(input.path, ids)
            var headers: HTTPFields = [.contentType: "application/json"]
            if path.hasSuffix("?idempotency") {
                path = String(path.dropLast("?idempotency".count))
                headers[.init("Idempotency-Key")!] = "two words"
            }
            var body: ByteBuffer? = nil
            switch input.payload {
            case .none: break
            case .text(let text): body = ByteBuffer(string: Route.fill(text, ids))
            case .bytes(let bytes): body = ByteBuffer(bytes: bytes)
            }
            let before = try await api.snapshot()
            let result = try await api.call(input.method, path, as: token, body: body, headers: headers)
            #expect((400..<500).contains(result.code), "\(result)")
            #expect(PartnerError.Code(rawValue: result.errorCode ?? "") != nil, "\(result)")
            expectError(result, input.status, input.code)
            #expect(try await api.snapshot() == before)
        }
    }
}
