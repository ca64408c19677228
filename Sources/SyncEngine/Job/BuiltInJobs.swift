/// The contacts job that `sfpg demo` runs, identical to `jobs/contacts.yaml` (a test keeps them equal), so the demo
/// works from any directory.
extension JobDefinition {
    public static let builtInContactsYAML = """
# Contacts → public.salesforce_contacts, the table the Node.js tutorial's users already have.
# sfpg migrate creates the table (sql/); the Salesforce field on the left, the column on the right.
object: Contact
table: public.salesforce_contacts
fields:
  Id: salesforce_id
  FirstName: first_name
  LastName: last_name
  Email: email
  Phone: phone
  AccountId: account_id
  Title: title
  Department: department
  CreatedDate: created_date
  LastModifiedDate: last_modified_date
  SystemModstamp: system_modstamp
  IsDeleted: is_deleted
key: Id
watermark: SystemModstamp
# soft: a deleted record stays with is_deleted = true and deleted_at set; hard: the row is removed.
deletes: soft
# An incremental run re-reads this far behind the watermark (records committed late are not missed).
overlap: 5m

"""

    public static func builtInContacts() throws -> JobDefinition {
        try parse(yaml: builtInContactsYAML, name: "contacts", file: "jobs/contacts.yaml (built in)")
    }
}
