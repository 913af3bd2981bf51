"""The canonical encoder against CPython's json.dumps(sort_keys, compact, ensure_ascii), on both interpreters.

Thousands of generated values (integers up to 2^53, strings of any code point including those outside the
BMP, dicts and lists nested to the pre-scan's depth limit) are encoded by shared_schema.canonical under
CPython and under the real micropython (one process fed a file of cases); both must equal json.dumps byte
for byte, since that is what docs/PROTOCOL.md calls the canonical form.
"""

import functools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared_schema.canonical import canonical_bytes
from shared_schema.vocabulary import MAX_DEPTH

ROOT = Path(__file__).resolve().parents[2]
MICROPYTHON = str(Path(sys.executable).parent / "micropython")
EXAMPLES = 3000
LIMIT = 2**53

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-LIMIT, LIMIT), st.text(max_size=12))
EDGES: list[Any] = [
    LIMIT, -LIMIT, 0, -1, "", "\x00\x1f\x7f\x80\u2028\uffff\U00010000\U0010ffff", "\"\\/\b\f\n\r\t",
    {}, [], {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}, [[[[[[]]]]]], {"\u00e9": 1, "e": 2, "E": 3, "": 4},
]


def _values(depth: int) -> st.SearchStrategy[Any]:
    if depth == 0:
        return SCALARS
    inner = _values(depth - 1)
    return st.one_of(
        SCALARS,
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
    )


def _stdlib(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _has_surrogate(value: object) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in json.dumps(value, ensure_ascii=False))


@functools.cache
def _generated() -> tuple[Any, ...]:
    found: list[Any] = []

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(_values(MAX_DEPTH))
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return tuple(found)


def test_canonical_encoder_agrees_with_json_dumps_on_cpython_and_micropython(tmp_path: Path) -> None:
    values = EDGES + list(_generated()) + ["lone \ud800 and \udfff surrogates", {"\udc00": ["\ud83d"]}]
    assert len(values) > EXAMPLES // 2
    for value in values:
        assert canonical_bytes(value) == _stdlib(value), value
    # MicroPython reads real UTF-8 (so that it sees characters outside the BMP as such); values with lone
    # surrogates, which UTF-8 cannot carry, go as \u escapes.
    cases = tmp_path / "cases.jsonl"
    with cases.open("w", encoding="utf-8") as out:
        for value in values:
            out.write(json.dumps(value, ensure_ascii=_has_surrogate(value)) + "\n")
    proc = subprocess.run([MICROPYTHON, "-X", "heapsize=4M", "tests/schema/mp_canonical.py", str(cases)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(values)
    for value, line in zip(values, lines, strict=True):
        assert line.encode() == _stdlib(value), (value, line)


def test_the_depth_limit_is_reached() -> None:
    def depth(value: object) -> int:
        if isinstance(value, dict):
            return 1 + max((depth(item) for item in value.values()), default=0)
        if isinstance(value, list):
            return 1 + max((depth(item) for item in value), default=0)
        return 0

    assert max(depth(value) for value in _generated()) == MAX_DEPTH
