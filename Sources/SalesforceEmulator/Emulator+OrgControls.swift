/// In-process counterparts of the admin calls for the org's identity, limits and page faults, for tests that hold
/// the emulator (end-to-end tests of sfpg use these instead of HTTP).
extension Emulator {
    /// The org's 18-character Id, as the token response's `id` URL and userinfo name it.
    public var organizationId: String { router.tokens.orgId18 }

    /// A sandbox refresh: same data, a new org Id; every session of the old org ends. Returns the new Id.
    @discardableResult
    public func refreshOrg() -> String {
        router.tokens.changeOrgId()
        return router.tokens.orgId18
    }

    /// Results pages of `job` served whole so far.
    public func pagesServed(job: String) -> Int { router.pagesServed.withLock { $0[job, default: 0] } }

    /// The next `count` results requests of a job already served `afterPages` pages get their connection closed.
    public func killConnection(afterPages: Int, count: Int = 1) {
        router.killConnection(afterPages: afterPages, count: count)
    }

    /// Every daily allowance (`DailyApiRequests`, `DailyBulkV2QueryJobs`, `DailyBulkV2QueryFileStorageMB`) back to
    /// full.
    public func resetDailyLimits() { router.usage.withLock { $0 = Router.Usage() } }

    /// Sets how much of a daily allowance is left (`name` as in `/limits`); false for an unknown name.
    @discardableResult
    public func setRemaining(_ remaining: Int, of name: String) -> Bool {
        router.setAllowance(name, max: nil, remaining: remaining)
    }
}
