import Foundation
import Synchronization

/// Purchases and usage reports the database has just refused, remembered for a moment.
///
/// A restricted customer's automation keeps retrying purchases, and a frozen resource's
/// metering keeps reporting usage; answering each retry with the gate's full statement
/// spends a database round trip to say the same thing again. A refusal seen within
/// `lifetime` is answered from here instead.
///
/// Only refusals are remembered, so the cache can never let a purchase or usage through:
/// what admits them is always the statement in `PurchaseGate`. Lifting a restriction on this
/// instance forgets the customer at once (and drops refusals that raced the unfreeze); on
/// another instance a refusal may outlive the unfreeze by at most `lifetime`. A frozen
/// resource's refusal never outlives its retention, so a release by the sweep is answered
/// as `resource_released` from the first moment it can happen.
public final class RefusalCache: Sendable {
    /// What was refused: the customer's purchases, or usage of one of its resources (frozen
    /// or released).
    public enum Refusal: Sendable, Equatable {
        case purchases
        case usage(ResourceState)
    }

    private struct Key: Hashable {
        var customerID: CustomerID
        /// nil for the customer's purchases.
        var resourceID: ResourceID?
    }

    private struct State {
        var entries = ExpiringEntries<Key, Refusal>(capacity: 10_000)
        /// Bumped by every `forget`, so a refusal read before an unfreeze committed is not
        /// stored after it.
        var generation: UInt64 = 0
    }

    /// The moment a lookup happened, to hand back to `remember`.
    public struct Ticket: Sendable {
        fileprivate let generation: UInt64
    }

    public let lifetime: Duration
    private let state = Mutex(State())

    /// `lifetime` zero turns the cache off.
    public init(lifetime: Duration = .seconds(1)) {
        self.lifetime = lifetime
    }

    /// A remembered refusal, or nil and a ticket for `remember`.
    public func refusal(customerID: CustomerID, resourceID: ResourceID? = nil) -> (Refusal?, Ticket) {
        let now = ContinuousClock.now
        return state.withLock { state in
            (state.entries.value(for: Key(customerID: customerID, resourceID: resourceID), now: now),
             Ticket(generation: state.generation))
        }
    }

    /// Remembers a refusal the database just gave, unless a restriction was lifted since
    /// `ticket` was taken. `validUntil` ends it sooner: a frozen resource is released by the
    /// sweep (another process, which cannot tell this cache) only once its retention has run
    /// out, so its "frozen" is remembered no longer than that.
    public func remember(_ refusal: Refusal, customerID: CustomerID, resourceID: ResourceID? = nil, ticket: Ticket, validUntil: Date? = nil) {
        var lifetime = self.lifetime
        if let validUntil {
            let left = validUntil.timeIntervalSinceNow
            guard left > 0 else { return }
            lifetime = min(lifetime, .milliseconds(Int64(left * 1000)))
        }
        guard lifetime > .zero else { return }
        let expires = ContinuousClock.now.advanced(by: lifetime)
        state.withLock { state in
            guard state.generation == ticket.generation else { return }
            state.entries.set(refusal, for: Key(customerID: customerID, resourceID: resourceID), expires: expires)
        }
    }

    /// Forgets every refusal of these customers: their restriction was just lifted.
    public func forget(customerIDs: some Sequence<CustomerID>) {
        let customers = Set(customerIDs)
        state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll { customers.contains($0.customerID) }
        }
    }
}
