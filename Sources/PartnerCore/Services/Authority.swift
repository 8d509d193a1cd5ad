import Foundation

/// Who may change a customer's restriction: the one rule of DESIGN §2 (Authority), used by
/// the freeze and unfreeze paths and by the console's `available_operations` alike.
///
/// While the partner holds an active grant (and is itself active), the partner acts and the
/// distributor may not; otherwise the distributor acts for its partners' customers. A
/// suspended actor may change nothing.
public struct Authority: Sendable, Equatable {
    /// What the database says about the customer's tenants, read under lock.
    public struct Facts: Sendable, Equatable {
        public var partnerID: PartnerID
        public var distributorID: DistributorID
        public var partnerStatus: TenantStatus
        public var distributorStatus: TenantStatus
        public var partnerHoldsGrant: Bool
    }

    public let facts: Facts

    /// `nil` when `principal` may change the customer's restriction, else why not.
    public func refusal(for principal: Principal) -> PartnerError? {
        let partnerActs = facts.partnerHoldsGrant && facts.partnerStatus == .active
        switch principal.kind {
        case .partner where principal.partnerID == facts.partnerID:
            if facts.partnerStatus == .suspended || facts.distributorStatus == .suspended {
                return PartnerError(.actorSuspended, "your partner account is suspended")
            }
            if !facts.partnerHoldsGrant {
                return PartnerError(
                    .permissionNotGranted,
                    "your distributor has not granted you the permission to restrict purchases and freeze resources")
            }
            return nil
        case .distributor where principal.distributorID == facts.distributorID:
            if facts.distributorStatus == .suspended {
                return PartnerError(.actorSuspended, "your distributor account is suspended")
            }
            if partnerActs {
                return PartnerError(
                    .permissionHeldByPartner,
                    "the partner holds the permission to restrict purchases and freeze resources for this customer")
            }
            return nil
        default:
            return PartnerError(.forbidden, "only the customer's partner or distributor can change its restriction")
        }
    }

    /// The operations the console offers this caller for a customer in `status`.
    public func operations(for principal: Principal, status: CustomerStatus) -> [CustomerOperation] {
        guard refusal(for: principal) == nil else { return [] }
        switch status {
        case .normal: return [.restrictPurchaseAndFreezeResources, .restrictPurchase]
        case .purchaseRestricted: return [.unrestrictPurchase]
        case .frozen: return [.unrestrictPurchaseAndUnfreezeResources]
        }
    }
}

extension Principal {
    /// A distributor or a partner: the principals that restrict customers, hold the
    /// verification-code setting and subscribe to webhooks.
    var isPartnerOrDistributor: Bool { kind == .partner || kind == .distributor }

    /// Restrictions, verification codes and webhooks are a distributor's or a partner's;
    /// anyone else is refused with `refusal`.
    func requirePartnerOrDistributor(_ refusal: String) throws {
        guard isPartnerOrDistributor else { throw PartnerError(.forbidden, refusal) }
    }

    /// Provisioning and key management are the platform operator's.
    func requireOperator() throws {
        guard kind == .operator else {
            throw PartnerError(.forbidden, "only the platform operator provisions distributors, partners, customers, resources and keys")
        }
    }
}
