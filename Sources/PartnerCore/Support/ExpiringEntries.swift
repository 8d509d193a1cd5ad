/// Entries that lapse at a given instant, at most `capacity` of them: the shape of the
/// server's short-lived caches (principals by token, recent refusals). Not locked itself;
/// each cache keeps it under its own lock, with whatever else that lock guards.
public struct ExpiringEntries<Key: Hashable, Value> {
    private var entries: [Key: (value: Value, expires: ContinuousClock.Instant)] = [:]
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// The value stored for `key`, unless it has lapsed.
    public func value(for key: Key, now: ContinuousClock.Instant = .now) -> Value? {
        guard let entry = entries[key], entry.expires > now else { return nil }
        return entry.value
    }

    /// Stores `value` until `expires`. When full, lapsed entries go first, then all of them:
    /// a cache that fills with live entries is under a load it cannot help with anyway.
    public mutating func set(_ value: Value, for key: Key, expires: ContinuousClock.Instant, now: ContinuousClock.Instant = .now) {
        if entries.count >= capacity {
            entries = entries.filter { $0.value.expires > now }
            if entries.count >= capacity { entries.removeAll() }
        }
        entries[key] = (value, expires)
    }

    public mutating func removeAll(where shouldBeRemoved: (Key) -> Bool) {
        entries = entries.filter { !shouldBeRemoved($0.key) }
    }

    public mutating func removeAll(whereValue shouldBeRemoved: (Value) -> Bool) {
        entries = entries.filter { !shouldBeRemoved($0.value.value) }
    }
}

extension ExpiringEntries: Sendable where Key: Sendable, Value: Sendable {}
