import Foundation

/// Input rules shared by the services, so that each is written once.
enum Validate {
    /// A reason: 1–256 characters after trimming (`reason_required` when absent or blank).
    ///
    /// Characters are counted as Unicode scalars, as the database's `length()` counts them:
    /// counting Swift `Character`s let "é" written as e + U+0301 pass here and then break the
    /// CHECK constraint (a 5xx instead of a 422). NUL is refused because PostgreSQL text
    /// cannot hold it (libpq would cut the reason short at it).
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

    /// A display name: 1–200 characters (Unicode scalars, as the CHECK counts) after trimming.
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
    static func retention(_ seconds: Int) throws -> Int {
        guard (0...31_536_000).contains(seconds) else {
            throw PartnerError.validation("retention_seconds must be between 0 and 31536000 (365 days)")
        }
        return seconds
    }

    /// 1–64 ASCII letters, digits and `. _ - /`, without surrounding blanks.
    static func resourceType(_ type: String?) throws -> String {
        let trimmed = (type ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed == (type ?? ""), (1...64).contains(trimmed.unicodeScalars.count),
            trimmed.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-/".unicodeScalars.contains($0)) })
        else {
            throw PartnerError.validation("type must be 1 to 64 letters, digits or . _ - /")
        }
        return trimmed
    }

    static func termMonths(_ months: Int?) throws -> Int {
        guard let months, (1...60).contains(months) else {
            throw PartnerError.validation("term_months must be between 1 and 60")
        }
        return months
    }
}
