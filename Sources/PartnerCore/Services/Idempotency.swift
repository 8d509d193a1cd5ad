import Foundation
import Postgres

/// `Idempotency-Key` for mutating requests: the first answer is stored and replayed for the
/// same key and body; the same key with another body is `idempotency_key_reused`.
///
/// A key is claimed before the work runs (a row without an answer), so two concurrent
/// requests with one key do the work once: the second waits for the first's answer.
public struct Idempotency: Sendable {
    public enum Claim: Sendable, Equatable {
        /// Do the work, then `complete` (or `release` when the answer must not be stored).
        case proceed
        /// The stored answer to send again.
        case replay(status: Int, body: String)
    }

    let client: PostgresClient
    /// How long a second request waits for the first one's answer.
    let waitLimit: Duration

    public init(client: PostgresClient, waitLimit: Duration = .seconds(10)) {
        self.client = client
        self.waitLimit = waitLimit
    }

    public func claim(_ principal: Principal, key: String, requestHash: Data) async throws -> Claim {
        guard (1...255).contains(key.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw PartnerError.validation("Idempotency-Key must be 1 to 255 visible ASCII characters")
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: waitLimit)
        while true {
            let rows = try await client.query("""
                WITH claimed AS (
                    INSERT INTO idempotency_keys (principal_kind, principal_id, key, request_hash)
                    VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1
                )
                SELECT true, NULL::bytea, NULL::integer, NULL::text FROM claimed
                UNION ALL
                SELECT false, request_hash, status_code, response_body FROM idempotency_keys
                WHERE principal_kind = $1 AND principal_id = $2 AND key = $3 AND NOT EXISTS (SELECT 1 FROM claimed)
                """, [principal.actorKind, principal.id, key, requestHash])
            guard let row = rows.first else { continue }  // the other claim vanished: try again
            if try row.decode(0, as: Bool.self) { return .proceed }
            guard try row.decode(1, as: Data.self) == requestHash else {
                throw PartnerError(.idempotencyKeyReused, "this Idempotency-Key was used for a different request")
            }
            if let status = try row.decode(2, as: Int?.self) {
                return .replay(status: status, body: try row.decode(3, as: String?.self) ?? "")
            }
            guard clock.now < deadline else {
                throw PartnerError(.rateLimited, "a request with this Idempotency-Key is still in progress")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    public func complete(_ principal: Principal, key: String, status: Int, body: String) async throws {
        try await client.query("""
            UPDATE idempotency_keys SET status_code = $4, response_body = $5
            WHERE principal_kind = $1 AND principal_id = $2 AND key = $3
            """, [principal.actorKind, principal.id, key, status, body])
    }

    /// Gives the key up (the request failed in a way worth retrying, e.g. the database was down).
    public func release(_ principal: Principal, key: String) async throws {
        try await client.query(
            "DELETE FROM idempotency_keys WHERE principal_kind = $1 AND principal_id = $2 AND key = $3 AND status_code IS NULL",
            [principal.actorKind, principal.id, key])
    }
}
