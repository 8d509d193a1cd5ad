import Foundation

extension UUID {
    /// A version 4 UUID from the system's random source (`getrandom`).
    ///
    /// Foundation's `UUID()` on Linux opens and reads `/dev/urandom` for every id; orders,
    /// resources and request ids are made on every purchase, and that file open showed up in
    /// profiles of the buy path.
    public static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        var bytes = (generator.next() as UInt64, generator.next() as UInt64)
        return withUnsafeMutableBytes(of: &bytes) { raw in
            raw[6] = (raw[6] & 0x0F) | 0x40  // version 4
            raw[8] = (raw[8] & 0x3F) | 0x80  // RFC 4122 variant
            return UUID(uuid: raw.load(as: uuid_t.self))
        }
    }
}
