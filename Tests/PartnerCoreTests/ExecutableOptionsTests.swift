import Foundation
import Testing

/// Settings the executable cannot use are refused at start, with a message that names the
/// allowed values, before any database or port is touched.
@Suite("The executable's options")
struct ExecutableOptionsTests {
    /// Runs `partner-center ARGS` without a database; its exit status and standard error.
    static func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = try SweepCrashTests.executable()
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = nil
        environment.merge(extra) { $1 }
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test(arguments: [
        (["serve", "--log-level", "loud"], [String: String]()),
        (["serve"], ["LOG_LEVEL": "verbose"]),
        (["deliver-webhooks", "--once"], ["LOG_LEVEL": "chatty"]),
    ])
    func anUnknownLogLevelIsRefused(arguments: [String], environment: [String: String]) throws {
        let (status, errors) = try Self.run(arguments, environment: environment)
        #expect(status != 0)
        #expect(errors.contains("the log level must be one of trace, debug, info, notice, warning, error, critical"), "\(errors)")
    }
}
