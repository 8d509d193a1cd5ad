/// A session's prepared statements by text and parameter types, at most `capacity` of them.
///
/// Why bounded: a statement is prepared once per session and kept, which is what makes the
/// second run of a statement one round trip; but a caller that builds SQL text (a list of
/// `IN` values, say) would grow every session, and the server's memory for it, without end.
/// When the cache is full, the least recently used statement is deallocated to make room.
struct PreparedStatementCache {
    /// The same text bound with other types is another statement.
    struct Key: Hashable {
        var sql: String
        var oids: [UInt32]
    }

    private struct Entry {
        var name: String
        var lastUse: UInt64
    }

    let capacity: Int
    private var entries: [Key: Entry] = [:]
    private var clock: UInt64 = 0
    /// Names are never reused within a session, so a deallocated name cannot be confused
    /// with a live one.
    private var prepared = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The statement's name when it is prepared in this session, marked as just used.
    mutating func name(for key: Key) -> String? {
        // One lookup: this runs for every statement, and the key hashes the whole SQL text.
        guard let index = entries.index(forKey: key) else { return nil }
        clock += 1
        entries.values[index].lastUse = clock
        return entries.values[index].name
    }

    /// The statement to deallocate before another is prepared, when the cache is full.
    func victim() -> (key: Key, name: String)? {
        guard entries.count >= capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) else {
            return nil
        }
        return (oldest.key, oldest.value.name)
    }

    mutating func remove(_ key: Key) {
        entries[key] = nil
    }

    /// A fresh name for a statement about to be prepared.
    mutating func nextName() -> String {
        prepared += 1
        return "pc\(prepared)"
    }

    /// Records a statement the server has prepared under `name`.
    mutating func insert(_ key: Key, name: String) {
        clock += 1
        entries[key] = Entry(name: name, lastUse: clock)
    }

    mutating func removeAll() {
        entries.removeAll()
    }
}
