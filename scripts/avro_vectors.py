#!/usr/bin/env python3
"""Writes Tests/AvroTests/GeneratedVectors.swift: Avro binary test vectors made by fastavro (pip install fastavro).

Every vector is (schema JSON, hex of the binary datum, the value the Swift decoder must produce). fastavro writes
arrays and maps as one positive block, so the multi-block and negative-count vectors are assembled here from
fastavro-encoded items and then read back with fastavro, which proves the library accepts them.

Run from the repository root: python3 scripts/avro_vectors.py
"""
import datetime
import io
import json
import math
import struct

import fastavro

PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


def encode(schema, datum):
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), datum)
    return out.getvalue()


def zigzag(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def blocks(groups, encode_item, negative):
    """Array or map blocks: each group is one block; negative blocks carry their byte size (Avro spec, "Arrays")."""
    out = b""
    for group in groups:
        body = b"".join(encode_item(item) for item in group)
        out += zigzag(-len(group)) + zigzag(len(body)) + body if negative else zigzag(len(group)) + body
    return out + zigzag(0)


def swift_string(s):
    escaped = "".join(c if c.isprintable() and c not in '"\\' else "\\u{%x}" % ord(c) for c in s)
    return '"' + escaped + '"'


def swift_number(x, kind):
    if kind == "double" and 0 < abs(x) < 2.2250738585072014e-308:  # a subnormal literal draws a Swift warning
        return ".double(Double(bitPattern: 0x%016x))" % struct.unpack("<Q", struct.pack("<d", x))[0]
    if math.isinf(x):
        return "." + kind + "(" + ("-" if x < 0 else "") + ".infinity)"
    return "." + kind + "(" + repr(x) + ")"


def kind_of(schema, names):
    if isinstance(schema, str):
        return schema if schema in PRIMITIVES else kind_of(names[schema], names)
    return "union" if isinstance(schema, list) else schema["type"]


def fits(datum, branch, names):
    """The union branch fastavro writes for the plain Python values these vectors use."""
    kinds = {type(None): {"null"}, bool: {"boolean"}, int: {"int", "long"}, float: {"float", "double"},
             str: {"string", "enum"}, bytes: {"bytes", "fixed"}, dict: {"record", "map"}, list: {"array"}}
    return kind_of(branch, names) in kinds[type(datum)]


def plain(x):
    """fastavro reads logical types as datetime; the Swift decoder keeps the underlying long."""
    if isinstance(x, datetime.datetime):
        return round(x.timestamp() * 1000)
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    return [plain(v) for v in x] if isinstance(x, list) else x


def swift_value(schema, datum, names):
    """The Swift `AvroValue` expression for a datum, chosen by schema the way fastavro chose when writing it."""
    if isinstance(schema, str) and schema not in PRIMITIVES:
        return swift_value(names[schema], datum, names)
    if isinstance(schema, list):
        return swift_value(next(b for b in schema if fits(datum, b, names)), datum, names)
    kind = schema if isinstance(schema, str) else schema["type"]
    if kind in PRIMITIVES and isinstance(schema, dict):
        return swift_value(kind, datum, names)
    if kind == "null":
        return ".null"
    if kind == "boolean":
        return ".bool(%s)" % ("true" if datum else "false")
    if kind in ("int", "long"):
        return ".int(Int64.min)" if datum == -(2**63) else ".int(%d)" % datum
    if kind in ("float", "double"):
        return swift_number(datum, kind)
    if kind in ("bytes", "fixed"):
        return ".%s([%s])" % (kind, ", ".join("0x%02x" % b for b in datum))
    if kind == "string":
        return ".string(%s)" % swift_string(datum)
    if kind == "enum":
        return ".symbol(%s)" % swift_string(datum)
    if kind == "array":
        return ".array([%s])" % ", ".join(swift_value(schema["items"], d, names) for d in datum)
    if kind == "map":
        pairs = ", ".join("%s: %s" % (swift_string(k), swift_value(schema["values"], v, names)) for k, v in datum.items())
        return "map([%s])" % (pairs or ":")
    pairs = ", ".join(
        "%s: %s" % (swift_string(f["name"]), swift_value(f["type"], datum[f["name"]], names)) for f in schema["fields"]
    )
    return "record([%s])" % (pairs or ":")


def vector(name, schema, datum, data=None):
    names = {}
    parsed = fastavro.parse_schema(schema, named_schemas=names)
    data = encode(schema, datum) if data is None else data
    assert plain(fastavro.schemaless_reader(io.BytesIO(data), parsed)) == datum, name
    return name, schema, data, swift_value(parsed, datum, names)


def primitive_vectors():
    cases = [
        ("null", None), ("boolean", True), ("boolean", False),
        ("int", 0), ("int", -1), ("int", 1), ("int", 63), ("int", -64), ("int", 64), ("int", 2**31 - 1), ("int", -(2**31)),
        ("long", 2**53 + 1), ("long", 2**63 - 1), ("long", -(2**63)), ("long", 1234567890123456789),
        ("float", 3.25), ("float", -0.5), ("float", float("inf")),
        ("double", math.pi), ("double", -1.5e300), ("double", 5e-324), ("double", float("-inf")),
        ("bytes", b""), ("bytes", bytes([0, 1, 127, 128, 255])),
        ("string", ""), ("string", "Zoë Ölçer 🚀 漢字"), ("string", "x" * 300),
    ]
    return [vector("%s %r" % (t, d if len(repr(d)) < 30 else repr(d)[:27] + "..."), t, d) for t, d in cases]


NAMESPACES = {
    "type": "record", "name": "Outer", "namespace": "com.example",
    "fields": [
        {"name": "inner", "type": {"type": "record", "name": "Inner", "fields": [{"name": "n", "type": "int"}]}},
        {"name": "again", "type": "Inner"},
        {"name": "full", "type": {"type": "record", "name": "org.other.Thing", "fields": [
            {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}}]}},
        {"name": "thing", "type": "org.other.Thing"},
        {"name": "kindAgain", "type": "org.other.Kind"},
        {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}},
        {"name": "hashAgain", "type": "com.example.Hash"},
    ],
}

LINKED_LIST = {
    "type": "record", "name": "Node",
    "fields": [{"name": "value", "type": "long"}, {"name": "next", "type": ["null", "Node"]}],
}

ADDRESS = {
    "type": "record", "name": "Address",
    "fields": [{"name": n, "type": ["null", "string"], "default": None}
               for n in ("Street", "City", "State", "PostalCode", "Country", "StateCode", "CountryCode")]
    + [{"name": n, "type": ["null", "double"], "default": None} for n in ("Latitude", "Longitude")]
    + [{"name": "GeocodeAccuracy", "type": ["null", "string"], "default": None}],
}

CHANGE_EVENT = {
    "type": "record", "name": "ContactChangeEvent", "namespace": "com.sforce.eventbus",
    "uuid": "Kx0Fq2wrTzunS1Us-SxmOQ",
    "fields": [
        {"name": "ChangeEventHeader", "doc": "Data:ComplexValueType", "type": {
            "type": "record", "name": "ChangeEventHeader",
            "fields": [
                {"name": "entityName", "type": "string"},
                {"name": "recordIds", "type": {"type": "array", "items": "string"}},
                {"name": "changeType", "type": {"type": "enum", "name": "ChangeType", "symbols": [
                    "CREATE", "UPDATE", "DELETE", "UNDELETE", "GAP_CREATE", "GAP_UPDATE", "GAP_DELETE",
                    "GAP_UNDELETE", "GAP_OVERFLOW", "SNAPSHOT"]}},
                {"name": "changeOrigin", "type": "string"},
                {"name": "transactionKey", "type": "string"},
                {"name": "sequenceNumber", "type": "int"},
                {"name": "commitTimestamp", "type": "long"},
                {"name": "commitNumber", "type": "long"},
                {"name": "commitUser", "type": "string"},
                {"name": "nulledFields", "type": {"type": "array", "items": "string"}},
                {"name": "diffFields", "type": {"type": "array", "items": "string"}},
                {"name": "changedFields", "type": {"type": "array", "items": "string"}},
            ]}},
        {"name": "Name", "type": ["null", {"type": "record", "name": "Switchable_PersonName", "fields": [
            {"name": n, "type": ["null", "string"], "default": None}
            for n in ("Salutation", "FirstName", "LastName", "MiddleName", "InformalName", "Suffix")]}],
         "default": None},
        {"name": "Email", "type": ["null", "string"], "default": None, "doc": "Email:Email"},
        {"name": "Phone", "type": ["null", "string"], "default": None},
        {"name": "MailingAddress", "type": ["null", ADDRESS], "default": None},
        {"name": "OtherAddress", "type": ["null", "Address"], "default": None},
        {"name": "Birthdate", "type": ["null", {"type": "int", "logicalType": "date"}], "default": None},
        {"name": "HasOptedOutOfEmail", "type": ["null", "boolean"], "default": None},
        {"name": "LastModifiedDate", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}],
         "default": None},
        {"name": "AnnualSpend__c", "type": ["null", "double"], "default": None},
    ],
}


def change_event(change_type, changed, nulled, name, email, mailing):
    address = None if mailing is None else dict({k["name"]: None for k in ADDRESS["fields"]}, **mailing)
    return {
        "ChangeEventHeader": {
            "entityName": "Contact", "recordIds": ["003xx000004TmiQAAS", "003xx000004TmiRAAS"],
            "changeType": change_type, "changeOrigin": "com/salesforce/api/rest/62.0",
            "transactionKey": "0002a3b4-c5d6-e7f8-0910-111213141516", "sequenceNumber": 1,
            "commitTimestamp": 1733536800123, "commitNumber": 11223344556677889, "commitUser": "005xx000001X8UzAAK",
            "nulledFields": nulled, "diffFields": [], "changedFields": changed,
        },
        "Name": name, "Email": email, "Phone": None, "MailingAddress": address, "OtherAddress": None,
        "Birthdate": None, "HasOptedOutOfEmail": None, "LastModifiedDate": 1733536800000, "AnnualSpend__c": None,
    }


def structured_vectors():
    optional = ["null", "string", "long"]
    int_array = {"type": "array", "items": "int"}
    string_map = {"type": "map", "values": "string"}
    long_map = {"type": "map", "values": "long"}
    groups = [[1, -2, 3], [400000], [5, 6]]
    map_groups = [[("a", 1)], [("ü", -300), ("c", 2**40)]]
    encode_pair = lambda kv: encode("string", kv[0]) + encode("long", kv[1])
    person = {"Salutation": None, "FirstName": "Zoë", "LastName": "Ölçer", "MiddleName": None,
              "InformalName": None, "Suffix": None}
    return [
        vector("union null", optional, None), vector("union string", optional, "x"),
        vector("union long", optional, 42),
        vector("array one block", int_array, [1, 2, 3]), vector("array empty", int_array, []),
        vector("array of nulls", {"type": "array", "items": "null"}, [None, None, None]),
        vector("array three blocks", int_array, sum(groups, []), blocks(groups, lambda i: encode("int", i), False)),
        vector("array negative blocks", int_array, sum(groups, []), blocks(groups, lambda i: encode("int", i), True)),
        vector("map one block", string_map, {"k": "v", "empty": ""}),
        vector("map negative blocks", long_map, dict(sum(map_groups, [])), blocks(map_groups, encode_pair, True)),
        vector("enum", {"type": "enum", "name": "Suit", "symbols": ["SPADES", "HEARTS"]}, "HEARTS"),
        vector("fixed", {"type": "fixed", "name": "F", "size": 3}, b"\x00\xab\xff"),
        vector("array of records", {"type": "array", "items": {"type": "record", "name": "P", "fields": [
            {"name": "x", "type": "float"}, {"name": "tags", "type": string_map}]}},
            [{"x": 1.5, "tags": {}}, {"x": -2.0, "tags": {"t": "1"}}]),
        vector("named references", NAMESPACES, {
            "inner": {"n": 7}, "again": {"n": -7}, "full": {"kind": "B"}, "thing": {"kind": "A"},
            "kindAgain": "B", "hash": b"\x01\x02\x03\x04", "hashAgain": b"\xff\xfe\xfd\xfc"}),
        vector("recursive list", LINKED_LIST, {"value": 1, "next": {"value": 2, "next": {"value": 3, "next": None}}}),
        vector("change event create", CHANGE_EVENT, change_event(
            "CREATE", [], [], person, "zoe@example.com", {"City": "Zürich", "Latitude": 47.3769})),
        vector("change event update", CHANGE_EVENT, change_event(
            "UPDATE", ["0x104", "4-0x02"], ["0x08"], None, "zoe.new@example.com", {"City": "Bern"})),
    ]


def main():
    lines = [
        "// Generated by scripts/avro_vectors.py with fastavro %s; regenerate instead of editing." % fastavro.__version__,
        "import Avro", "", "let generatedVectors: [AvroVector] = [",
    ]
    for name, schema, data, expected in primitive_vectors() + structured_vectors():
        lines.append("    AvroVector(")
        lines.append("        %s," % swift_string(name))
        lines.append("        schema: #\"%s\"#," % json.dumps(schema, ensure_ascii=False, separators=(",", ":")))
        lines.append("        hex: \"%s\"," % data.hex())
        lines.append("        expected: %s)," % expected)
    lines.append("]")
    with open("Tests/AvroTests/GeneratedVectors.swift", "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
