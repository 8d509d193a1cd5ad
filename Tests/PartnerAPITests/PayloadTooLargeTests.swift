import Foundation
import NIOCore
import Testing

/// Request bodies are read up to 1 MiB; beyond that the answer is 413 `payload_too_large`
/// and nothing is done.
@Suite("Payload too large")
struct PayloadTooLargeTests {
    @Test func aBodyOverOneMebibyteIs413() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            let padding = String(repeating: "x", count: 1 << 20)
            let before = try await api.snapshot()
            for (path, token) in [
                ("/v1/distributors", api.operatorToken),
                ("/v1/customers/\(tenant.customer.id)/freeze", tenant.partner.token),
                ("/v1/customers/\(tenant.customer.id)/orders", tenant.customer.token),
            ] {
                let result = try await api.call(.post, path, as: token, json: #"{"reason":"\#(padding)","name":"x"}"#)
                expectError(result, 413, "payload_too_large")
            }
            // Not JSON either: the size is what is refused.
            expectError(try await api.call(
                .patch, "/v1/settings", as: tenant.partner.token, body: ByteBuffer(repeating: 0x20, count: (1 << 20) + 1)),
                        413, "payload_too_large")
            #expect(try await api.snapshot() == before)
        }
    }

    @Test func aBodyOfExactlyOneMebibyteIsRead() async throws {
        try await withAPI { (api) async throws in
            let tenant = try await api.world.tenant()
            // 1 MiB of valid JSON: the reason is too long, so the answer is about the content, not the size.
            let prefix = #"{"agreement_accepted":true,"reason":""#
            let suffix = #""}"#
            let reason = String(repeating: "r", count: (1 << 20) - prefix.utf8.count - suffix.utf8.count)
            let result = try await api.call(
                .post, "/v1/customers/\(tenant.customer.id)/freeze", as: tenant.partner.token, json: prefix + reason + suffix)
            expectError(result, 422, "validation_failed")
        }
    }
}
