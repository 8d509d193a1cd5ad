import Foundation

/// A `Date` as UTC calendar fields, rounded to the microsecond (PostgreSQL's precision),
/// without Foundation's calendar: what `timestamptz` parameters and the API's ISO 8601
/// timestamps are both written from.
public struct UTCDateTime: Sendable, Equatable {
    public var year: Int64
    public var month: Int64
    public var day: Int64
    public var hour: Int64
    public var minute: Int64
    public var second: Int64
    public var microsecond: Int64

    public init(_ date: Date) {
        let totalMicros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (seconds, micros) = Self.floorDivide(totalMicros, 1_000_000)
        let (days, secondOfDay) = Self.floorDivide(seconds, 86_400)
        (year, month, day) = PostgresTimestamp.civil(fromDays: days)
        hour = secondOfDay / 3600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
        microsecond = micros
    }

    /// Appends `YYYY-MM-DD<separator>HH:MM:SS.<fraction><suffix>`: PostgreSQL's text form
    /// is `" "`, six digits and `"+00"`; the API's ISO 8601 is `"T"`, three digits and `"Z"`
    /// (the fraction truncated).
    public func append(to bytes: inout [UInt8], separator: UInt8, fractionDigits: Int, suffix: String) {
        Self.appendDigits(year, width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Self.appendDigits(month, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Self.appendDigits(day, width: 2, to: &bytes)
        bytes.append(separator)
        Self.appendDigits(hour, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        Self.appendDigits(minute, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        Self.appendDigits(second, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        var fraction = microsecond
        for _ in fractionDigits..<6 { fraction /= 10 }
        Self.appendDigits(fraction, width: fractionDigits, to: &bytes)
        bytes.append(contentsOf: suffix.utf8)
    }

    /// Appends `value` in decimal, zero-padded to `width` digits (wider values in full).
    private static func appendDigits(_ value: Int64, width: Int, to bytes: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        guard value >= 0, value < divisor * 10 else {
            bytes.append(contentsOf: String(value).utf8)
            return
        }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value >= 0 ? value / divisor : -((-value - 1) / divisor) - 1
        return (quotient, value - quotient * divisor)
    }
}
