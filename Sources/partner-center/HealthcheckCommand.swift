import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `partner-center healthcheck`: asks the local server's `/readyz` (DESIGN §11) and exits 0
/// when it answers 200, 1 otherwise — the container's health check, which needs no shell,
/// curl or bash's `/dev/tcp` in the image. A plain HTTP/1.0 exchange over a loopback socket,
/// with a timeout.
struct HealthcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck", abstract: "Exit 0 when the local server is ready (GET /readyz answers 200).")

    @Option(help: "The server's port (default: $PORT or 8080).")
    var port: Int?

    @Option(help: "Seconds to wait for the answer.")
    var timeout = 3

    func run() throws {
        let portNumber = try port ?? ProcessInfo.processInfo.environment.wholeNumber("PORT") ?? 8080
        guard (1...65_535).contains(portNumber) else { throw ValidationError("the port must be between 1 and 65535") }
        let status = Self.readyStatus(port: UInt16(portNumber), timeoutSeconds: timeout)
        guard status == 200 else {
            FileHandle.standardError.write(Data("not ready: \(status.map { "HTTP \($0)" } ?? "no answer")\n".utf8))
            throw ExitCode.failure
        }
    }

    /// The status code of `GET /readyz` on 127.0.0.1:`port`, or nil when nothing answered.
    static func readyStatus(port: UInt16, timeoutSeconds: Int) -> Int? {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { return nil }
        defer { close(socketFD) }
        var limit = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socketFD, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard send(socketFD, request, request.count, 0) == request.count else { return nil }
        var answer = [UInt8](repeating: 0, count: 64)
        var received = 0
        while received < 12 {
            let count = answer.withUnsafeMutableBytes { recv(socketFD, $0.baseAddress! + received, 64 - received, 0) }
            guard count > 0 else { break }
            received += count
        }
        // "HTTP/1.1 200 …"
        let statusLine = String(decoding: answer.prefix(received), as: UTF8.self).split(separator: " ")
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/") else { return nil }
        return Int(statusLine[1])
    }
}
