import Foundation

public enum TenantStatus: String, Sendable, Codable, CaseIterable {
    case active, suspended
}

public struct Distributor: Sendable, Codable, Equatable {
    public var id: DistributorID
    public var name: String
    public var status: TenantStatus
    /// The distributor's own retention for freezes; `nil`: the customer's level policy decides.
    public var retentionSeconds: Int?
    public var verificationCodeRequired: Bool
    public var createdAt: Date
}

public struct Partner: Sendable, Codable, Equatable {
    public var id: PartnerID
    public var distributorId: DistributorID
    public var name: String
    public var status: TenantStatus
    /// A partner-specific retention period; `nil` uses the distributor's.
    public var retentionSeconds: Int?
    public var verificationCodeRequired: Bool
    public var createdAt: Date
}

/// A partner as its distributor sees it in the reseller list: with the grant state.
public struct PartnerWithGrant: Sendable, Codable, Equatable {
    public var id: PartnerID
    public var name: String
    public var status: TenantStatus
    public var freezePermission: FreezePermissionState
    public var createdAt: Date
}

/// One grant of "restrict purchases and freeze resources", open or revoked.
public struct FreezePermissionGrant: Sendable, Codable, Equatable {
    public var id: UUID
    public var partnerId: PartnerID
    public var grantedBy: ActorRef
    public var grantedAt: Date
    public var revokedBy: ActorRef?
    public var revokedAt: Date?
}

public struct FreezePermissionState: Sendable, Codable, Equatable {
    public var granted: Bool
    public var grantedAt: Date?
}

/// The permission's current state and its history, newest first.
public struct FreezePermission: Sendable, Codable, Equatable {
    public var partnerId: PartnerID
    public var granted: Bool
    public var current: FreezePermissionGrant?
    public var history: [FreezePermissionGrant]
}

/// A principal as recorded on grants and restrictions.
public struct ActorRef: Sendable, Codable, Equatable {
    public var kind: String
    /// Absent for `system`, the batch jobs' own changes (a budget's restriction and lift).
    public var id: UUID?
}

public struct Agreement: Sendable, Codable, Equatable {
    public var version: String
    public var title: String
    public var text: String
}
