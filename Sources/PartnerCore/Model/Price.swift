import Foundation

/// One line of the operator's price list.
public struct Price: Sendable, Codable, Equatable {
    public var resourceType: String
    /// Per unit of usage quantity.
    public var usageUnitPrice: String
    /// Per month of a prepaid term.
    public var monthlyPrice: String
    public var updatedAt: Date
}
