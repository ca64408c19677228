import Foundation

/// Where job files live when no `--jobs-directory` is given: `$SFPG_JOBS_DIR` (the container image sets
/// `/etc/sfpg/jobs`), else `jobs` in the working directory.
enum JobsDirectory {
    static var defaultPath: String {
        Settings.process.jobsDirectory
    }

    static let help = "Directory of job files (default: $SFPG_JOBS_DIR, else ./jobs)."
}
