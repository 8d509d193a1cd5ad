import ArgumentParser

/// Numbers from the environment, for every subcommand: nil when the variable is unset (the
/// caller's default applies). Set to anything the setting cannot take, the command refuses
/// to start and names the variable; it never falls back to the default (`PORT=80a` used to
/// serve on 8080, `DATABASE_POOL_SIZE=1 6` to open 8 connections, without a word).
extension Dictionary where Key == String, Value == String {
    /// A whole number. Callers whose flag takes the same value check the range themselves,
    /// once for both.
    func wholeNumber(_ name: String) throws -> Int? {
        guard let text = self[name] else { return nil }
        guard let value = Int(text) else { throw ValidationError("\(name) must be a whole number") }
        return value
    }

    /// A whole number in `range`.
    func wholeNumber(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
        guard let value = try wholeNumber(name) else { return nil }
        guard range.contains(value) else {
            throw ValidationError("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A number (seconds, a rate) in `range`.
    func number(_ name: String, _ range: ClosedRange<Double>) throws -> Double? {
        guard let text = self[name] else { return nil }
        guard let value = Double(text), range.contains(value) else {
            func bound(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }
            throw ValidationError("\(name) must be a number from \(bound(range.lowerBound)) to \(bound(range.upperBound))")
        }
        return value
    }
}
