import Crypto
import Foundation

/// How a receiver knows a webhook came from us (DESIGN §11): `PartnerCenter-Signature:
/// t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, Stripe's scheme. The
/// timestamp is inside the signed text, so a receiver that refuses old timestamps refuses
/// replays; `v1` names the scheme, so a second one can be added beside it.
public enum WebhookSignature {
    public static let header = "PartnerCenter-Signature"
    public static let eventIDHeader = "PartnerCenter-Event-Id"

    /// The header's value for `body` sent at `timestamp` (unix seconds).
    public static func sign(body: [UInt8], secret: String, timestamp: Int) -> String {
        "t=\(timestamp),v1=\(hex(mac(body: body, secret: secret, timestamp: timestamp)))"
    }

    /// What a receiver does: whether `header` signs `body` with `secret`, at most
    /// `tolerance` seconds from `now`. Compared in constant time.
    public static func verify(header: String, body: [UInt8], secret: String, now: Date = Date(), tolerance: Double = 300) -> Bool {
        var timestamp: Int?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int(pair[1]) }
            if pair[0] == "v1" { signatures.append(pair[1]) }
        }
        guard let timestamp, abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { return false }
        let expected = Data(hex(mac(body: body, secret: secret, timestamp: timestamp)).utf8)
        return signatures.contains { Secrets.constantTimeEqual(Data($0.utf8), expected) }
    }

    /// A subscription's secret: `whsec_` and 32 random bytes (256 bits) in base64url.
    static func newSecret() -> String {
        "whsec_" + String(Secrets.newAPIToken().dropFirst(3))
    }

    private static func mac(body: [UInt8], secret: String, timestamp: Int) -> HashedAuthenticationCode<SHA256> {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: Data(secret.utf8)))
        hmac.update(data: Data("\(timestamp).".utf8))
        hmac.update(data: body)
        return hmac.finalize()
    }

    private static func hex(_ code: HashedAuthenticationCode<SHA256>) -> String {
        code.map { String(format: "%02x", $0) }.joined()
    }
}
