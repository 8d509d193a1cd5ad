import Foundation

/// UUID text without Foundation's formatter and parser (`uuid_unparse`, `sscanf`): ids are
/// read from every row and every request path, and the C routines showed up in profiles.
///
/// `package`, not `public`: the driver's own encoders use them, and so does the rest of this
/// package (the one UUID form it writes is lowercase, RFC 9562 §4); an extension on
/// Foundation's type is not part of the driver's API.
extension UUID {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The canonical lowercase text form, written without Foundation's formatter.
    package var lowercasedString: String {
        let digits = Self.hexDigits
        return withUnsafeBytes(of: uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { out in
                var position = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    out[position] = digits[Int(raw[index] >> 4)]
                    out[position + 1] = digits[Int(raw[index] & 0x0F)]
                    position += 2
                }
                return position
            }
        }
    }

    /// Parses the canonical 36-character form (either case), as `UUID(uuidString:)` does,
    /// without its `sscanf`: path ids are parsed on every request.
    package static func parse(_ text: String) -> UUID? {
        parse(Substring(text))
    }

    package static func parse(_ text: Substring) -> UUID? {
        var text = text
        return text.withUTF8 { utf8 -> UUID? in
            guard utf8.count == 36 else { return nil }
            var bytes = (UInt64(0), UInt64(0))
            let parsed = withUnsafeMutableBytes(of: &bytes) { raw -> Bool in
                var position = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        guard utf8[position] == UInt8(ascii: "-") else { return false }
                        position += 1
                    }
                    guard let high = hexNibble(utf8[position]), let low = hexNibble(utf8[position + 1]) else { return false }
                    raw[index] = high << 4 | low
                    position += 2
                }
                return true
            }
            guard parsed else { return nil }
            return withUnsafeBytes(of: &bytes) { UUID(uuid: $0.load(as: uuid_t.self)) }
        }
    }
}

/// The value of one hex digit (either case), or nil.
func hexNibble(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
