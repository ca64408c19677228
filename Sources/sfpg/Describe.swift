import ArgumentParser
import Foundation
import PostgresLoader
import SalesforceClient
import SyncEngine

extension Sfpg {
    struct Describe: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Design a job file and its CREATE TABLE from Salesforce's describe of an object.",
            discussion: """
                Prints the job file, then the SQL. Text fields become text, ids varchar(18), numbers numeric,
                multipicklists text[]; compound (address, location) and base64 fields are left out with a comment.
                With --write-job, writes the job file and <job>.sql beside it (what 'sfpg migrate' applies),
                creating the directory; an existing file needs --force. Everything is checked before anything is
                written: an existing table of another shape fails (exit 2) and nothing changes.
                Examples:
                  sfpg describe Invoice__c                                  # print both
                  sfpg describe Invoice__c --write-job jobs/invoices.yaml --apply && sfpg run invoices
                  sfpg describe Contact --fields FirstName,Email --table crm.contacts
                  sfpg describe Contact --table public.salesforce_contacts --alter   # ADD COLUMN for new fields
                  sfpg describe Contact --table public.salesforce_contacts --alter --apply
                """
        )

        @Argument(help: "The object's API name, e.g. Contact or Invoice__c.")
        var object: String

        @Option(help: "Comma-separated fields to include (Id, SystemModstamp and IsDeleted always are). Default: all.")
        var fields: String?

        @Flag(help: "Include every field Bulk queries can select (the default).")
        var all = false

        @Option(help: "Target table, optionally schema-qualified. Default: public.salesforce_<object>.")
        var table: String?

        @Option(help: "Write the job file here (its directory is created) and the table's DDL beside it as <job>.sql, which 'sfpg migrate' applies.")
        var writeJob: String?

        @Flag(help: "Overwrite an existing job file and <job>.sql with --write-job.")
        var force = false

        @Flag(help: "Execute the DDL (CREATE SCHEMA, CREATE TABLE; with --alter the ALTER TABLE) on the database instead of printing it.")
        var apply = false

        @Flag(help: "Print ALTER TABLE … ADD COLUMN for the fields the existing table lacks, and the job lines to add.")
        var alter = false

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if all && fields != nil { throw ValidationError("--fields and --all exclude each other") }
            if alter && writeJob != nil { throw ValidationError("--alter changes an existing job's table: drop --write-job") }
            if let writeJob, !(writeJob.hasSuffix(".yaml") || writeJob.hasSuffix(".yml")) {
                throw ValidationError("--write-job needs a .yaml or .yml file name (sfpg reads only those)")
            }
        }

        func run() throws {
            _ = global.makeLogger()
            do {
                let configuration = try Settings.process.salesforce()
                let description = try SalesforceClient(configuration: configuration).describe(object)
                let target = try table.map { name in
                    do { return try TableName(parsing: name) } catch {
                        throw ValidationError("'\(name)' is not a table name; write table or schema.table")
                    }
                }
                let selected = fields?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                let design = try TableDesign(description: description, fields: selected, table: target)
                if alter { try runAlter(design) } else { try runCreate(design) }
            } catch let error as ValidationError {
                throw error
            } catch {
                throw failureExit(error)
            }
        }

        func runAlter(_ design: TableDesign) throws {
            guard let (sql, lines) = try design.alterPlan(try global.connect(), apply: apply) else {
                throw SyncError("table \(design.table) does not exist; run without --alter to create it", reason: .schema)
            }
            if sql.isEmpty {
                say("-- \(design.table) has a column for every selected field of \(design.object)")
                return
            }
            say((apply ? "-- applied:\n" : "") + sql + "-- and map them in the job file under fields:\n"
                + lines.map { "-- " + $0 }.joined(separator: "\n"))
        }

        /// Every check first (files, database, the table's shape), then the directory, the files, the schema and
        /// the table: a failure leaves nothing half-written.
        func runCreate(_ design: TableDesign) throws {
            if let writeJob { try TableDesign.checkJobFiles(at: writeJob, force: force) }
            let connection = apply ? try global.connect() : nil
            if let connection { _ = try design.checkApply(connection) }
            if let writeJob {
                for path in try design.writeJobFiles(to: writeJob) { Console.write(.notice, "wrote \(path)") }
            } else {
                say(design.jobYAML)
            }
            guard let connection else { return say(design.ddl) }
            switch try design.apply(connection) {
            case .created: Console.write(.notice, "created \(design.table.displayName)")
            case .alreadyPresent:
                Console.write(.notice, "\(design.table.displayName) already exists with every designed column; nothing changed")
            }
        }
    }
}
