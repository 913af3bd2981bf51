"""tests/firmware/lock_oracle.py: the firmware's own decision, under CPython and on the real MicroPython.

Random tables (credentials with 1..8 entries: roles, validity, windows) and random instants: the oracle's
answer (core.decision over a store written by the firmware's writer) equals the union rule of the contract,
computed independently here with shared_schema.schedule, and the batch mode on MicroPython answers exactly as
the CPython import does.
"""

import json
import random
import subprocess
import sys
from pathlib import Path

from shared_schema.schedule import grant_allows, is_time_limited
from tests.firmware.lock_oracle import Oracle, decide_case

ROOT = Path(__file__).resolve().parents[2]
MICROPYTHON = Path(sys.executable).parent / "micropython"
MON = 1795392000  # a Monday 00:00 UTC
WEEK = 7 * 86400
# Tokyo all along, and a table with a DST-like change mid-week
OFFSETS = ([[0, 540]], [[0, 60], [MON + 3 * 86400 + 3600, 120]])


def _entry(rng: random.Random, cred: str) -> list:
    valid_from = rng.choice([0, 0, MON + rng.randrange(WEEK)])
    valid_until = rng.choice([0, 0, (valid_from or MON) + rng.randrange(1, WEEK)])
    windows = sorted(
        [rng.randrange(1, 128), start, rng.choice([e for e in range(0, 1441, 30) if e not in (0, start)])]
        for start in rng.sample(range(0, 1440, 30), rng.choice([0, 0, 1, 2, 3]))
    )
    return [cred, rng.choice([0, 0, 1]), valid_from, valid_until, windows]


def _table(rng: random.Random, creds: int) -> list:
    entries = []
    for _ in range(creds):
        cred = f"{rng.getrandbits(128):032x}"
        own = {json.dumps(_entry(rng, cred)) for _ in range(rng.randrange(1, 9))}
        entries += [json.loads(e) for e in own]
    return sorted(entries)


def _expected(entries: list, cred: str, now: int | None, offsets: list, until: int | None, mode: str) -> bool:
    # The contract's rule: the credential opens when ANY of its entries allows it (lockdown: any admin entry).
    for _, role, valid_from, valid_until, windows in (e for e in entries if e[0] == cred):
        if mode == "lockdown" and role != 1:
            continue
        if not is_time_limited(valid_from, valid_until, windows):
            return True
        if now is None or (windows and until is not None and now >= until):
            continue
        if grant_allows(valid_from, valid_until, windows, now, offsets):
            return True
    return False


def _cases(seed: int, tables: int, per_table: int) -> list[dict]:
    rng = random.Random(seed)
    cases = []
    for t in range(tables):
        entries = _table(rng, rng.randrange(1, 6))
        creds = sorted({e[0] for e in entries}) + [f"{rng.getrandbits(128):032x}"]  # and one never issued
        for i in range(per_table):
            now = None if rng.random() < 0.05 else MON + rng.randrange(2 * WEEK)
            until = rng.choice([None, None, MON + rng.randrange(2 * WEEK)])
            case = {"table": f"t{t}", "lookup": rng.choice(creds), "now": now, "offsets": rng.choice(OFFSETS),
                    "until": until, "mode": rng.choice(["normal", "normal", "passage", "lockdown"]),
                    "id": len(cases)}
            if i == 0:
                case["entries"] = entries
            case["_entries"] = entries
            cases.append(case)
    return cases


def test_oracle_follows_the_union_rule_of_the_contract() -> None:
    cases = _cases(seed=7, tables=40, per_table=40)
    oracle = Oracle()
    try:
        granted = 0
        for case in cases:
            answer = oracle.decide(case)
            expected = _expected(
                case["_entries"], case["lookup"], case["now"], case["offsets"], case["until"], case["mode"]
            )
            assert answer["granted"] is expected, (case, answer)
            assert (answer["reason"] == "ok") is expected
            granted += expected
    finally:
        oracle.close()
    assert 0.1 < granted / len(cases) < 0.9  # both answers are exercised


def test_batch_mode_on_micropython_answers_as_the_cpython_import() -> None:
    cases = _cases(seed=11, tables=30, per_table=50)
    lines = "".join(json.dumps({k: v for k, v in c.items() if k != "_entries"}) + "\n" for c in cases)
    proc = subprocess.run([str(MICROPYTHON), "-X", "heapsize=4M", "tests/firmware/lock_oracle.py"], cwd=ROOT,
                          input=lines, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    on_micropython = [json.loads(line) for line in proc.stdout.splitlines()]
    oracle = Oracle()
    try:
        on_cpython = [oracle.decide(case) for case in cases]
    finally:
        oracle.close()
    assert len(on_micropython) == len(cases)
    assert on_micropython == on_cpython


def test_refused_tables_and_lookups_are_named() -> None:
    cred = "0" * 31 + "1"
    unsorted = [[cred, 1, 0, 0, []], [cred, 0, 0, 0, []]]
    assert decide_case({"entries": unsorted, "lookup": cred, "now": MON}) == {"error": "entries_not_sorted"}
    nine = [[cred, 0, n + 1, 0, []] for n in range(9)]
    assert decide_case({"entries": nine, "lookup": cred, "now": MON}) == {"error": "too_many_entries"}
    assert decide_case({"entries": [], "lookup": "xyz", "now": MON}) == {"error": "bad_lookup"}
    assert decide_case({"entries": [], "lookup": cred, "now": MON}) == {"granted": False,
                                                                        "reason": "unknown_credential"}
