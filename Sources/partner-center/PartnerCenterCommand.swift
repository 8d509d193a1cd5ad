import ArgumentParser

/// The one executable: the HTTP backend, the schema tool and the cron-run jobs share one
/// bootstrap (configuration from flags and environment, one database client).
@main
struct PartnerCenterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partner-center",
        abstract: "PartnerCenter: restrict customers' purchases and freeze their resources.",
        version: PartnerCenterVersion.string,
        subcommands: [
            ServeCommand.self, MigrateCommand.self, RetentionSweepCommand.self, SettleBudgetsCommand.self, DeliverWebhooksCommand.self, APIKeyCommand.self,
            SeedDemoCommand.self, HealthcheckCommand.self, PrintSQLCommand.self,
        ]
    )
}
