import Foundation

/// A page of a list: `next_cursor` is opaque to clients (base64url of the position).
public struct Page<Item: Sendable & Codable & Equatable>: Sendable, Codable, Equatable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// `next_cursor` is always written, `null` on the last page (DESIGN §4): the synthesized
    /// encoder would leave a nil optional out, and clients test for `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

/// How much of a list to read. Built only through `init(limit:cursor:)`, which validates.
public struct PageRequest: Sendable {
    public static let maximumLimit = 200
    public static let defaultLimit = 50

    public let limit: Int
    /// The decoded cursor text (a position the service wrote), `nil` for the first page.
    public let position: String?

    public init(limit: Int? = nil, cursor: String? = nil) throws {
        let limit = limit ?? Self.defaultLimit
        guard (1...Self.maximumLimit).contains(limit) else {
            throw PartnerError.validation("limit must be between 1 and \(Self.maximumLimit)")
        }
        self.limit = limit
        if let cursor, !cursor.isEmpty {
            guard let position = Cursor.decode(cursor) else {
                throw PartnerError.validation("cursor is not one this service returned")
            }
            self.position = position
        } else {
            self.position = nil
        }
    }

    /// Splits rows fetched with `limit + 1` into the page and the cursor of the next one.
    func page<Item>(_ rows: [Item], position: (Item) -> String) -> Page<Item> {
        guard rows.count > limit else { return Page(items: rows, nextCursor: nil) }
        let items = Array(rows.prefix(limit))
        return Page(items: items, nextCursor: items.last.map { Cursor.encode(position($0)) })
    }
}

/// Opaque cursors: a version tag and the position, base64url-encoded.
enum Cursor {
    static func encode(_ position: String) -> String {
        Data(("v1:" + position).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ cursor: String) -> String? {
        guard cursor.count <= 200 else { return nil }
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
            text.hasPrefix("v1:")
        else { return nil }
        return String(text.dropFirst(3))
    }
}
