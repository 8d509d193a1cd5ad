import ArgumentParser
import Logging

extension Logger.Level {
    /// The level `--log-level` or `LOG_LEVEL` names, in any case (`info` when neither is
    /// given). A name that is no level is refused at start, not taken silently as `info`.
    static func named(_ name: String?) throws -> Logger.Level {
        guard let level = Logger.Level(rawValue: (name ?? "info").lowercased()) else {
            throw ValidationError("the log level must be one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return level
    }
}
