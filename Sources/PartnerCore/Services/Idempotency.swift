import Foundation
import Postgres

/// `Idempotency-Key` for mutating requests (DESIGN §3, invariant 9): the first answer is
/// stored and replayed for the same key and body; the same key with another body is
/// `idempotency_key_reused`.
///
/// The protocol, in three steps:
/// 1. `claim` inserts a record without an answer, holding a random token and a lease
///    (`claim_idempotency_key`, schema 0011). A second request with the key waits for the
///    answer; once the lease has run out with no answer, the claim's request is presumed
///    dead and the waiter takes the claim over under its own token.
/// 2. The work's own transaction stores the answer (`IdempotentClaim.record`) as its last
///    statement, only while its token still holds the claim: the answer commits with the
///    work or not at all, so a retry after any crash finds either the answer or no work.
/// 3. A refusal (a 4xx, no work done) is stored afterwards by `complete`; a transient failure
///    (503) or a bug (500) gives the claim back (`release`) so a retry can do the work.
public struct Idempotency: Sendable {
    public enum Claim: Sendable {
        /// Do the work with this claim in the request's `ChangeContext`.
        case proceed(IdempotentClaim)
        /// The stored answer to send again.
        case replay(StoredAnswer)
    }

    let client: PostgresClient
    /// How long a second request waits for the first one's answer.
    let waitLimit: Duration
    /// How long a claim is presumed alive without an answer.
    let leaseSeconds: Double

    public init(client: PostgresClient, waitLimit: Duration = .seconds(10), leaseSeconds: Double = 10) {
        self.client = client
        self.waitLimit = waitLimit
        self.leaseSeconds = leaseSeconds
    }

    static let claimSQL = "SELECT * FROM claim_idempotency_key($1, $2, $3, $4, $5, $6, $7)"

    /// Claims `key` for `principal` within `tenantID` (the customer the request names, else
    /// the principal itself), waiting up to `waitLimit` for a concurrent request's answer.
    public func claim(
        _ principal: Principal, tenantID: UUID, key: String, requestHash: Data,
        render: @escaping @Sendable (any Encodable & Sendable) throws -> StoredAnswer
    ) async throws -> Claim {
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) else {
            throw PartnerError.validation("Idempotency-Key must be 1 to 255 visible ASCII characters")
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: waitLimit)
        let token = UUID.random()
        while true {
            guard let row = try await client.query(
                Self.claimSQL, [tenantID, principal.actorKind, principal.id, key, requestHash, token, leaseSeconds]
            ).first else { continue }  // the record was purged between two statements: claim again
            guard try row.decode(1, as: Data.self) == requestHash else {
                throw PartnerError(.idempotencyKeyReused, "this Idempotency-Key was used for a different request")
            }
            if try row.decode(0, as: Bool.self) {
                return .proceed(IdempotentClaim(
                    client: client, tenantID: tenantID, principal: principal, key: key, token: token,
                    leaseSeconds: leaseSeconds, codeVerified: try row.decode(4), render: render))
            }
            if let status = try row.decode(2, as: Int?.self) {
                return .replay(StoredAnswer(status: status, body: try row.decode(3, as: String?.self) ?? ""))
            }
            guard clock.now < deadline else {
                throw PartnerError(.rateLimited, "a request with this Idempotency-Key is still in progress")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Deletes records (and batch outcomes) older than `maximumAge`: run by the retention sweep.
    /// Each table is read before it is written: on Citus a delete over every shard commits in
    /// two phases even when it deletes nothing, so it only runs when there is something old.
    public static func purge(_ client: PostgresClient, olderThanSeconds maximumAge: Double = 86_400) async throws -> Int {
        var purged = 0
        for table in ["idempotency_keys", "idempotency_batch_items"] {
            let old = "\(table) WHERE created_at < now() - make_interval(secs => $1)"
            guard try await client.query("SELECT EXISTS (SELECT 1 FROM \(old))", [maximumAge]).single().decode(0, as: Bool.self)
            else { continue }
            purged += try await client.query("DELETE FROM \(old)", [maximumAge]).affectedRows
        }
        return purged
    }
}

/// An answer as it was sent: status and JSON body.
public struct StoredAnswer: Sendable, Equatable {
    public var status: Int
    public var body: String

    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }
}
