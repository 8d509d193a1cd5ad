import Foundation
import Logging

/// How the server writes a log line (DESIGN §11): `text`, for a person reading a terminal,
/// or `json`, one object per line for a log shipper. Both stamp UTC.
///
/// `text` is `TS LEVEL label: key=value … [source] message`; a value that is empty or holds a
/// space, a quote, `=` or a control character is quoted with JSON's escapes, so a line always
/// splits back into its fields. `json` carries `timestamp`, `level`, `label`, `source`,
/// `message`, `request_id` (when the line belongs to a request) and `metadata`.
public enum LogLineFormat: String, Sendable, CaseIterable {
    case text, json

    /// One line, without its newline.
    public func line(
        date: Date, level: Logger.Level, label: String, source: String, message: String, metadata: Logger.Metadata
    ) -> String {
        let timestamp = Self.timestamp(date)
        switch self {
        case .text:
            let fields = metadata.sorted { $0.key < $1.key }.map { " \($0.key)=\(Self.quotedIfNeeded("\($0.value)"))" }.joined()
            return "\(timestamp) \(level) \(label):\(fields) [\(source)] \(message)"
        case .json:
            var object: [String: Any] = [
                "timestamp": timestamp, "level": level.rawValue, "label": label, "source": source, "message": message,
            ]
            if let requestID = metadata["request_id"] ?? metadata["hb.request.id"] { object["request_id"] = "\(requestID)" }
            if !metadata.isEmpty { object["metadata"] = metadata.mapValues(Self.plain) }
            guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            else { return #"{"level":"error","message":"a log line could not be encoded"}"# }
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// A metadata value as plain JSON: strings, arrays and objects.
    static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): "\(convertible)"
        case .array(let array): array.map(plain)
        case .dictionary(let dictionary): dictionary.mapValues(plain)
        }
    }

    /// The value as it is, or quoted with JSON's escapes when it would not read back as one
    /// field.
    static func quotedIfNeeded(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { scalar in
            scalar.value > 0x20 && scalar.value != 0x7F && scalar != "\"" && scalar != "=" && scalar != "\\"
        }
        if plain { return value }
        guard let data = try? JSONSerialization.data(withJSONObject: [value], options: [.withoutEscapingSlashes]) else { return "\"\"" }
        // `["…"]` → `"…"`
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    /// ISO 8601 in UTC with milliseconds, e.g. `2026-11-30T08:15:02.123Z`.
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        let millis = Int((date.timeIntervalSince1970 - Double(seconds)) * 1000)
        var utc = tm()
        gmtime_r(&seconds, &utc)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &utc)
        let head = String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return head + "." + String(format: "%03dZ", min(max(millis, 0), 999))
    }
}
