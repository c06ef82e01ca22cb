"""No full ID number, phone number or payer account leaves the assessor unless ``--no-redact`` is given.

Every command is run on the samples in every input form, and on a "leaky" copy of them as an
operator's export would be: payer accounts in full, phone and ID numbers pasted into chats and
statements, an account id and a case id that are phone numbers, and a rejected case carrying
numbers too. Every byte each command prints or writes (stdout, stderr, the files, the inside
of the .xlsx) is scanned for each personal value found in the inputs.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assessor.cli import app
from assessor.render import reveal, unmasker
from assessor.schema import Assessment, Case

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
FORMS = [SAMPLES / "cases", SAMPLES / "cases.jsonl", SAMPLES / "tables_gbk", SAMPLES / "cases.xlsx"]
ID_OR_PHONE = re.compile(r"(?<![0-9])(?:[1-9]\d{16}[0-9Xx]|[1-9]\d{14}|1[3-9]\d{9})(?![0-9])")
PERSONAL_FIELDS = ("payer", "account_id", "id_number", "minor_id_number", "guardian_id_number")

runner = CliRunner()


def personal_values(value, key: str | None = None) -> set[str]:
    """Every ID or phone number in the input's text, and every payer account or ID field shown in full."""
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            found |= personal_values(v, k)
    elif isinstance(value, list):
        for item in value:
            found |= personal_values(item, key)
    elif isinstance(value, int) and not isinstance(value, bool):  # an ID number typed as a number
        found |= set(ID_OR_PHONE.findall(str(value)))
    elif isinstance(value, str):
        found |= set(ID_OR_PHONE.findall(value))
        if key in PERSONAL_FIELDS and "*" not in value:
            found.add(value)
    return found


def leaky_cases() -> list[dict]:
    cases = [json.loads(line) for line in (SAMPLES / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    adult = next(c for c in cases if c["case_id"] == "GZ-2024-0521")
    adult["account"]["account_id"] = "13755556666"
    adult["recharges"][0]["payer"] = "支付宝用户 13812345521"
    adult["recharges"][1]["payer"] = "zhang.san.pay"
    adult["claim"]["statement"] += " 联系电话 13966667777，我的身份证 440106198402190030"
    adult["chats"].append({"id": "m99", "at": "2024-04-21T10:00:00", "speaker": "account",
                           "text": "我都四十了 加我微信 15811112222 身份证 440106198401010030"})
    own = next(c for c in cases if c["case_id"] == "SH-2023-0117")
    own["case_id"] = "13700001111"  # some offices file disputes under the caller's phone number
    bad = {"case_id": "13912345678", "claim": {"minor_id_number": 440106201105120073},
           "recharges": [{"id": "r1", "at": "never", "amount": 1, "payer": "13812349999"}]}
    return [*cases, bad]


@pytest.fixture(scope="module")
def leaky(tmp_path_factory) -> tuple[Path, set[str]]:
    path = tmp_path_factory.mktemp("leaky") / "leaky.jsonl"
    cases = leaky_cases()
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    return path, personal_values(cases)


@pytest.fixture(scope="module")
def sample_secrets() -> set[str]:
    found: set[str] = set()
    for path in sorted((SAMPLES / "cases").glob("*.json")):
        found |= personal_values(json.loads(path.read_text(encoding="utf-8")))
    return found


def run(*args) -> list[str]:
    """Run a command; its stdout and stderr (and nothing may be a traceback)."""
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 3), (args, result.stderr)
    return [result.stdout, result.stderr]


def file_text(path: Path) -> str:
    """A written file as text; a workbook's every XML part (cells, shared strings, sheet names)."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as book:
            return "\n".join(book.read(name).decode("utf-8") for name in book.namelist())
    return path.read_text(encoding="utf-8-sig")


def assert_clean(texts: list[str], secrets: set[str], what) -> None:
    for text in texts:
        leaked = sorted(s for s in secrets if s in text)
        assert not leaked, (what, leaked)


def test_the_inputs_do_hold_personal_values(leaky, sample_secrets):
    _, secrets = leaky
    assert len(sample_secrets) >= 10  # full ID numbers of minors and guardians
    assert {"13755556666", "支付宝用户 13812345521", "zhang.san.pay", "15811112222", "440106198401010030",
            "13700001111", "13912345678", "440106201105120073", "13812349999", "13966667777"} <= secrets


@pytest.mark.parametrize("fmt", ["json", "table", "markdown"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_score_shows_no_personal_value(leaky, sample_secrets, fmt, lang):
    path, secrets = leaky
    for source in [*sorted((SAMPLES / "cases").glob("*.json")), path]:
        assert_clean(run("score", source, "-f", fmt, "--lang", lang), secrets | sample_secrets, (source.name, fmt))
    stdin = runner.invoke(app, ["score", "-", "-f", fmt, "--lang", lang], input=path.read_text(encoding="utf-8"))
    assert_clean([stdin.stdout, stdin.stderr], secrets, ("stdin", fmt))


@pytest.mark.parametrize("suffix", ["jsonl", "csv", "xlsx"])
def test_batch_outputs_and_error_files_show_no_personal_value(leaky, sample_secrets, tmp_path, suffix):
    path, secrets = leaky
    for number, source in enumerate([*FORMS, path]):
        for lang in ("zh", "en"):
            out, errors = tmp_path / f"out-{number}-{lang}.{suffix}", tmp_path / f"errors-{number}-{lang}.jsonl"
            printed = run("batch", source, "-o", out, "--errors", errors, "--lang", lang, "--quiet")
            assert_clean([*printed, file_text(out), file_text(errors)], secrets | sample_secrets, (source.name, lang))
    printed = run("batch", path, "-o", tmp_path / f"stderr-only.{suffix}")  # rejections on stderr
    assert "rejected:" in printed[1]
    assert_clean(printed, secrets, "stderr")


def test_reports_show_no_personal_value(leaky, sample_secrets, tmp_path):
    path, secrets = leaky
    for case_id, name, lang in [("GZ-2024-0521", "r.html", "zh"), ("GZ-2024-0521", "r.md", "en"),
                                ("13700001111", "p.html", "en"), ("13700001111", "p.md", "zh")]:
        target = tmp_path / name
        printed = run("report", path, "--case-id", case_id, "-o", target, "--lang", lang)
        assert_clean([*printed, file_text(target)], secrets | sample_secrets, (case_id, name))
    target = tmp_path / "sample.html"
    assert_clean([*run("report", SAMPLES / "cases" / "05_mixed_family_phone.json", "-o", target),
                  file_text(target)], sample_secrets, "sample report")


def test_validate_and_evaluate_show_no_personal_value(leaky, sample_secrets):
    path, secrets = leaky
    for source in [*FORMS, path]:
        assert_clean(run("validate", source), secrets | sample_secrets, ("validate", source.name))
    printed = run("validate", path)
    assert "case 139****5678" in printed[0] and "4401**********0073" in printed[0], "the rejection names what it masks"
    for source in (SAMPLES / "cases.jsonl", path):
        assert_clean(run("evaluate", source, "--format", "json"), secrets | sample_secrets, ("evaluate", source.name))


# --------------------------------------------------------------------------- --no-redact


def test_score_no_redact_shows_the_numbers_in_full(leaky):
    path, _ = leaky
    for fmt in ("json", "markdown", "table"):
        out, _ = run("score", path, "-f", fmt, "--no-redact")
        assert "13700001111" in out, fmt  # the case id as filed
        assert "310104201003150317" in out, fmt  # the registered minor's ID in the real-name reasons
        assert "3101**********0317" not in out, fmt
        masked, _ = run("score", path, "-f", fmt)
        assert "137****1111" in masked and "3101**********0317" in masked, fmt


def test_report_no_redact_shows_ids_payers_accounts_and_numbers_in_text(leaky, tmp_path):
    path, _ = leaky
    for name, lang in (("full.html", "zh"), ("full.md", "en")):
        target = tmp_path / name
        out, err = run("report", path, "--case-id", "GZ-2024-0521", "-o", target, "--lang", lang, "--no-redact")
        text = file_text(target).replace("\\", "")  # Markdown escapes; the numbers are what matter
        for value in ("440106201112080073", "440106198402190030", "13755556666", "支付宝用户 13812345521",
                      "zhang.san.pay", "13966667777"):
            assert value in text, (name, value)
        assert "--no-redact" in text, "the footer says the report holds personal information"
        for label in ("证件号（已遮蔽）", "ID number (masked)", "numbers masked"):
            assert label not in text, (name, label)
    target = tmp_path / "id.md"
    _, err = run("report", path, "--case-id", "13700001111", "-o", target, "--no-redact")
    assert "13700001111" in err and "13700001111" in file_text(target)


def test_batch_no_redact_shows_the_numbers_in_full(leaky, tmp_path):
    path, _ = leaky
    for suffix in ("jsonl", "csv", "xlsx"):
        out = tmp_path / f"full.{suffix}"
        run("batch", path, "-o", out, "--no-redact", "--quiet")
        text = file_text(out)
        assert "13700001111" in text and "137****1111" not in text, suffix  # the case id as filed
        if suffix == "jsonl":  # the full assessment: the registered minor's ID in the real-name reasons
            assert "310104201003150317" in text and "3101**********0317" not in text


def test_reveal_puts_back_only_what_one_value_could_have_been():
    case = Case.model_validate({
        "case_id": "R-1", "claim": {"statement": "我 13900005678，她 13911115678，孩子 110105201001010018"},
        "recharges": [{"at": "2024-07-21 22:14", "amount": 6, "payer": "支付宝 13812345521"}],
    })
    unmask = unmasker(case)
    assert unmask("孩子 1101**********0018，付款人 138****5521") == "孩子 110105201001010018，付款人 13812345521"
    assert unmask("139****5678") == "139****5678", "two numbers mask alike: neither is guessed"
    masked = Assessment.model_validate({
        "case_id": "R-1", "probability": 0.5, "band": "inconclusive", "log_odds": 0.0, "prior": 0.5,
        "contributions": [{"id": "chat.x", "source": "chat", "weight": 0.1, "summary": "孩子 1101**********0018",
                           "evidence": [{"record": "chats/m1", "excerpt": "付款人 138****5521，139****5678"}]}]})
    shown = reveal(masked, case).contributions[0]
    assert shown.summary == "孩子 110105201001010018"
    assert shown.evidence[0].excerpt == "付款人 13812345521，139****5678"
