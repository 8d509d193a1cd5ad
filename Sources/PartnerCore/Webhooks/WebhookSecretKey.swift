import Crypto
import Foundation
import Postgres
import Synchronization

/// The key subscription secrets are sealed under (AES-GCM). The delivery worker must sign
/// with the secret itself, so it cannot be stored as a hash like an API key; it is stored
/// sealed, and opened only to sign.
///
/// Configured from `WEBHOOK_SECRET_KEY` (at least 32 bytes of text, hashed to 256 bits), it
/// never touches the database, so a copy of the database alone opens no secret. Without it,
/// the key is the 32 random bytes schema 0017 generated into `server_secrets`, the same for
/// every server of the installation (as `CodeSecret` does for verification codes).
public final class WebhookSecretKey: Sendable {
    static let name = "webhook_secret_key"
    private let cached: Mutex<Data?>

    /// `configured` is the environment's key text, or nil to use the database's.
    public init(configured: String?) {
        cached = Mutex(configured.map { Data(SHA256.hash(data: Data($0.utf8))) })
    }

    /// Whether `text` is long enough to be the configured key.
    public static func isAcceptable(_ text: String) -> Bool { text.utf8.count >= 32 }

    func key(_ connection: PostgresConnection) throws -> SymmetricKey {
        if let bytes = cached.withLock({ $0 }) { return SymmetricKey(data: bytes) }
        let stored: Data = try connection.query("SELECT value FROM server_secrets WHERE name = $1", [Self.name]).single().decode(0)
        let bytes = Data(stored.prefix(32))
        cached.withLock { $0 = bytes }
        return SymmetricKey(data: bytes)
    }

    /// The secret sealed (nonce, ciphertext and tag in one value), bound to its
    /// subscription: a sealed secret copied onto another subscription does not open.
    func seal(_ secret: String, subscription: UUID, _ connection: PostgresConnection) throws -> Data {
        let box = try AES.GCM.seal(Data(secret.utf8), using: try key(connection), authenticating: Data(subscription.lowercasedString.utf8))
        guard let combined = box.combined else { throw PartnerError.internal }
        return combined
    }

    func open(_ sealed: Data, subscription: UUID, _ connection: PostgresConnection) throws -> String {
        let box = try AES.GCM.SealedBox(combined: sealed)
        let bytes = try AES.GCM.open(box, using: try key(connection), authenticating: Data(subscription.lowercasedString.utf8))
        return String(decoding: bytes, as: UTF8.self)
    }
}
