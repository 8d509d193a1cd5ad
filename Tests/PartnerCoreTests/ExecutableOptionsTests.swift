import Foundation
import Testing

/// Settings the executable cannot use are refused at start, with a message that names the
/// setting and what it allows, before any database or port is touched.
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

    /// A number setting that is not a whole number used to fall back to its default.
    @Test(arguments: [
        (["serve"], ["PORT": "80a"], "PORT"),
        (["serve"], ["WEBHOOK_WORKERS": "1.5"], "WEBHOOK_WORKERS"),
        (["serve"], ["DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "DATABASE_POOL_SIZE": "1 6"], "DATABASE_POOL_SIZE"),
        (["deliver-webhooks", "--once"], ["WEBHOOK_WORKERS": "two"], "WEBHOOK_WORKERS"),
        (["healthcheck"], ["PORT": ""], "PORT"),
        (["retention-sweep"], ["OUTBOX_RETENTION_DAYS": "30d"], "OUTBOX_RETENTION_DAYS"),
    ])
    func aNumberSettingThatIsNotAWholeNumberIsRefused(arguments: [String], environment: [String: String], name: String) throws {
        let (status, _, errors) = try runExecutable(arguments, environment: environment)
        #expect(status != 0)
        #expect(errors.contains("\(name) must be a whole number"), "\(errors)")
    }
}
