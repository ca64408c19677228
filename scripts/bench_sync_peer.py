#!/usr/bin/env python3
"""Contender (e) of scripts/bench-sync: the way a Python engineer would do it.

simple-salesforce's Bulk 2.0 client downloads every result page to a file, psycopg COPYs each file into a temp
staging table, then the same merge SQL as sfpg runs, in one transaction. Run inside the benchmark's throwaway
virtual environment: bench_sync_peer.py CONFIG.json (instance, token, soql, conninfo, stagingDDL, copySQL, mergeSQL).
"""
import json, os, shutil, sys, tempfile

import psycopg
from simple_salesforce import Salesforce


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    sf = Salesforce(instance_url=cfg["instance"], session_id=cfg["token"], version=cfg["apiVersion"])
    if cfg["instance"].startswith("http://"):
        # The emulator speaks plain HTTP on loopback; simple-salesforce assumes https for every URL.
        sf.bulk2_url = sf.bulk2_url.replace("https://", "http://", 1)
    directory = tempfile.mkdtemp(prefix="sfpg-peer-")
    try:
        # wait=0.5: the first status check after 0.5 s instead of the default 5 s, which would only add idle time.
        results = getattr(sf.bulk2, cfg["object"]).download(cfg["soql"], path=directory, max_records=cfg["pageSize"],
                                                            wait=0.5)
        copy = cfg["copySQL"].replace("(FORMAT csv,", "(FORMAT csv, HEADER true,", 1)
        rows = 0
        with psycopg.connect(cfg["conninfo"]) as conn:
            with conn.cursor() as cur:
                cur.execute("SET statement_timeout = 0")
                cur.execute(cfg["stagingDDL"])
                for result in results:
                    with open(result["file"], "rb") as f, cur.copy(copy) as writer:
                        while data := f.read(1 << 20):
                            writer.write(data)
                    rows += result["number_of_records"]
                cur.execute("ANALYZE " + cfg["staging"])
                cur.execute(cfg["mergeSQL"])
                merged = cur.fetchone()
            conn.commit()
        print(json.dumps({"rows": rows, "pages": len(results), "merge": [str(v) for v in merged]}))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
