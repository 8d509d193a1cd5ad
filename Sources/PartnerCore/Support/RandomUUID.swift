import Foundation
import Synchronization

#if os(Linux)
import CRandom
#endif

extension UUID {
    /// A version 4 UUID from the system's random source, through `RandomBytes`.
    ///
    /// Foundation's `UUID()` on Linux opens and reads `/dev/urandom` for every id; orders,
    /// resources and request ids are made on every purchase, and that file open showed up in
    /// profiles of the buy path.
    public static func random() -> UUID {
        var bytes = RandomBytes.shared.next16()
        return withUnsafeMutableBytes(of: &bytes) { raw in
            raw[6] = (raw[6] & 0x0F) | 0x40  // version 4
            raw[8] = (raw[8] & 0x3F) | 0x80  // RFC 4122 variant
            return UUID(uuid: raw.load(as: uuid_t.self))
        }
    }
}

/// The kernel's random bytes (`getrandom`), fetched 4 KiB at a time and handed out 16 at a
/// time, each byte once. What it hands out becomes a public id, so nothing is wiped.
///
/// Why: a purchase makes three ids (the request's, the resource's, the order's), and the
/// standard library's generator asks the kernel for 8 bytes per call, so every buy cost six
/// `getrandom` system calls (strace of the buy under load: 5.9 per request). From this
/// buffer it costs one every 85 buys. The bytes are the kernel's CSPRNG output either way;
/// they only wait in memory a little longer. Secrets (API keys, webhook secrets, codes) do
/// not come from here: they keep their own generator.
final class RandomBytes: Sendable {
    static let shared = RandomBytes()

    private struct Buffer {
        var bytes = [UInt8](repeating: 0, count: 4096)
        /// Bytes before this offset have been handed out.
        var offset = 4096
    }

    private let buffer = Mutex(Buffer())

    /// 16 bytes no other caller gets.
    func next16() -> (UInt64, UInt64) {
        buffer.withLock { buffer in
            if buffer.offset + 16 > buffer.bytes.count {
                Self.fill(&buffer.bytes)
                buffer.offset = 0
            }
            let offset = buffer.offset
            buffer.offset += 16
            return buffer.bytes.withUnsafeBytes { raw in
                (raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self), raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
            }
        }
    }

    /// Fills `bytes` from the kernel, asking again after a short read; if `getrandom` fails,
    /// the standard library's generator (which traps rather than return weak bytes) fills
    /// the rest, 8 bytes a draw.
    private static func fill(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { raw in
            var filled = 0
            #if os(Linux)
            while filled < raw.count {
                let count = getrandom(raw.baseAddress! + filled, raw.count - filled, 0)
                guard count > 0 else { break }
                filled += count
            }
            #endif
            var generator = SystemRandomNumberGenerator()
            while filled < raw.count {
                let word: UInt64 = generator.next()
                let count = min(8, raw.count - filled)
                withUnsafeBytes(of: word) { raw.baseAddress!.advanced(by: filled).copyMemory(from: $0.baseAddress!, byteCount: count) }
                filled += count
            }
        }
    }
}
