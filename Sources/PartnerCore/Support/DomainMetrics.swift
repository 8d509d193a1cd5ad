import Metrics

/// The domain's counters (DESIGN §11), incremented where each change commits its decision:
/// restrictions applied and lifted (by type and origin), purchases refused, resources frozen,
/// failed verification codes. The process that bootstraps metrics (`serve`) exports them;
/// elsewhere they go to swift-metrics' no-op backend. Counted when the statement that decided
/// ran: a transaction that rolls back afterwards (rare: the statement is its last write) is
/// still counted.
enum DomainMetrics {
    static func restrictionApplied(_ type: RestrictionType, origin: RestrictionOrigin, frozenResources: Int) {
        Counter(label: "partner_center_restrictions_applied_total", dimensions: [("type", type.rawValue), ("origin", origin.rawValue)])
            .increment()
        if frozenResources > 0 {
            Counter(label: "partner_center_resources_frozen_total", dimensions: [("reason", "restriction")]).increment(by: frozenResources)
        }
    }

    static func restrictionLifted(actorKind: String) {
        Counter(label: "partner_center_restrictions_lifted_total", dimensions: [("actor", actorKind)]).increment()
    }

    /// Made per call like the others, never held in a `static let`: a counter made before
    /// `serve` bootstraps the metrics system (a test, a CLI path) would stay bound to the
    /// no-op backend for the life of the process. The factory hands back its cached counter.
    static func purchaseRefused() {
        Counter(label: "partner_center_purchases_refused_total").increment()
    }

    static func verificationFailed(_ code: PartnerError.Code) {
        Counter(label: "partner_center_verification_failures_total", dimensions: [("reason", code.rawValue)]).increment()
    }
}
