import Crypto
import Foundation
import Postgres

public enum VerificationPurpose: String, Sendable, Codable, CaseIterable {
    /// `settings`: turning the verification-code setting off; `budget`: setting or removing a
    /// customer's budget.
    case freeze, unfreeze, settings, budget
}

/// The answer to a code request; `code` is set only with `response` delivery.
public struct IssuedVerificationCode: Sendable, Codable, Equatable {
    public var id: UUID
    public var expiresAt: Date
    public var code: String?
}

/// Verification codes (DESIGN §2): six digits, valid five minutes, single use, the newest
/// replacing older ones, locked after five wrong tries, compared in constant time.
///
/// A code is stored as HMAC-SHA-256 under the server's code secret (`CodeSecret`), so
/// reading the table alone does not reveal it (six digits under plain SHA-256 fall to a
/// million guesses). A caller may ask for `issuesPerHour` codes an hour: with five tries a
/// code, at most `5 × issuesPerHour` guesses an hour against a space of 10⁶.
public struct VerificationCodes: Sendable {
    public static let lifetime: TimeInterval = 300
    public static let maximumAttempts = 5

    let client: PostgresClient
    let delivery: VerificationCodeDelivery
    let secret: CodeSecret
    /// A new code is refused (`rate_limited`) while the current one is younger than this.
    let resendInterval: TimeInterval
    /// Codes a caller may be issued per clock hour.
    let issuesPerHour: Int

    public init(
        client: PostgresClient, delivery: VerificationCodeDelivery, secret: CodeSecret = CodeSecret(configured: nil),
        resendInterval: TimeInterval = 10, issuesPerHour: Int = 10
    ) {
        self.client = client
        self.delivery = delivery
        self.secret = secret
        self.resendInterval = resendInterval
        self.issuesPerHour = issuesPerHour
    }

    static let quotaSQL = """
        INSERT INTO verification_code_quota AS q (principal_kind, principal_id, window_start, issued)
        VALUES ($1, $2, date_trunc('hour', now()), 1)
        ON CONFLICT (principal_kind, principal_id) DO UPDATE
            SET issued = CASE WHEN q.window_start = EXCLUDED.window_start THEN q.issued + 1 ELSE 1 END,
                window_start = EXCLUDED.window_start
        RETURNING issued
        """

    static let issueSQL = """
        INSERT INTO verification_codes (principal_kind, principal_id, purpose, id, code_hash, expires_at)
        VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
        ON CONFLICT (principal_kind, principal_id, purpose) DO UPDATE
            SET id = EXCLUDED.id, code_hash = EXCLUDED.code_hash, created_at = now(),
                expires_at = EXCLUDED.expires_at, failed_attempts = 0, consumed_at = NULL
            WHERE verification_codes.created_at <= now() - make_interval(secs => $7)
               OR verification_codes.consumed_at IS NOT NULL
        RETURNING expires_at
        """

    /// Issues a code for the caller (a distributor or partner) and delivers it.
    public func issue(for principal: Principal, purpose: VerificationPurpose) async throws -> IssuedVerificationCode {
        try principal.requirePartnerOrDistributor("verification codes are for partners and distributors")
        let code = Secrets.newVerificationCode()
        let id = UUID.random()
        let (secret, issuesPerHour, resendInterval) = (self.secret, self.issuesPerHour, self.resendInterval)
        let expiresAt = try await client.withTransaction { connection -> Date in
            let issued: Int = try connection.query(Self.quotaSQL, [principal.actorKind, principal.id]).single().decode(0)
            guard issued <= issuesPerHour else {
                throw PartnerError(.rateLimited, "at most \(issuesPerHour) verification codes an hour; try again later")
            }
            let hash = try Self.hash(code, id: id, key: secret.key(connection))
            let rows = try connection.query(Self.issueSQL, [
                principal.actorKind, principal.id, purpose.rawValue, id, hash, Self.lifetime, resendInterval,
            ])
            guard let row = rows.first else {
                throw PartnerError(.rateLimited, "a code was sent moments ago; wait a few seconds before asking for another")
            }
            return try row.decode(0)
        }
        try await delivery.deliver(code: code, id: id, to: principal, purpose: purpose, expiresAt: expiresAt)
        return IssuedVerificationCode(id: id, expiresAt: expiresAt, code: delivery.returnsCode ? code : nil)
    }

    static func hash(_ code: String, id: UUID, key: SymmetricKey) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data("\(id.lowercasedString):\(code)".utf8), using: key))
    }

    /// Checks and consumes the caller's current code inside the caller's transaction.
    /// Returns the refusal to report, if any; a wrong code's failed attempt is written
    /// either way, so the caller must commit before throwing the refusal.
    func verify(
        _ connection: PostgresConnection, principal: Principal, purpose: VerificationPurpose, code: String?
    ) throws -> PartnerError? {
        let refusal = try check(connection, principal: principal, purpose: purpose, code: code)
        if let refusal { DomainMetrics.verificationFailed(refusal.code) }
        return refusal
    }

    private func check(
        _ connection: PostgresConnection, principal: Principal, purpose: VerificationPurpose, code: String?
    ) throws -> PartnerError? {
        guard let code = code?.trimmingCharacters(in: .whitespaces), !code.isEmpty else {
            return PartnerError(.verificationCodeRequired, "a verification code is required; request one first")
        }
        let rows = try connection.query("""
            SELECT id, code_hash, failed_attempts, consumed_at IS NOT NULL, expires_at <= now()
            FROM verification_codes WHERE principal_kind = $1 AND principal_id = $2 AND purpose = $3
            FOR UPDATE
            """, [principal.actorKind, principal.id, purpose.rawValue])
        guard let row = rows.first else {
            return PartnerError(.verificationCodeInvalid, "no verification code was requested; request one first")
        }
        let failedAttempts: Int = try row.decode(2)
        if failedAttempts >= Self.maximumAttempts {
            return PartnerError(.verificationCodeLocked, "too many wrong codes; request a new one")
        }
        if try row.decode(3, as: Bool.self) || row.decode(4, as: Bool.self) {
            return PartnerError(.verificationCodeInvalid, "the verification code has expired or was already used; request a new one")
        }
        let id: UUID = try row.decode(0)
        let shapeOK = code.count == 6 && code.allSatisfy(\.isASCII) && code.allSatisfy(\.isNumber)
        let matches = Secrets.constantTimeEqual(
            Self.hash(code, id: id, key: try secret.key(connection)), try row.decode(1, as: Data.self))
        guard shapeOK && matches else {
            try connection.execute("""
                UPDATE verification_codes SET failed_attempts = failed_attempts + 1
                WHERE principal_kind = $1 AND principal_id = $2 AND purpose = $3
                """, [principal.actorKind, principal.id, purpose.rawValue])
            return PartnerError(.verificationCodeInvalid, "the verification code is wrong")
        }
        try connection.execute("""
            UPDATE verification_codes SET consumed_at = now()
            WHERE principal_kind = $1 AND principal_id = $2 AND purpose = $3
            """, [principal.actorKind, principal.id, purpose.rawValue])
        return nil
    }
}
