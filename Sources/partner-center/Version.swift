/// The release this source tree is, printed by `partner-center --version`. Committed, not
/// generated: a build from a tarball without git history reports the same string. Raised
/// with each release; `-dev` while the next one is being built.
enum PartnerCenterVersion {
    static let string = "0.2.0-dev"
}
