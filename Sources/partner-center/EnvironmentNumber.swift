import ArgumentParser

extension Dictionary where Key == String, Value == String {
    /// A whole number from the environment: nil when the variable is unset (the caller's
    /// default applies). Set to anything but a whole number, the command refuses to start
    /// and names the variable; `PORT=80a` used to serve on 8080 and `DATABASE_POOL_SIZE=1 6`
    /// to open 8 connections, without a word. The caller checks the range, as it does for
    /// the matching flag.
    func wholeNumber(_ name: String) throws -> Int? {
        guard let text = self[name] else { return nil }
        guard let value = Int(text) else { throw ValidationError("\(name) must be a whole number") }
        return value
    }
}
