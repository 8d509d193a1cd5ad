import Foundation
import Logging
import PartnerAPI

/// Writes log lines to standard error (`LogLineFormat`: readable text, or JSON lines with
/// `LOG_FORMAT=json`), rendering metadata when a line is written rather than whenever
/// metadata is set.
///
/// Hummingbird tags every request's logger with its id; `StreamLogHandler` re-renders all
/// metadata on each such change, which cost the server more per request than the logging
/// it was for (at the default level most requests log nothing).
struct ServerLogHandler: LogHandler {
    let label: String
    let format: LogLineFormat
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, format: LogLineFormat) {
        self.label = label
        self.format = format
        self.metadataProvider = LoggingSystem.metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let explicit = event.metadata { all.merge(explicit) { _, new in new } }
        if let error = event.error {
            all["error.message"] = "\(error)"
            all["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        let line = format.line(
            date: Date(), level: event.level, label: label, source: event.source, message: "\(event.message)", metadata: all) + "\n"
        // One write(2) per line (atomic for lines under PIPE_BUF), and a failed write is
        // dropped: `FileHandle.write(_:)` traps on error, and a log line is not worth the
        // process (journald restarting gives EPIPE).
        try? FileHandle.standardError.write(contentsOf: Data(line.utf8))
    }
}
