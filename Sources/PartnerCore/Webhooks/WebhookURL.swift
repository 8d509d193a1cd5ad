import Foundation

/// Which URLs a subscription may name (DESIGN §11): `https` only in production; elsewhere
/// also `http` to this machine (a receiver on loopback while developing). Never credentials
/// in the URL (they would sit in the database and the audit log), never a fragment. In
/// production a literal address on loopback, a private or a link-local network is refused
/// too, so a subscription cannot make the server post into its own network. (A name that
/// resolves to such an address is not caught here; the README says so.)
public enum WebhookURL {
    static let maximumLength = 2048

    public static func validate(_ text: String?, production: Bool) throws -> URL {
        guard let text, !text.isEmpty else { throw PartnerError.validation("url is required") }
        guard text.utf8.count <= maximumLength, let components = URLComponents(string: text), let url = components.url,
            let scheme = components.scheme?.lowercased(), let host = components.host?.lowercased(), !host.isEmpty
        else {
            throw PartnerError.validation("url must be an absolute http(s) URL of at most \(maximumLength) characters")
        }
        guard components.user == nil, components.password == nil else {
            throw PartnerError.validation("url must not carry a user name or password; the signature authenticates us")
        }
        guard components.fragment == nil else { throw PartnerError.validation("url must not have a fragment") }
        let loopback = isLoopback(host)
        switch scheme {
        case "https":
            if production, loopback || isPrivateAddress(host) {
                throw PartnerError.validation("url must not point at a loopback, private or link-local address in production")
            }
        case "http":
            guard !production else { throw PartnerError.validation("url must be https in production") }
            guard loopback else { throw PartnerError.validation("url must be https (http only to localhost, outside production)") }
        default:
            throw PartnerError.validation("url must be https")
        }
        return url
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host.hasSuffix(".localhost") || host == "[::1]" || host == "::1"
            || (ipv4(host).map { $0[0] == 127 } ?? false)
    }

    /// 10/8, 172.16/12, 192.168/16, 169.254/16, 0/8, IPv6 unique-local and link-local.
    static func isPrivateAddress(_ host: String) -> Bool {
        if let octets = ipv4(host) {
            return octets[0] == 10 || octets[0] == 0 || (octets[0] == 172 && (16...31).contains(octets[1]))
                || (octets[0] == 192 && octets[1] == 168) || (octets[0] == 169 && octets[1] == 254)
        }
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard bare.contains(":") else { return false }
        return bare.hasPrefix("fc") || bare.hasPrefix("fd") || bare.hasPrefix("fe80") || bare == "::" || bare.hasPrefix("::ffff:")
    }

    private static func ipv4(_ host: String) -> [Int]? {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let octets = parts.compactMap { Int($0) }.filter { (0...255).contains($0) }
        return octets.count == 4 ? octets : nil
    }
}
