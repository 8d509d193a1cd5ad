import Foundation
import Postgres

/// Restrict purchases and freeze resources, and lift that again (DESIGN §2).
///
/// Each customer's change is one transaction: the customer row is locked first (`FOR
/// UPDATE`, its partner and distributor `FOR SHARE` so grants and suspensions cannot change
/// underneath), the rules are checked, and then one set-based statement writes the
/// restriction, the customer status, every frozen resource, the audit event and the outbox
/// events. Nothing loops over resources in Swift.
public struct Restrictions: Sendable {
    public static let maximumBatch = 10

    let client: PostgresClient
    /// Forgotten for every customer an unfreeze touches, so its next purchase reaches the
    /// gate's statement.
    let refusals: RefusalCache
    let codes: VerificationCodes

    public init(client: PostgresClient, refusals: RefusalCache, codes: VerificationCodes) {
        self.client = client
        self.refusals = refusals
        self.codes = codes
    }

    // MARK: Freeze

    public func freeze(customerID: CustomerID, _ request: FreezeRequest, context: ChangeContext) async throws -> FreezeResult {
        let reason = try Self.validate(request)
        return try await Self.settle(client.withTransaction(in: Access.tenant(of: context.principal)) { connection in
            let locked = try LockedCustomer.lock(customerID, for: context.principal, connection)
            return try Self.freeze(locked, request, reason: reason, codes: codes, context: context, connection)
                .answering(context, connection)
        })
    }

    /// Freezes up to ten customers, each in its own transaction. A verification code is
    /// checked once for the whole batch.
    public func freeze(
        customerIDs: [CustomerID], _ request: FreezeRequest, context: ChangeContext
    ) async throws -> [BatchOutcome<FreezeResult>] {
        try Self.requireActorKind(context.principal)
        let reason = try Self.validate(request)
        try Self.validateBatch(customerIDs)
        try await verifyOnce(request.verificationCode, purpose: .freeze, context: context)
        return await Self.batch(customerIDs, context) { customerID in
            try await Self.settle(client.withTransaction(in: Access.tenant(of: context.principal)) { connection in
                try Self.once(customerID, context, connection) { locked in
                    try Self.freeze(locked, request, reason: reason, codes: nil, context: context, connection)
                }
            })
        }
    }

    static func validate(_ request: FreezeRequest) throws -> String {
        let reason = try Validate.reason(request.reason)
        if request.type == .purchaseAndResources && !request.agreementAccepted {
            throw Agreements.required
        }
        try validateLift(request.liftAt)
        return reason
    }

    /// How far ahead a lift may be scheduled.
    public static let maximumLiftDelay: TimeInterval = 365 * 86_400

    /// A scheduled lift lies in the future, at most a year ahead.
    static func validateLift(_ liftAt: Date?) throws {
        guard let liftAt else { return }
        let now = Date()
        guard liftAt > now, liftAt <= now.addingTimeInterval(maximumLiftDelay) else {
            throw PartnerError.validation("lift_at must be in the future and at most 365 days ahead")
        }
    }

    // MARK: Impact preview

    /// What a freeze of this customer would do now (DESIGN §9), under the same authority
    /// rules, in a read-only transaction that locks nothing: no restriction, audit or event,
    /// no verification code, no idempotency record. It needs no reason, agreement or code:
    /// the console shows it before the partner fills those in.
    ///
    /// Prepaid resources listed are those, active or expired, whose grace would end before
    /// the restriction does: at `lift_at` when one is given, else when the retention of the
    /// frozen resources would end (the same period for a `purchase` restriction). A
    /// restricted customer cannot renew them (the purchase gate), so they would be frozen.
    public func preview(customerID: CustomerID, type: RestrictionType?, liftAt: Date?, principal: Principal) async throws -> FreezePreview {
        try Self.requireActorKind(principal)
        try Self.validateLift(liftAt)
        let type = type ?? .purchaseAndResources
        return try await client.withTransaction(in: Access.tenant(of: principal), readOnly: true) { connection in
            let customer = try LockedCustomer.lock(customerID, for: principal, locking: false, connection)
            guard customer.status == .normal else {
                throw PartnerError(.customerAlreadyRestricted, "the customer is already restricted; lift that restriction first")
            }
            try connection.name(.customer(customerID))
            let now = Date()
            let retentionEnd = now.addingTimeInterval(TimeInterval(customer.retentionSeconds))
            var frozen = 0
            var bytes = 0
            if type == .purchaseAndResources {
                let row = try connection.query(Self.previewFrozenSQL, [customerID]).single()
                frozen = try row.decode(0)
                bytes = try row.decode(1)
            }
            let rows = try connection.query(
                Self.previewPrepaidSQL,
                [customerID, Double(customer.prepaidGraceSeconds), liftAt ?? retentionEnd, Self.previewListed])
            let expiring = try rows.map { row in
                FreezePreview.PrepaidExpiry(resourceId: try row.decode(0), expiresAt: try row.decode(1), graceUntil: try row.decode(2))
            }
            return FreezePreview(
                customerId: customerID, type: type, frozenResources: frozen,
                retentionUntil: type == .purchaseAndResources ? retentionEnd : nil, dataBytesAtRisk: bytes,
                prepaidExpiring: expiring, prepaidExpiringTotal: try rows.first?.decode(3, as: Int.self) ?? 0, liftAt: liftAt)
        }
    }

    /// How many prepaid resources a preview lists (it counts them all).
    static let previewListed = 100

    static let previewFrozenSQL = """
        SELECT count(*), COALESCE(sum(d.size_bytes), 0)::bigint
        FROM resources r LEFT JOIN resource_data d ON d.customer_id = r.customer_id AND d.resource_id = r.id
        WHERE r.customer_id = $1 AND r.state = 'active' AND r.billing_mode = 'pay_per_use'
        """

    /// `$2` the level's grace in seconds (for resources not expired yet), `$3` the end of the
    /// restriction, `$4` how many to list.
    static let previewPrepaidSQL = """
        SELECT id, expires_at, grace_until, count(*) OVER ()
        FROM (SELECT r.id, r.expires_at, COALESCE(r.grace_until, r.expires_at + make_interval(secs => $2)) AS grace_until
              FROM resources r
              WHERE r.customer_id = $1 AND r.state IN ('active', 'expired') AND r.expires_at IS NOT NULL) prepaid
        WHERE grace_until < $3
        ORDER BY grace_until, id LIMIT $4
        """

    /// The restriction, status, frozen resources, audit and outbox events in one call of
    /// `apply_freeze` (schema 0010): set-based, and on Citus one shard in one phase.
    static let applyFreezeSQL = """
        SELECT frozen_resources, agreement_version, retention_until
        FROM apply_freeze($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        """

    /// Applies a restriction to a locked customer: a person's (`manual`) or a budget's
    /// (`budget`, actor system with no id).
    static func apply(
        _ locked: LockedCustomer, restrictionID: RestrictionID, type: RestrictionType, reason: String, actor: ActorRef,
        origin: RestrictionOrigin, requestID: String?, liftAt: Date?, _ connection: PostgresConnection
    ) throws -> FreezeResult {
        let row = try connection.query(applyFreezeSQL, [
            locked.id, restrictionID, type.rawValue, reason, actor.kind, actor.id, type.customerStatus.rawValue,
            Double(locked.retentionSeconds), locked.authority.facts.distributorID, locked.authority.facts.partnerID, requestID,
            liftAt, origin.rawValue,
        ]).single()
        let result = FreezeResult(
            customerId: locked.id, status: type.customerStatus, restrictionId: restrictionID, type: type,
            frozenResources: try row.decode(0), retentionUntil: try row.decode(2, as: Date?.self),
            agreementVersion: try row.decode(1, as: String?.self), liftAt: liftAt)
        DomainMetrics.restrictionApplied(type, origin: origin, frozenResources: result.frozenResources)
        return result
    }

    static func freeze(
        _ locked: LockedCustomer, _ request: FreezeRequest, reason: String, codes: VerificationCodes?, context: ChangeContext,
        _ connection: PostgresConnection
    ) throws -> Settled<FreezeResult> {
        guard locked.status == .normal else {
            return .refused(PartnerError(.customerAlreadyRestricted, "the customer is already restricted; lift that restriction first"))
        }
        if let codes, locked.actorRequiresCode,
            let refusal = try codes.verify(connection, principal: context.principal, purpose: .freeze, code: request.verificationCode)
        {
            return .refused(refusal)
        }
        return .done(try apply(
            locked, restrictionID: .random(), type: request.type, reason: reason,
            actor: ActorRef(kind: context.principal.actorKind, id: context.principal.id), origin: .manual,
            requestID: context.requestID, liftAt: request.liftAt, connection))
    }

    // MARK: Unfreeze

    public func unfreeze(customerID: CustomerID, _ request: UnfreezeRequest, context: ChangeContext) async throws -> UnfreezeResult {
        let reason = try Validate.reason(request.reason)
        defer { refusals.forget(customerIDs: [customerID]) }
        return try await Self.settle(client.withTransaction(in: Access.tenant(of: context.principal)) { connection in
            let locked = try LockedCustomer.lock(customerID, for: context.principal, connection)
            return try Self.unfreeze(locked, request, reason: reason, codes: codes, context: context, connection)
                .answering(context, connection)
        })
    }

    public func unfreeze(
        customerIDs: [CustomerID], _ request: UnfreezeRequest, context: ChangeContext
    ) async throws -> [BatchOutcome<UnfreezeResult>] {
        try Self.requireActorKind(context.principal)
        let reason = try Validate.reason(request.reason)
        try Self.validateBatch(customerIDs)
        try await verifyOnce(request.verificationCode, purpose: .unfreeze, context: context)
        let refusals = self.refusals
        return await Self.batch(customerIDs, context) { customerID in
            // Each customer as soon as its own transaction is over, not when the batch is.
            defer { refusals.forget(customerIDs: [customerID]) }
            return try await Self.settle(client.withTransaction(in: Access.tenant(of: context.principal)) { connection in
                try Self.once(customerID, context, connection) { locked in
                    try Self.unfreeze(locked, request, reason: reason, codes: nil, context: context, connection)
                }
            })
        }
    }

    /// The lift in one call of `apply_unfreeze` (schema 0010). `released` counts what the
    /// statement's snapshot shows released plus what it showed frozen but could not
    /// unfreeze: a sweep batch holding those rows made the UPDATE wait and then committed
    /// their release (the customer lock rules out any other writer).
    static let applyUnfreezeSQL = """
        SELECT unfrozen_resources, released_resources, not_recoverable
        FROM apply_unfreeze($1, $2, $3, $4, $5, $6, $7, $8)
        """

    static func unfreeze(
        _ locked: LockedCustomer, _ request: UnfreezeRequest, reason: String, codes: VerificationCodes?, context: ChangeContext,
        _ connection: PostgresConnection
    ) throws -> Settled<UnfreezeResult> {
        guard let active = try locked.activeRestriction(connection) else {
            return .refused(PartnerError(.customerNotRestricted, "the customer is not restricted"))
        }
        if let type = request.type, type != active.type {
            return .refused(PartnerError(
                .freezeTypeMismatch, "the active restriction is \(active.type.rawValue), not \(type.rawValue)"))
        }
        if let codes, locked.actorRequiresCode,
            let refusal = try codes.verify(connection, principal: context.principal, purpose: .unfreeze, code: request.verificationCode)
        {
            return .refused(refusal)
        }
        let lifted = try lift(
            locked, restrictionID: active.id, reason: reason, actor: ActorRef(kind: context.principal.actorKind, id: context.principal.id),
            requestID: context.requestID, connection)
        return .done(lifted)
    }

    /// Lifts the active restriction of a locked customer, a person's or (actor system) a
    /// budget's.
    static func lift(
        _ locked: LockedCustomer, restrictionID: RestrictionID, reason: String, actor: ActorRef, requestID: String?,
        _ connection: PostgresConnection
    ) throws -> UnfreezeResult {
        let row = try connection.query(applyUnfreezeSQL, [
            locked.id, restrictionID, actor.kind, actor.id, reason, requestID,
            locked.authority.facts.distributorID, locked.authority.facts.partnerID,
        ]).single()
        DomainMetrics.restrictionLifted(actorKind: actor.kind)
        return UnfreezeResult(
            customerId: locked.id, status: .normal, restrictionId: restrictionID, unfrozenResources: try row.decode(0),
            releasedResources: try row.decode(1), notRecoverableResourceIds: try row.decode(2))
    }

    // MARK: Shared steps

    /// A refusal found after the transaction did something that must persist (a failed
    /// verification attempt): the transaction commits, then the refusal is thrown.
    enum Settled<Value: Sendable>: Sendable {
        case done(Value)
        case refused(PartnerError)
    }

    /// One customer's change inside a batch, on the customer it locked. With an
    /// `Idempotency-Key`, the outcome an earlier attempt committed for this customer is
    /// replayed; otherwise the change runs and its outcome commits with it.
    ///
    /// The stored outcome is read after the customer's lock: two attempts of one batch can
    /// run at once (a retry took over the claim of a request that was still running), and
    /// the lock orders them, so the second reads what the first committed and the change
    /// happens once, whichever attempt's answer the client keeps.
    static func once<Value: Codable & Sendable>(
        _ customerID: CustomerID, _ context: ChangeContext, _ connection: PostgresConnection,
        _ change: (LockedCustomer) throws -> Settled<Value>
    ) throws -> Settled<Value> {
        let locked = try LockedCustomer.lock(customerID, for: context.principal, connection)
        guard let claim = context.idempotency else { return try change(locked) }
        if let stored = try claim.batchOutcome(customerID, as: Value.self, connection) { return .done(stored) }
        let settled = try change(locked)
        if case .done(let value) = settled { try claim.recordBatchOutcome(customerID, value, connection) }
        return settled
    }

    static func settle<Value>(_ settled: Settled<Value>) throws -> Value {
        switch settled {
        case .done(let value): return value
        case .refused(let error): throw error
        }
    }

    /// Only partners and distributors change restrictions. A batch refuses anyone else as a
    /// whole (`forbidden`), as the single-customer form does, instead of answering 200 with
    /// every customer failed.
    static func requireActorKind(_ principal: Principal, to action: String = "change its restriction") throws {
        try principal.requirePartnerOrDistributor("only the customer's partner or distributor can \(action)")
    }

    static func validateBatch(_ customerIDs: [CustomerID]) throws {
        guard (1...maximumBatch).contains(customerIDs.count) else {
            throw PartnerError.validation("customer_ids must list 1 to \(maximumBatch) customers")
        }
        guard Set(customerIDs).count == customerIDs.count else {
            throw PartnerError.validation("customer_ids must not repeat a customer")
        }
    }

    /// Checks and consumes the caller's code once, in its own committed transaction, when the
    /// caller's setting asks for one.
    func verifyOnce(_ code: String?, purpose: VerificationPurpose, context: ChangeContext) async throws {
        let principal = context.principal
        guard principal.isPartnerOrDistributor else { return }
        // A batch taken over after a crash: its first attempt used the code up.
        if context.idempotency?.codeVerified == true { return }
        let codes = self.codes
        let refusal = try await client.withTransaction { connection -> PartnerError? in
            let table = try Settings.table(for: principal)
            let rows = try connection.query("SELECT verification_code_required FROM \(table) WHERE id = $1", [principal.id])
            guard let row = rows.first, try row.decode(0, as: Bool.self) else { return nil }
            if let refusal = try codes.verify(connection, principal: principal, purpose: purpose, code: code) { return refusal }
            try context.idempotency?.markCodeVerified(connection)
            return nil
        }
        if let refusal { throw refusal }
    }

    /// How many of a batch's customers change at once: a batch of ten must not take every
    /// connection of the pool (8 by default) from the other requests.
    public static let batchConcurrency = 3

    /// Runs the customers' changes, `batchConcurrency` at a time, and lists the outcomes in
    /// request order. A customer that failed on our side (the database unavailable, a bug)
    /// makes the answer one not to keep: a retry with the same `Idempotency-Key` replays the
    /// customers that committed and tries that one again.
    static func batch<Result: Sendable & Codable & Equatable>(
        _ customerIDs: [CustomerID], _ context: ChangeContext, _ change: @escaping @Sendable (CustomerID) async throws -> Result
    ) async -> [BatchOutcome<Result>] {
        await withTaskGroup(of: (Int, BatchOutcome<Result>).self) { group in
            func start(_ index: Int) {
                let customerID = customerIDs[index]
                group.addTask {
                    do {
                        let result = try await change(customerID)
                        return (index, BatchOutcome(customerId: customerID, outcome: .succeeded, result: result, error: nil))
                    } catch {
                        let failure = PartnerError.from(error)
                        if failure.isOnOurSide { context.idempotency?.noteTransientOutcome() }
                        return (index, BatchOutcome(
                            customerId: customerID, outcome: .failed, result: nil,
                            error: .init(code: failure.code.rawValue, message: failure.message)))
                    }
                }
            }
            var next = 0
            while next < min(batchConcurrency, customerIDs.count) {
                start(next)
                next += 1
            }
            var outcomes = [BatchOutcome<Result>?](repeating: nil, count: customerIDs.count)
            for await (index, outcome) in group {
                outcomes[index] = outcome
                if next < customerIDs.count {
                    start(next)
                    next += 1
                }
            }
            return outcomes.compactMap { $0 }
        }
    }
}

extension Restrictions.Settled where Value: Encodable {
    /// Stores a done change's result as the idempotent request's answer, in its transaction.
    func answering(_ context: ChangeContext, _ connection: PostgresConnection) throws -> Self {
        if case .done(let value) = self { try context.recordAnswer(value, connection) }
        return self
    }
}

extension PartnerError {
    /// Any error as a domain error (DESIGN §3, invariant 8): `service_unavailable` only when
    /// the database is unavailable (down, restarting, a pool, lock or statement timeout, a
    /// conflict that outlasted its retries); a value or constraint the database refused is
    /// the client's `validation_failed`; anything else is a bug, `internal_error`.
    public static func from(_ error: any Error) -> PartnerError {
        if let error = error as? PartnerError { return error }
        guard let error = error as? PostgresError else { return .internal }
        if error.isUnavailable || error.isTransient || error.isLockTimeout || error.isStatementTimeout {
            return PartnerError(.serviceUnavailable, "the database is unavailable; try again shortly")
        }
        // Class 22 (data exception) and 23 (integrity constraint violation).
        if let state = error.sqlState, state.hasPrefix("22") || state.hasPrefix("23") {
            return PartnerError.validation("the request conflicts with the data's rules (\(error.constraint ?? state))")
        }
        return .internal
    }

    static let `internal` = PartnerError(.internalError, "the request failed on our side; it has been logged")
}
