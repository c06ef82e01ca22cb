"""Signal extraction against the parse floor: all three extractors over N cases vs ``json.loads``.

Writes N cases (default 10,000) of exactly 40 payments and 150 chat lines to a temporary JSON
Lines file, then times, in this interpreter:

- the floor: ``json.loads`` of every line, timed before the extractors and after them (their mean,
  as ``benchmarks/run.py`` takes it: a machine that drifts moves both alike);
- extraction: real-name, chat and recharge extractors on every case (each case is validated
  first, untimed, and streams through alone as in ``assessor batch``; validation is the loader's cost, measured by benchmarks/load_cases.py, and
  is not counted here).

Knowledge is loaded before any timing, and every date's calendar answers are worked out then too
(``warm_dates``), for every path alike.

``--columnar`` also times the three extractors over the file read into columns (docs/columnar.md:
``assessor.features.recharge_block``, ``real_name_block`` and ``chat_block``, what ``assessor
batch`` runs for the JSON Lines cases the column reader accepts): blocks of 256 lines read by
``assessor.io.columnar.read_block`` (not timed, as validation is not), then each case's signals,
exactly those of the extractor, yielded one case at a time. A case a block path leaves to the
usual path is timed on the usual extractor.

Two mixes of records (``--mix``):
- ``simulated`` (default): each case is a simulated dispute (``assessor simulate``) whose own
  payments, chat lines and sessions are resampled to 40 / 150 records: mostly neutral game talk,
  as in real chat logs;
- ``samples``: records drawn from the six hand-written sample cases, whose chat is dense with
  evidence (almost every line hits the lexicon): the hardest case for the chat extractor.

``--batch-gc`` times everything, the floor too, under the garbage collector's settings that
``assessor batch`` runs with (``assessor.process.quieter_gc``: what is loaded frozen, the youngest
generation collected every 20,000 allocations instead of 700).

    python benchmarks/extract.py [--cases 10000] [--mix simulated|samples] [--seed 0] [--columnar] [--batch-gc]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import date
from itertools import islice
from pathlib import Path

from assessor.features import chat, real_name, recharge
from assessor.schema import Case
from assessor.simulate import simulate

PAYMENTS, CHATS = 40, 150
EXTRACTORS = {"real_name": real_name.extract, "chat": chat.extract, "recharge": recharge.extract}


def simulated_mix(count: int, seed: int, path: Path) -> int:
    """Simulated disputes, each resampled to exactly PAYMENTS payments and CHATS chat lines."""
    rng = random.Random(seed)
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        for raw in simulate(count * 3, seed=seed):
            if written == count:
                break
            if not raw.get("recharges") or not raw.get("chats"):
                continue  # resampling needs some of each
            raw.pop("label", None)  # a dispute file holds no training label
            for key, size in (("recharges", PAYMENTS), ("chats", CHATS)):
                pool = raw[key]
                drawn = sorted(rng.choices(range(len(pool)), k=size))
                raw[key] = [{**pool[i], "id": f"{key[0]}{written}-{n}"} for n, i in enumerate(drawn)]
            out.write(json.dumps(raw, ensure_ascii=False) + "\n")
            written += 1
    if written < count:
        raise SystemExit(f"only {written} simulated cases had payments and chats")
    return path.stat().st_size


def sample_mix(count: int, seed: int, path: Path) -> int:
    """Sample-shaped cases (benchmarks/load_cases.py), trimmed or padded to exactly 40 / 150 records."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from load_cases import synthesise

    size = synthesise(count, seed, path)
    rng = random.Random(seed)
    lines = path.read_text(encoding="utf-8").splitlines()
    with open(path, "w", encoding="utf-8") as out:
        for line in lines:
            case = json.loads(line)
            for key, want in (("recharges", PAYMENTS), ("chats", CHATS)):
                pool = case[key]
                case[key] = [{**pool[i % len(pool)], "id": f"{key[0]}-{n}"}
                             for n, i in enumerate(sorted(rng.choices(range(len(pool)), k=want)))]
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
    return size and path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--mix", choices=("simulated", "samples"), default="simulated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--columnar", action="store_true",
                        help="also time the signals from columns")
    parser.add_argument("--batch-gc", action="store_true",
                        help="time everything, the floor too, under the garbage-collector settings `assessor batch` "
                             "runs with (assessor.process.quieter_gc)")
    args = parser.parse_args()
    for extract in EXTRACTORS.values():  # load lexicons, rules and calendars outside the timing
        extract(Case.model_validate({"case_id": "warm-up"}))
    warm_dates()
    if args.batch_gc:
        from assessor.process import quieter_gc

        quieter_gc()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.jsonl"
        size = (simulated_mix if args.mix == "simulated" else sample_mix)(args.cases, args.seed, path)

        before = parse_floor(path)

        # Cases stream through one at a time, as in `assessor batch`: validate (not timed), then extract.
        spent = dict.fromkeys(EXTRACTORS, 0.0)
        n = 0
        clock = time.perf_counter
        with open(path, encoding="utf-8") as stream:
            for line in stream:
                case = Case.model_validate_json(line)
                for name, extract in EXTRACTORS.items():
                    start = clock()
                    extract(case)
                    spent[name] += clock() - start
                n += 1
        columnar = on_columns(path) if args.columnar else None
        after = parse_floor(path)
    floor = (before + after) / 2  # as benchmarks/run.py: a machine that drifts moves both alike
    total = sum(spent.values())
    print(f"{n} cases ({args.mix} mix), {PAYMENTS} payments and {CHATS} chat lines each, {size / 2**20:.1f} MiB"
          + (", the batch's garbage-collector settings" if args.batch_gc else ""))
    print(f"json.loads floor:   {floor:7.2f} s  {n / floor:8.0f} cases/s  (before {before:.2f} s, after {after:.2f} s)")
    for name, seconds in spent.items():
        print(f"  {name:<16}{seconds:7.2f} s  {n / seconds:8.0f} cases/s  ({seconds / floor:.2f}x floor)")
    print(f"all extractors:     {total:7.2f} s  {n / total:8.0f} cases/s")
    print(f"extract / floor:    {total / floor:.2f}x (target <= 1.0, goal 0.5)")
    if columnar is not None:
        mixed = total
        for name, (seconds, usual) in columnar.items():
            print(f"{name} on columns:{seconds:7.2f} s  {n / seconds:8.0f} cases/s  ({seconds / floor:.2f}x floor; "
                  f"{usual} cases left to the usual path, timed on it)")
            mixed += seconds - spent[name]
        print(f"all three, {', '.join(columnar)} on columns: {mixed / floor:.2f}x floor "
              "(target <= 1.0, goal 0.5)")


def parse_floor(path: Path) -> float:
    """Seconds to ``json.loads`` every line of the file."""
    start = time.perf_counter()
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            json.loads(line)
    return time.perf_counter() - start


def warm_dates(first: date = date(1992, 1, 1), last: date = date(2037, 12, 31)) -> None:
    """Work out every date's calendar answers before any timing, for every path alike.

    The extractors cache a date's answers (school day, holiday, the play rule's window) on their
    knowledge the first time a case meets it; the block paths tabulate every date the reader admits
    (1992-2037) once per knowledge. Warming both here keeps that calendar work, which a long batch
    pays once, out of every figure, so that neither path is timed with it and the other without.
    """
    rk = recharge.RechargeKnowledge.default()
    clock = real_name.RealNameKnowledge.default().play_clock
    for day in range(first.toordinal(), last.toordinal() + 1):
        recharge._day_info(rk, day)
        clock.window(date.fromordinal(day))


def on_columns(path: Path, block_lines: int = 256) -> dict[str, tuple[float, int]]:
    """For each extractor with a block path: seconds spent on its signals from the file's columns, and
    how many cases took the usual path."""
    from datetime import UTC, datetime

    from assessor.features import chat_block, real_name_block, recharge_block
    from assessor.io.columnar import read_block

    paths = {"real_name": real_name_block.iter_block, "chat": chat_block.iter_block,
             "recharge": recharge_block.iter_block}
    now = datetime.now(UTC)
    with open(path, "rb") as stream:  # warm-up: the knowledge's tables of dates
        (first,) = read_block([(1, stream.readline())], now=now)
    for iter_block in paths.values():
        list(iter_block(first))
    spent = {name: [0.0, 0] for name in paths}
    clock = time.perf_counter
    with open(path, "rb") as stream:  # a block at a time, as a batch would read
        numbered = enumerate(stream, start=1)
        while piece := list(islice(numbered, block_lines)):
            raw = dict(piece)
            for block in read_block(piece, now=now):  # reading and validating: not timed, as above
                for name, iter_block in paths.items():
                    start = clock()
                    left = [k for k, signals in enumerate(iter_block(block)) if signals is None]
                    spent[name][0] += clock() - start
                    for k in left:
                        case = Case.model_validate_json(raw[block.lines[k]])
                        start = clock()
                        EXTRACTORS[name](case)
                        spent[name][0] += clock() - start
                    spent[name][1] += len(left)
    return {name: (seconds, int(usual)) for name, (seconds, usual) in spent.items()}


if __name__ == "__main__":
    main()
