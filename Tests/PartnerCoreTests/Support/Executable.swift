import Foundation

/// Runs the built `partner-center` with `arguments` and no database (DATABASE_URL unset),
/// plus `environment`; its exit status, standard output and standard error. For commands
/// that end at once with little output (both pipes are read after it exits).
func runExecutable(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (
    status: Int32, output: String, errors: String
) {
    let process = Process()
    process.executableURL = try SweepCrashTests.executable()
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["DATABASE_URL"] = nil
    environment.merge(extra) { $1 }
    process.environment = environment
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // A command that should have refused its settings but started instead (a server) would
    // otherwise keep the test waiting for good.
    let deadline = Date().addingTimeInterval(30)
    while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    if process.isRunning {
        process.terminate()
        process.waitUntilExit()
        throw StillRunning(arguments: arguments)
    }
    func text(_ pipe: Pipe) -> String { String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
    return (process.terminationStatus, text(output), text(errors))
}

/// The executable was still running 30 s after it started, and was stopped.
struct StillRunning: Error, CustomStringConvertible {
    let arguments: [String]
    var description: String { "partner-center \(arguments.joined(separator: " ")) was still running after 30 s" }
}
