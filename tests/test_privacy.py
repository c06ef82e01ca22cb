"""Personal information never leaves the assessor unmasked."""

import json
from pathlib import Path

from typer.testing import CliRunner

from assessor.cli import app
from assessor.privacy import scrub

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data" / "cases"


def test_ids_and_phone_numbers_in_free_text_are_masked():
    text = scrub("我身份证11010519491231002X，电话13812345678，旧证110105491231002")
    assert "11010519491231002X" not in text and "13812345678" not in text and "110105491231002" not in text
    assert "1101**********002X" in text and "138****5678" in text


def test_no_sample_id_number_appears_in_any_assessment():
    runner = CliRunner()
    for path in sorted(SAMPLES.glob("*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        secrets = [case.get("claim", {}).get("minor_id_number"), case.get("claim", {}).get("guardian_id_number"),
                   case.get("account", {}).get("real_name", {}).get("id_number")]
        for fmt in ("json", "markdown"):
            out = runner.invoke(app, ["score", str(path), "-f", fmt]).stdout
            for secret in filter(None, secrets):
                if "*" not in secret:
                    assert secret not in out, (path.name, fmt)
