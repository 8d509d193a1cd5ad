import Foundation
import Testing

/// `partner-center --version` prints the committed version string and exits 0, without a
/// database.
@Suite("The executable's version")
struct ExecutableVersionTests {
    @Test func versionFlagPrintsTheVersion() throws {
        let process = Process()
        process.executableURL = try SweepCrashTests.executable()
        process.arguments = ["--version"]
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = nil
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0)
        let version = text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(version.range(of: #"^\d+\.\d+\.\d+(-[a-z0-9.]+)?$"#, options: .regularExpression) != nil)
    }
}
