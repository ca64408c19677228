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
                Prints the job file, then the SQL. Text fields become text, ids varchar(18), numbers numeric(p, s),
                multipicklists text[]; compound (address, location) and base64 fields are left out with a comment.
                Examples:
                  sfpg describe Invoice__c                                  # print both
                  sfpg describe Invoice__c --write-job jobs/invoices.yaml --apply && sfpg run invoices
                  sfpg describe Contact --fields FirstName,Email --table crm.contacts
                  sfpg describe Contact --table public.salesforce_contacts --alter   # ADD COLUMN for new fields
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

        @Option(help: "Write the job file here instead of printing it.")
        var writeJob: String?

        @Flag(help: "Execute the CREATE TABLE on the database instead of printing it.")
        var apply = false

        @Flag(help: "Print ALTER TABLE … ADD COLUMN for the fields the existing table lacks, and the job lines to add.")
        var alter = false

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if all && fields != nil { throw ValidationError("--fields and --all exclude each other") }
            if alter && (apply || writeJob != nil) { throw ValidationError("--alter only prints; drop --apply and --write-job") }
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
                if alter {
                    let connection = try global.connect()
                    guard let (sql, lines) = try design.alterPlan(connection) else {
                        throw SyncError(
                            "table \(design.table) does not exist; run without --alter to create it", reason: .schema)
                    }
                    if sql.isEmpty {
                        say("-- \(design.table) has a column for every selected field of \(design.object)")
                    } else {
                        say(sql + "-- and map them in the job file under fields:\n" + lines.map { "-- " + $0 }.joined(separator: "\n"))
                    }
                    return
                }
                if let writeJob {
                    try design.jobYAML.write(toFile: writeJob, atomically: true, encoding: .utf8)
                    Console.write(.notice, "wrote \(writeJob)")
                } else {
                    say(design.jobYAML)
                }
                if apply {
                    let connection = try global.connect()
                    switch try design.apply(connection) {
                    case .created: Console.write(.notice, "created \(design.table.displayName)")
                    case .alreadyPresent:
                        Console.write(.notice, "\(design.table.displayName) already exists with every designed column; nothing changed")
                    }
                } else {
                    say(design.createTableSQL)
                }
            } catch let error as ValidationError {
                throw error
            } catch {
                throw failureExit(error)
            }
        }
    }
}
