import Crypto
import Foundation
import Postgres
import Synchronization

/// The key verification codes are stored under (HMAC-SHA-256).
///
/// Configured from `VERIFICATION_CODE_SECRET` (at least 32 bytes of text), it never touches
/// the database, so a copy of the database alone reveals no code. Without it, the key is the
/// 32 random bytes schema 0011 generated into `server_secrets` when the database was set
/// up, the same for every server of the installation; the README says why production
/// should set the variable.
public final class CodeSecret: Sendable {
    static let name = "verification_code_hmac"
    /// The key's bytes once known (bytes, not `SymmetricKey`, so the lock holds a Sendable value).
    private let cached: Mutex<Data?>

    /// `configured` is the environment's secret, or nil to use the database's.
    public init(configured: String?) {
        cached = Mutex(configured.map { Data($0.utf8) })
    }

    /// Whether `text` is long enough to be the configured secret.
    public static func isAcceptable(_ text: String) -> Bool { text.utf8.count >= 32 }

    func key(_ connection: PostgresConnection) throws -> SymmetricKey {
        if let bytes = cached.withLock({ $0 }) { return SymmetricKey(data: bytes) }
        let stored: Data = try connection.query("SELECT value FROM server_secrets WHERE name = $1", [Self.name]).single().decode(0)
        cached.withLock { $0 = stored }
        return SymmetricKey(data: stored)
    }
}
