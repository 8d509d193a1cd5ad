import Foundation
import Postgres
import Synchronization

/// A claimed `Idempotency-Key`, carried in the request's `ChangeContext` so that the work's
/// own transaction stores the answer (see `Idempotency` for the protocol).
///
/// Services call `ChangeContext.recordAnswer` as the last statement of the transaction whose
/// commit is the work; the HTTP layer then sends exactly the bytes stored. A service that
/// records nothing (a refusal, a read-only step) leaves the answer to `complete`.
public final class IdempotentClaim: Sendable {
    let client: PostgresClient
    public let tenantID: UUID
    let principal: Principal
    let key: String
    let token: UUID
    /// How long the claim is presumed alive without an answer; `keepAlive` renews it.
    let leaseSeconds: Double
    /// A batch whose earlier claim already checked and used up its verification code.
    public let codeVerified: Bool
    /// Turns a service's answer into the status and body the API sends (the HTTP layer's encoder).
    let render: @Sendable (any Encodable & Sendable) throws -> StoredAnswer
    private let recorded = Mutex<StoredAnswer?>(nil)
    private let transient = Mutex(false)

    init(
        client: PostgresClient, tenantID: UUID, principal: Principal, key: String, token: UUID, leaseSeconds: Double,
        codeVerified: Bool, render: @escaping @Sendable (any Encodable & Sendable) throws -> StoredAnswer
    ) {
        self.client = client
        self.tenantID = tenantID
        self.principal = principal
        self.key = key
        self.token = token
        self.leaseSeconds = leaseSeconds
        self.codeVerified = codeVerified
        self.render = render
    }

    /// The answer the work's transaction stored, once it has.
    public var recordedAnswer: StoredAnswer? { recorded.withLock { $0 } }

    /// A part of the answer failed on our side (a batch's customer met an unavailable
    /// database): the answer is sent but not kept, and the claim is given back.
    public var hasTransientOutcome: Bool { transient.withLock { $0 } }

    func noteTransientOutcome() { transient.withLock { $0 = true } }

    static let renewSQL = """
        UPDATE idempotency_keys SET lease_until = now() + make_interval(secs => $6)
        WHERE tenant_id = $1 AND principal_kind = $2 AND principal_id = $3 AND key = $4 AND claim_token = $5
          AND status_code IS NULL
        """

    /// Renews the lease every third of its length while `work` runs, so a request that is
    /// alive but slow (a batch of large freezes) is not taken over by its own retry; a
    /// request that died stops renewing, and its claim runs out within one lease.
    public func keepAlive<T: Sendable>(while work: () async throws -> T) async throws -> T {
        let renewal = Task { [client, tenantID, principal, key, token, leaseSeconds] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int64(leaseSeconds * 1000 / 3)))
                if Task.isCancelled { return }
                // A failed renewal is not the request's failure: the record step still checks the token.
                _ = try? await client.query(Self.renewSQL, [tenantID, principal.actorKind, principal.id, key, token, leaseSeconds])
            }
        }
        let result: Result<T, any Error>
        do { result = .success(try await work()) } catch { result = .failure(error) }
        // Waits out a renewal already sent, so it cannot land after the answer's next step
        // (a release that ends the lease).
        renewal.cancel()
        await renewal.value
        return try result.get()
    }

    static let recordSQL = """
        UPDATE idempotency_keys SET status_code = $5, response_body = $6
        WHERE tenant_id = $1 AND principal_kind = $2 AND principal_id = $3 AND key = $4 AND claim_token = $7
          AND status_code IS NULL
        """

    /// Stores the answer inside the work's transaction. When a retry has taken the claim
    /// over (this request outlived its lease), this throws so the work rolls back: only one
    /// of the two commits.
    func record(_ value: any Encodable & Sendable, _ connection: PostgresConnection) throws {
        let answer = try render((value as? any ShownOnce)?.storedForm ?? value)
        let stored = try connection.execute(Self.recordSQL, [
            tenantID, principal.actorKind, principal.id, key, answer.status, answer.body, token,
        ])
        guard stored == 1 else { throw Self.supersededError }
        recorded.withLock { $0 = answer }
    }

    static let supersededError = PartnerError(
        .rateLimited, "a retry with this Idempotency-Key took the request over; send it again for the stored answer")

    /// Stores a refusal (no work was done) after the fact. When an answer is stored already
    /// (a committed work whose acknowledgement was lost, or another request's), that one is
    /// returned and must be sent instead.
    public func complete(_ answer: StoredAnswer) async throws -> StoredAnswer {
        let stored = try await client.query(Self.recordSQL, [
            tenantID, principal.actorKind, principal.id, key, answer.status, answer.body, token,
        ]).affectedRows
        if stored == 1 { return answer }
        return try await storedAnswer() ?? answer
    }

    /// Gives the claim back after a transient failure, unless the work committed its answer:
    /// its lease ends now, so the next request with the key takes it over at once. The record
    /// stays, with what it knows (the batch's used-up verification code, the body it is for).
    /// Returns the stored answer when there is one: the failure hid a commit.
    public func release() async throws -> StoredAnswer? {
        try await client.query("""
            UPDATE idempotency_keys SET lease_until = '-infinity'
            WHERE tenant_id = $1 AND principal_kind = $2 AND principal_id = $3 AND key = $4 AND claim_token = $5
              AND status_code IS NULL
            """, [tenantID, principal.actorKind, principal.id, key, token])
        return try await storedAnswer()
    }

    private func storedAnswer() async throws -> StoredAnswer? {
        let rows = try await client.query("""
            SELECT status_code, response_body FROM idempotency_keys
            WHERE tenant_id = $1 AND principal_kind = $2 AND principal_id = $3 AND key = $4 AND status_code IS NOT NULL
            """, [tenantID, principal.actorKind, principal.id, key])
        guard let row = rows.first else { return nil }
        return StoredAnswer(status: try row.decode(0), body: try row.decode(1, as: String?.self) ?? "")
    }

    // MARK: Batches

    /// The outcome a batch stored for `customerID` under this key, if that customer's change
    /// committed before the request died.
    func batchOutcome<Outcome: Decodable>(_ customerID: CustomerID, as: Outcome.Type, _ connection: PostgresConnection) throws -> Outcome? {
        let rows = try connection.query("""
            SELECT outcome FROM idempotency_batch_items
            WHERE tenant_id = $1 AND principal_kind = $2 AND principal_id = $3 AND key = $4
            """, [customerID, principal.actorKind, principal.id, key])
        guard let row = rows.first else { return nil }
        return try JSONDecoder().decode(Outcome.self, from: Data(try row.decode(0, as: String.self).utf8))
    }

    /// Stores one customer's outcome in that customer's transaction.
    func recordBatchOutcome<Outcome: Encodable>(_ customerID: CustomerID, _ outcome: Outcome, _ connection: PostgresConnection) throws {
        let text = String(decoding: try JSONEncoder().encode(outcome), as: UTF8.self)
        try connection.execute("""
            INSERT INTO idempotency_batch_items (tenant_id, principal_kind, principal_id, key, outcome) VALUES ($1, $2, $3, $4, $5)
            """, [customerID, principal.actorKind, principal.id, key, text])
    }

    /// Notes, in the transaction that used up the batch's verification code, that it did.
    func markCodeVerified(_ connection: PostgresConnection) throws {
        try connection.execute("""
            UPDATE idempotency_keys SET code_verified = true
            WHERE tenant_id = $1 AND principal_kind = $2 AND principal_id = $3 AND key = $4 AND claim_token = $5
            """, [tenantID, principal.actorKind, principal.id, key, token])
    }
}

/// An answer carrying a secret shown once (a new API key's token): the stored answer, which
/// a retry with the same `Idempotency-Key` gets, is `storedForm`, without the secret; the
/// first answer is the value itself.
public protocol ShownOnce: Encodable, Sendable {
    var storedForm: any Encodable & Sendable { get }
}

extension ChangeContext {
    /// Stores `value` as the idempotent request's answer in the work's transaction (its last
    /// statement); without an `Idempotency-Key` this does nothing.
    func recordAnswer(_ value: any Encodable & Sendable, _ connection: PostgresConnection) throws {
        try idempotency?.record(value, connection)
    }
}

extension PostgresClient {
    /// A write transaction in the caller's tenant whose result is the request's answer: with
    /// an `Idempotency-Key` the answer is stored as the transaction's last statement, so it
    /// commits with the work.
    func withTransaction<T: Encodable & Sendable>(
        answering context: ChangeContext, _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await withTransaction(in: Access.tenant(of: context.principal)) { connection in
            let value = try body(connection)
            try context.recordAnswer(value, connection)
            return value
        }
    }
}
