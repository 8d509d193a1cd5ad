import Foundation
import Testing

/// Settings the executable cannot use are refused at start, with a message that names the
/// allowed values, before any database or port is touched.
@Suite("The executable's options")
struct ExecutableOptionsTests {
    @Test(arguments: [
        (["serve", "--log-level", "loud"], [String: String]()),
        (["serve"], ["LOG_LEVEL": "verbose"]),
        (["deliver-webhooks", "--once"], ["LOG_LEVEL": "chatty"]),
    ])
    func anUnknownLogLevelIsRefused(arguments: [String], environment: [String: String]) throws {
        let (status, _, errors) = try runExecutable(arguments, environment: environment)
        #expect(status != 0)
        #expect(errors.contains("the log level must be one of trace, debug, info, notice, warning, error, critical"), "\(errors)")
    }
}
