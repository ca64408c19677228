import Logging
import PostgresLoader
import SalesforceClient

/// Keeps a job's table to the org it was read from.
///
/// A job's watermark and keys mean something only in the org that produced them: after a sandbox refresh (same
/// data, new org Id, modstamps reset) or with a wrong `SF_LOGIN_URL`, an incremental run would skip everything
/// and a full run would sweep the whole table. So the org Id is recorded with the job's state when a run commits,
/// and a run whose session belongs to another org is refused, inside the job's lock and before any Bulk job.
/// `--full --accept-new-org` re-reads the new org into the same table instead, its sweep bound lifted (every key
/// may change in a refresh that renumbers Ids), and its commit records the new org Id.
struct OrgCheck {
    let client: SalesforceClient
    let logger: Logger

    /// The options the run goes on with (the sweep bound lifted for an accepted new org).
    /// - Throws: ``SyncError`` (exit 2, reason ``ExitReason/orgChanged``) when the org differs and the run may not
    ///   replace it; whatever authenticating throws.
    func check(_ job: JobDefinition, state: JobState, options: SyncOptions) throws -> SyncOptions {
        let current = try client.organizationId()
        var checked = options
        checked.checkedOrg = current
        guard let recordedId = state.orgId else { return checked }  // first run: its commit records the org
        let recorded = OrganizationId(recordedId)
        guard !recorded.sameOrg(as: current) else { return checked }
        guard options.acceptNewOrg, options.mode == .full else {
            throw SyncError(
                "job '\(job.name)': table \(job.table) was read from org \(recorded), but this session belongs to org "
                    + "\(current) (a refreshed sandbox, or another SF_LOGIN_URL?). Nothing was run. If the new org is "
                    + "the right one, re-read it into the table: sfpg run \(job.name) --full --accept-new-org",
                reason: .orgChanged)
        }
        logger.warning(
            "org changed: re-reading the new org into the table, sweep bound lifted",
            metadata: ["sf.org_before": "\(recorded)", "sf.org": "\(current)"])
        checked.allowMassDelete = true
        return checked
    }

    /// The org Id a run's commit records: the one checked before its Bulk jobs, provided the session (which may have
    /// logged in again mid-run) still belongs to it. A run whose org changed under it (a sandbox refresh while it
    /// ran) read some of its records from each; it is refused rather than recorded as the new org's.
    /// - Throws: ``SyncError`` (exit 2, reason ``ExitReason/orgChanged``) when the org changed during the run.
    func stillIn(_ checked: OrganizationId?) throws -> String? {
        guard let checked else { return nil }  // a pass not started through ``check(_:state:options:)``
        let current = try client.organizationId()
        guard checked.sameOrg(as: current) else {
            throw SyncError(
                "the Salesforce session moved from org \(checked) to org \(current) during the run (a sandbox "
                    + "refresh?); nothing was committed. Run again: the next run checks the org first.",
                reason: .orgChanged)
        }
        return checked.value
    }
}
