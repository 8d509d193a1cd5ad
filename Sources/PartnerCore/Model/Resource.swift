import Foundation
import Postgres

public enum BillingMode: String, Sendable, Codable, CaseIterable {
    /// Yearly/monthly: paid ahead, never frozen or released.
    case prepaid
    /// Charged by usage: frozen by a `purchase_and_resources` restriction.
    case payPerUse = "pay_per_use"
}

public enum ResourceState: String, Sendable, Codable, CaseIterable {
    case active, frozen, released
}

public struct Resource: Sendable, Codable, Equatable {
    public var id: UUID
    public var customerId: UUID
    public var type: String
    public var billingMode: BillingMode
    public var state: ResourceState
    public var spec: PostgresJSON
    public var expiresAt: Date?
    public var frozenAt: Date?
    public var retentionUntil: Date?
    public var releasedAt: Date?
    public var createdAt: Date
}

extension PostgresJSON: Codable {
    /// Encoded as the JSON value itself, not as a string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(JSONValue(parsing: text))
    }

    public init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(JSONValue.self)
        try self.init(encoding: value)
    }
}
