"""``santun guard`` as DESIGN.md fixes it: JSON lines in, one verdict line out per input."""

from __future__ import annotations

import json
import subprocess
import sys


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", "guard", *args],
        input=stdin,
        text=True,
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_json_lines_in_verdict_lines_out() -> None:
    lines = [
        {"id": "1", "text": "Kalau tidak bayar, Anda bisa dipenjara."},
        {"id": "2", "text": "Anda tidak akan dipenjara karena utang."},
        {
            "id": 3,
            "text": "Total tagihan Rp12.000.000.",
            "context": {"verified": True, "known_amounts": [12450000]},
        },
        {"id": "4", "text": "Total tagihan Rp12.000.000."},
    ]
    result = run(stdin="\n".join(json.dumps(line) for line in lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["1", "2", 3, "4"]
    assert [o["allowed"] for o in out] == [False, True, False, True]
    violation = out[0]["violations"][0]
    assert {"rule", "category", "span", "message"} <= set(violation)
    start, end = violation["span"]
    assert "penjara" in lines[0]["text"][start:end]
    assert out[2]["violations"][0]["rule"] == "G22"


def test_single_text_argument() -> None:
    result = run("Dasar b0d0h, bayar!")
    assert result.returncode == 0
    assert json.loads(result.stdout)["allowed"] is False


def test_bad_lines_get_clear_errors_and_others_still_answered() -> None:
    stdin = (
        'not json\n{"id": "x"}\n{"id": "y", "text": "Halo", "context": {"colour": 1}}\n'
        '{"id": "z", "text": "Terima kasih."}\n'
    )
    result = run(stdin=stdin)
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1 and "error" in result.stderr
    assert "invalid JSON" in out[0]["error"] and '"text" must be a string' in out[1]["error"]
    assert "unknown context keys" in out[2]["error"] and out[3]["allowed"] is True
