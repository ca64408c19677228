"""Drive the Salesforce emulator with simple-salesforce, unchanged, the way a user's CI would.

The emulator must be running with --tls; its printed exports must be in the environment (SF_LOGIN_URL, SF_CLIENT_ID,
SF_CLIENT_SECRET, SF_USERNAME, SF_PASSWORD, SF_SECURITY_TOKEN, REQUESTS_CA_BUNDLE). CONTACTS is the generated count.

Login: simple-salesforce's default (username/password/security_token) is the SOAP login on
https://{domain}.salesforce.com, a host that cannot be pointed at a local server without rewriting URLs. So this
uses its other documented constructor, Salesforce(instance_url=..., session_id=...), with a session from the OAuth
2.0 username-password flow (POST /services/oauth2/token), which works the same against a real org.
"""

import csv
import datetime
import io
import os
import re
import sys
import tempfile

import requests
from simple_salesforce import Salesforce

CONTACTS = int(os.environ.get("CONTACTS", "2000"))
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def csv_rows(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


login = os.environ["SF_LOGIN_URL"]
check(login.startswith("https://"), "the emulator serves https (instance_url must be https like Salesforce's)")
token = requests.post(
    login + "/services/oauth2/token",
    data={
        "grant_type": "password",
        "client_id": os.environ["SF_CLIENT_ID"],
        "client_secret": os.environ["SF_CLIENT_SECRET"],
        "username": os.environ["SF_USERNAME"],
        "password": os.environ["SF_PASSWORD"] + os.environ["SF_SECURITY_TOKEN"],
    },
    timeout=30,
)
token.raise_for_status()
session = token.json()
check(session["instance_url"].startswith("https://"), "token response: instance_url is https")
sf = Salesforce(instance_url=session["instance_url"], session_id=session["access_token"], version="62.0")

# Bulk API 2.0: query (pages chained by Sforce-Locator; a small maxRecords forces several pages).
pages = list(sf.bulk2.Contact.query("SELECT Id, LastName, Score__c, Lifetime_Value__c, Owner.Name FROM Contact", max_records=700))
check(len(pages) == (CONTACTS + 699) // 700, f"bulk2 query: {len(pages)} pages of at most 700 rows")
ids = []
numbers = []
for page in pages:
    header, rows = csv_rows(page)
    check(header == ["Id", "LastName", "Score__c", "Lifetime_Value__c", "Owner.Name"], "bulk2 query: header row on every page")
    ids += [r[0] for r in rows]
    numbers += [v for r in rows for v in (r[2], r[3]) if v]
    check(all(r[4] for r in rows), "bulk2 query: every Owner.Name is set")
check(len(ids) == CONTACTS and len(set(ids)) == CONTACTS, f"bulk2 query: {len(ids)} distinct rows")
check(all(re.fullmatch(r"-?\d+\.\d+(E-?\d+)?", v) for v in numbers), "bulk2 query: numbers are Java doubles (d.d or d.dE±n)")
check(any("E" in v for v in numbers), "bulk2 query: large currency values use E notation (1.2345678E7)")

# Bulk API 2.0: download to files, and queryAll after a delete made through the admin API.
with tempfile.TemporaryDirectory() as directory:
    results = sf.bulk2.Contact.download("SELECT Id FROM Contact", path=directory, max_records=1000)
    total = sum(r["number_of_records"] for r in results)
    check(total == CONTACTS, f"bulk2 download: {total} records in {len(results)} files")
    rows = 0
    for r in results:
        with open(r["file"], newline="", encoding="utf-8") as f:
            rows += len(list(csv.reader(f))) - 1
    check(rows == CONTACTS, "bulk2 download: the files hold every row")

admin = login + "/__emulator"
victim = ids[0]
requests.post(f"{admin}/records/Contact/{victim}/delete", json={}, timeout=30).raise_for_status()
visible = sum(len(csv_rows(p)[1]) for p in sf.bulk2.Contact.query("SELECT Id FROM Contact"))
check(visible == CONTACTS - 1, f"bulk2 query hides the deleted record ({visible})")
everything = [row for p in sf.bulk2.Contact.query_all("SELECT Id, IsDeleted FROM Contact") for row in csv_rows(p)[1]]
check(len(everything) == CONTACTS, "bulk2 query_all includes the deleted record")
check([r[1] for r in everything if r[0] == victim] == ["true"], "bulk2 query_all: IsDeleted is true for it")

# REST query / query_all (nextRecordsUrl paging, 2000 records per batch).
first = sf.query("SELECT Id, Name, Account.Name, Score__c, Is_VIP__c FROM Contact")
check(first["totalSize"] == CONTACTS - 1 and len(first["records"]) == min(2000, CONTACTS - 1), "REST query: first batch of 2000")
check(first["done"] == (CONTACTS - 1 <= 2000), "REST query: done flag")
record = first["records"][0]
check(record["attributes"]["type"] == "Contact" and record["attributes"]["url"].endswith(record["Id"]), "REST query: attributes {type,url}")
check(isinstance(record["Is_VIP__c"], bool), "REST query: booleans are JSON booleans")
everyone = sf.query_all("SELECT Id FROM Contact")
check(everyone["totalSize"] == CONTACTS - 1 and len(everyone["records"]) == CONTACTS - 1, "REST query_all follows nextRecordsUrl")
with_deleted = sf.query_all("SELECT Id FROM Contact", include_deleted=True)
check(len(with_deleted["records"]) == CONTACTS, "REST queryAll includes the deleted record")
some = sf.query("SELECT Id FROM Contact WHERE Id IN ('%s', '%s')" % (ids[1][:15], ids[2]))
check(sorted(r["Id"] for r in some["records"]) == sorted([ids[1], ids[2]]), "REST query: 15-character Ids match their records")

# Describe, basic info, record, limits.
describe = sf.Contact.describe()
fields = {f["name"]: f for f in describe["fields"]}
check(fields["Id"]["byteLength"] == 18 and fields["Score__c"]["type"] == "double", "describe: Id byteLength 18, custom numbers double")
check(any(t["master"] for t in describe["recordTypeInfos"]), "describe: Master record type")
check(sf.Contact.metadata()["objectDescribe"]["keyPrefix"] == "003", "sobjects/Contact basic info")
one = sf.Contact.get(ids[3])
check(one["Id"] == ids[3] and "LastName" in one, "record GET by Id")
limits = sf.limits()
check(limits["DailyApiRequests"]["Max"] > limits["DailyApiRequests"]["Remaining"], "limits: DailyApiRequests counts calls")

# deleted / updated (windows relative to the emulator's clock, which runs on wall time here).
now = datetime.datetime.now(datetime.timezone.utc)
requests.patch(f"{admin}/records/Contact/{ids[5]}", json={"fields": {"Title": "Changed by conformance"}}, timeout=30).raise_for_status()
later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
start = now - datetime.timedelta(hours=1)
deleted = sf.Contact.deleted(start, later)
check([d["id"] for d in deleted["deletedRecords"]] == [victim], "sobjects/Contact/deleted lists the deletion")
updated = sf.Contact.updated(start, later)
check(ids[5] in updated["ids"] and victim not in updated["ids"], "sobjects/Contact/updated lists the change")

# Aggregate SOQL over REST: simple-salesforce's sf.query sends SELECT COUNT() as it is.
count = sf.query("SELECT COUNT() FROM Contact")
check(count["totalSize"] == CONTACTS - 1 and count["records"] == [] and count["done"], "REST query: SELECT COUNT() answers totalSize alone")
grouped = sf.query("SELECT LeadSource, COUNT(Id) n FROM Contact GROUP BY LeadSource")
check(all(r["attributes"] == {"type": "AggregateResult"} for r in grouped["records"]), "REST aggregate: AggregateResult records without url")
check(sum(r["n"] for r in grouped["records"]) == CONTACTS - 1, "REST aggregate: GROUP BY LeadSource counts every live record")
by_month = sf.query(
    "SELECT CALENDAR_YEAR(SystemModstamp), CALENDAR_MONTH(SystemModstamp), COUNT(Id) FROM Contact "
    "GROUP BY CALENDAR_YEAR(SystemModstamp), CALENDAR_MONTH(SystemModstamp)"
)
check(all(set(r) == {"attributes", "expr0", "expr1", "expr2"} for r in by_month["records"]), "REST aggregate: unaliased expressions are expr0, expr1, expr2")
check(sum(r["expr2"] for r in by_month["records"]) == CONTACTS - 1, "REST aggregate: CALENDAR_YEAR/MONTH windows cover every record")
counts = sf.restful("limits/recordCount", params={"sObjects": "Contact"})
check(counts["sObjects"] == [{"count": CONTACTS - 1, "name": "Contact"}], "limits/recordCount counts live Contacts")
for key in ("earliestDateAvailable", "latestDateCovered"):
    check(deleted[key].endswith(":00.000+0000"), f"sobjects/Contact/deleted: {key} is a whole minute")

print(f"{len(failures)} failed" if failures else "conformance: all checks passed", flush=True)
sys.exit(1 if failures else 0)
