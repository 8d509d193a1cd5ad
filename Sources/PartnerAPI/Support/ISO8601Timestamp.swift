import Foundation
import Postgres

/// Timestamps as the API writes them: `2026-11-28T04:00:00.123Z` (UTC, milliseconds).
///
/// Written by hand because `Date.ISO8601FormatStyle` costs several microseconds a date, and
/// a resource answer carries up to five. The value is first rounded to the microsecond
/// PostgreSQL stored (`UTCDateTime`), then truncated to the millisecond, so a stored
/// `.123000` never prints as `.122` through binary floating point.
enum ISO8601Timestamp {
    static func string(_ date: Date) -> String {
        var bytes: [UInt8] = []
        append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func append(_ date: Date, to bytes: inout [UInt8]) {
        UTCDateTime(date).append(to: &bytes, separator: UInt8(ascii: "T"), fractionDigits: 3, suffix: "Z")
    }
}
