import Foundation
import Logging

/// Writes log lines to standard error in the format of swift-log's `StreamLogHandler`, but
/// renders metadata when a line is written rather than whenever metadata is set.
///
/// Hummingbird tags every request's logger with its id; `StreamLogHandler` re-renders all
/// metadata on each such change, which cost the server more per request than the logging
/// it was for (at the default level most requests log nothing).
struct ServerLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String) {
        self.label = label
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
        let rendered = all.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        let line = "\(Self.timestamp()) \(event.level) \(label):\(rendered) [\(event.source)] \(event.message)\n"
        // One write(2) per line (atomic for lines under PIPE_BUF), and a failed write is
        // dropped: `FileHandle.write(_:)` traps on error, and a log line is not worth the
        // process (journald restarting gives EPIPE).
        try? FileHandle.standardError.write(contentsOf: Data(line.utf8))
    }

    private static func timestamp() -> String {
        var now = time(nil)
        var local = tm()
        localtime_r(&now, &local)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
