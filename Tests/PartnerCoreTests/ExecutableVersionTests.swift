import Foundation
import Testing

/// `partner-center --version` prints the committed version string and exits 0, without a
/// database.
@Suite("The executable's version")
struct ExecutableVersionTests {
    @Test func versionFlagPrintsTheVersion() throws {
        let (status, output, _) = try runExecutable(["--version"])
        #expect(status == 0)
        let version = output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(version.range(of: #"^\d+\.\d+\.\d+(-[a-z0-9.]+)?$"#, options: .regularExpression) != nil)
    }
}
