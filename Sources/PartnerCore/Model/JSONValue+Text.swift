import Postgres

extension JSONValue {
    /// The value as compact JSON text, object keys sorted (equal values give equal bytes):
    /// the text Foundation's `JSONEncoder` wrote for it, without an encoder and its tree of
    /// boxed values per value. Every buy writes its spec and every change its audit details.
    /// A number that is not finite has no JSON form and throws, as the encoder did.
    public func jsonText() throws -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        try write(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private func write(to bytes: inout [UInt8]) throws {
        switch self {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let value): bytes.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let value):
            guard let text = JSONText.number(value) else { throw PartnerError.validation("\(value) is not a JSON number") }
            bytes.append(contentsOf: text.utf8)
        case .string(let value): JSONText.appendString(value, to: &bytes)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                try item.write(to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                JSONText.appendString(key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                try members[key]!.write(to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }
}

/// JSON text pieces shared by the writers of this project (`JSONValue.jsonText()`, the
/// API's streaming encoder), so that strings are escaped one way.
public enum JSONText {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// A whole number small enough to be exact in a `Double` (below 9e15), as an integer:
    /// written as `4`, not `4.0`.
    public static func wholeNumber(_ value: Double) -> Int64? {
        value.rounded() == value && abs(value) < 9e15 ? Int64(value) : nil
    }

    /// A number's JSON text, whole numbers as integers; nil for NaN and infinities, which
    /// JSON cannot express.
    public static func number(_ value: Double) -> String? {
        guard value.isFinite else { return nil }
        return wholeNumber(value).map { String($0) } ?? "\(value)"
    }

    /// Appends `text` as a JSON string: quoted, with `"`, `\` and control characters escaped.
    public static func appendString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), byte])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension PostgresJSON {
    /// A JSON value bound as `jsonb`.
    init(_ value: JSONValue) throws {
        self.init(text: try value.jsonText())
    }
}
