import Foundation

/// Input rules shared by the services, so that each is written once.
enum Validate {
    /// A reason: 1–256 characters after trimming (`reason_required` when absent or blank).
    /// Characters are Unicode scalars, as PostgreSQL's `length()` in the table's CHECK counts
    /// them (a flag emoji is one `Character` but two scalars); NUL cannot be stored at all.
    static func reason(_ reason: String?) throws -> String {
        let trimmed = (reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw PartnerError(.reasonRequired, "a reason is required") }
        guard trimmed.unicodeScalars.count <= 256 else {
            throw PartnerError.validation("the reason must be at most 256 characters")
        }
        guard !trimmed.unicodeScalars.contains("\u{0}") else {
            throw PartnerError.validation("the reason must not contain NUL characters")
        }
        return trimmed
    }

    /// A display name: 1–200 characters (Unicode scalars, as the table's CHECK counts) after
    /// trimming.
    static func name(_ name: String?, field: String = "name") throws -> String {
        let trimmed = (name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(trimmed.unicodeScalars.count) else {
            throw PartnerError.validation("\(field) must be 1 to 200 characters")
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw PartnerError.validation("\(field) must not contain control characters")
        }
        return trimmed
    }

    /// A retention period in seconds: 0 to 365 days.
    static func retention(_ seconds: Int, field: String = "retention_seconds") throws -> Int {
        guard (0...31_536_000).contains(seconds) else {
            throw PartnerError.validation("\(field) must be between 0 and 31536000 (365 days)")
        }
        return seconds
    }

    /// 1–64 ASCII letters, digits and `. _ - /` (so no blanks, around or inside). Checked
    /// byte by byte: every allowed character is one UTF-8 byte, and this runs on every buy.
    static func resourceType(_ type: String?) throws -> String {
        guard let type, (1...64).contains(type.utf8.count), type.utf8.allSatisfy(isResourceTypeByte) else {
            throw PartnerError.validation("type must be 1 to 64 letters, digits or . _ - /")
        }
        return type
    }

    private static func isResourceTypeByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "/"):
            true
        default:
            false
        }
    }

    /// The deepest nesting a resource's `spec` may have. Deeper objects could be stored but not
    /// encoded back (JSONEncoder stops at 512 levels), leaving a resource nobody can read.
    static let maximumSpecDepth = 32

    /// A resource's `spec`: a JSON object, at most `maximumSpecDepth` deep, without NUL
    /// characters (jsonb cannot store `\u0000`).
    static func spec(_ spec: JSONValue) throws {
        guard spec.isObject else { throw PartnerError.validation("spec must be a JSON object") }
        func check(_ value: JSONValue, depth: Int) throws {
            guard depth <= maximumSpecDepth else {
                throw PartnerError.validation("spec must not be nested more than \(maximumSpecDepth) levels deep")
            }
            switch value {
            case .string(let text) where text.unicodeScalars.contains("\u{0}"):
                throw PartnerError.validation("spec must not contain NUL characters")
            case .array(let items):
                for item in items { try check(item, depth: depth + 1) }
            case .object(let members):
                for (key, member) in members {
                    if key.unicodeScalars.contains("\u{0}") { throw PartnerError.validation("spec must not contain NUL characters") }
                    try check(member, depth: depth + 1)
                }
            default:
                break
            }
        }
        try check(spec, depth: 1)
    }

    /// A prepaid term's end: within 1970–9999, which every layer (ISO 8601 text, the driver's
    /// timestamp format, PostgreSQL's range) represents the same way.
    static func expiry(_ date: Date) throws -> Date {
        guard (0...253_402_300_799).contains(date.timeIntervalSince1970) else {
            throw PartnerError.validation("expires_at must be between 1970-01-01 and 9999-12-31")
        }
        return date
    }

    /// A renewal must not carry an expiry past 9999-12-31 (the last instant every client and
    /// PostgreSQL print with a four-digit year).
    static func renewal(from expiresAt: Date?, months: Int) throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = expiresAt ?? Date()
        guard let end = calendar.date(byAdding: .month, value: months, to: start), end.timeIntervalSince1970 <= 253_402_300_799
        else { throw PartnerError.validation("the renewal would run past 9999-12-31") }
        // The new term runs on from the old expiry (DESIGN §9): it must reach the future.
        guard end > Date() else {
            throw PartnerError.validation("a renewal of \(months) month(s) from the old expiry would still end in the past; renew for longer")
        }
    }

    static func termMonths(_ months: Int?) throws -> Int {
        guard let months, (1...60).contains(months) else {
            throw PartnerError.validation("term_months must be between 1 and 60")
        }
        return months
    }

    /// A money amount or price as a decimal string: digits, optionally a point and up to
    /// `fractionDigits` more, at most 14 before the point (what numeric(20, 6) holds). A
    /// string, not a JSON number, so no binary floating point ever touches it.
    static func decimal(_ text: String?, field: String, fractionDigits: Int, positive: Bool = false) throws -> String {
        let message = "\(field) must be a decimal string such as \"12.50\", with at most 14 digits before the point and \(fractionDigits) after it"
        guard let text else { throw PartnerError.validation("\(field) is required") }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let isDigit = { (c: Character) in c.isASCII && c.isNumber }
        guard (1...14).contains(parts[0].count), parts[0].allSatisfy(isDigit) else { throw PartnerError.validation(message) }
        if parts.count == 2 {
            guard (1...fractionDigits).contains(parts[1].count), parts[1].allSatisfy(isDigit) else {
                throw PartnerError.validation(message)
            }
        }
        if positive, !text.contains(where: { $0 != "0" && $0 != "." }) {
            throw PartnerError.validation("\(field) must be greater than 0")
        }
        return text
    }
}
