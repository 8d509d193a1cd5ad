import Foundation

/// A customer's level (DESIGN §9): the operator's classification that picks the customer's
/// retention policy. New customers are `v0`.
public enum CustomerLevel: String, Sendable, Codable, CaseIterable {
    case v0, v1, v2, v3, v4, v5
}

/// The periods one customer level gets (schema 0014). Each is read when its transition
/// happens, so a change applies to freezes, expiries and grace ends after it, never to a
/// deadline already set.
public struct RetentionPolicy: Sendable, Codable, Equatable {
    public var level: CustomerLevel
    /// A freeze's retention when neither the partner nor the distributor set one.
    public var freezeRetentionSeconds: Int
    /// How long an expired prepaid resource stays usable before it is frozen.
    public var prepaidGraceSeconds: Int
    /// How long a prepaid resource frozen for its expiry keeps its data.
    public var prepaidRetentionSeconds: Int
    public var updatedAt: Date

    /// Without a policy row (never the case after schema 0014's seed): Huawei's international
    /// 15 days for each period.
    public static let defaultSeconds = 1_296_000
}
