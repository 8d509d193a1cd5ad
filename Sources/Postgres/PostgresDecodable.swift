import Foundation

/// A Swift type that can be read from a column in PostgreSQL's text output format.
///
/// Text format keeps the decoder simple and exact (no byte-order or numeric layout rules);
/// the session is started with `TimeZone=UTC` and `DateStyle=ISO` so the text is canonical.
public protocol PostgresDecodable: Sendable {
    init(postgresText text: Substring) throws
}

func decodingError(_ type: Any.Type, _ text: Substring) -> PostgresError {
    PostgresError(code: .decoding, message: "cannot decode a \(type) from a value of \(text.utf8.count) bytes")
}

extension String: PostgresDecodable {
    public init(postgresText text: Substring) throws { self = String(text) }
}

extension Int: PostgresDecodable {
    public init(postgresText text: Substring) throws {
        guard let value = Int(text) else { throw decodingError(Int.self, text) }
        self = value
    }
}

extension Int64: PostgresDecodable {
    public init(postgresText text: Substring) throws {
        guard let value = Int64(text) else { throw decodingError(Int64.self, text) }
        self = value
    }
}

extension Int32: PostgresDecodable {
    public init(postgresText text: Substring) throws {
        guard let value = Int32(text) else { throw decodingError(Int32.self, text) }
        self = value
    }
}

extension Bool: PostgresDecodable {
    public init(postgresText text: Substring) throws {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw decodingError(Bool.self, text)
        }
    }
}

extension Double: PostgresDecodable {
    public init(postgresText text: Substring) throws {
        switch text {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(text) else { throw decodingError(Double.self, text) }
            self = value
        }
    }
}

extension UUID: PostgresDecodable {
    public init(postgresText text: Substring) throws {
        guard let value = UUID.parse(text) else { throw decodingError(UUID.self, text) }
        self = value
    }
}

extension Date: PostgresDecodable {
    public init(postgresText text: Substring) throws {
        guard let value = PostgresTimestamp.parse(text) else { throw decodingError(Date.self, text) }
        self = value
    }
}

/// bytea arrives in hex text form (`\x0a1b…`), the server default since 9.0.
extension Data: PostgresDecodable {
    public init(postgresText text: Substring) throws {
        let utf8 = text.utf8
        guard utf8.count >= 2, utf8.first == UInt8(ascii: "\\"),
            utf8[utf8.index(after: utf8.startIndex)] == UInt8(ascii: "x"), utf8.count % 2 == 0
        else { throw decodingError(Data.self, text) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(utf8.count / 2 - 1)
        var high: UInt8?
        for character in utf8.dropFirst(2) {
            guard let nibble = hexNibble(character) else { throw decodingError(Data.self, text) }
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        self = Data(bytes)
    }
}

/// Arrays of simple elements (`uuid[]`, `text[]`, `bigint[]`) from their text form.
extension Array: PostgresDecodable where Element: PostgresDecodable {
    public init(postgresText text: Substring) throws {
        guard text.first == "{", text.last == "}" else { throw decodingError([Element].self, text) }
        let inner = text.dropFirst().dropLast()
        if inner.isEmpty {
            self = []
            return
        }
        var elements: [Element] = []
        var current = ""
        var quoted = false
        var escaped = false
        var wasQuoted = false
        for character in inner {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" && quoted {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
                wasQuoted = true
            } else if character == "," && !quoted {
                guard wasQuoted || current != "NULL" else { throw decodingError([Element].self, text) }
                elements.append(try Element(postgresText: Substring(current)))
                current = ""
                wasQuoted = false
            } else {
                current.append(character)
            }
        }
        guard wasQuoted || current != "NULL" else { throw decodingError([Element].self, text) }
        elements.append(try Element(postgresText: Substring(current)))
        self = elements
    }
}

/// Formatting and parsing of `timestamptz` text in UTC with microseconds, without
/// `DateFormatter` (slow and locale-dependent).
enum PostgresTimestamp {
    static func format(_ date: Date) -> String {
        var bytes: [UInt8] = []
        UTCDateTime(date).append(to: &bytes, separator: UInt8(ascii: " "), fractionDigits: 6, suffix: "+00")
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.ffffff]+HH[:MM]`, as the server prints in ISO style.
    static func parse(_ text: Substring) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<count {
                let c = bytes[index]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int64(c - 48)
                index += 1
            }
            return value
        }
        func expect(_ c: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == c else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
            expect(32), let hour = number(2), expect(58), let minute = number(2), expect(58),
            let second = number(2)
        else { return nil }
        var micros: Int64 = 0
        if index < bytes.count, bytes[index] == 46 {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 6 { micros = micros * 10 + Int64(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            if digits < 6 { for _ in digits..<6 { micros *= 10 } }
        }
        var offsetSeconds: Int64 = 0
        if index < bytes.count {
            let sign: Int64
            switch bytes[index] {
            case 43: sign = 1
            case 45: sign = -1
            default: return nil
            }
            index += 1
            guard let offsetHours = number(2) else { return nil }
            var offsetMinutes: Int64 = 0
            if index < bytes.count {
                guard expect(58), let m = number(2) else { return nil }
                offsetMinutes = m
                if index < bytes.count {
                    guard expect(58), number(2) != nil else { return nil }
                }
            }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard index == bytes.count, (1...12).contains(month), (1...31).contains(day) else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    /// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
