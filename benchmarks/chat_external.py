"""External benchmark of the chat extractor's ``chat.minor_lean`` (evaluation only, never training).

Windows of WINDOW consecutive utterances of one speaker group become one case each, with the texts
as the account's own messages; the ROC AUC of ``chat.minor_lean`` (minor = positive) is printed per
corpus. Data: ../shared/external (see its README files; nothing from it is copied into the project).

- CPED: teenager (and children, if present) characters against the middle-aged and elderly
  characters of the same TV series (TV_ID), utterances in corpus order.
- NPS Chat: posts of the teens room against the 20s/30s/40s/adults rooms, per session file, with
  System posts dropped and the masked user names (which contain the room name) removed.

Also prints the extraction time per message.

    python benchmarks/chat_external.py [--external PATH] [--window 20]
"""

from __future__ import annotations

import argparse
import csv
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from sklearn.metrics import roc_auc_score

from assessor.features.chat import ChatKnowledge, extract
from assessor.schema import Case, Chat

DEFAULT_EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "external"
MINOR_AGES = {"teenager", "children"}
ADULT_AGES = {"middle-aged", "elderly"}
NPS_USER = re.compile(r"\d{2}-\d{2}-(?:teens|20s|30s|40s|adults)User\d+", re.IGNORECASE)


def windows(texts: list[str], size: int) -> list[list[str]]:
    """Consecutive, non-overlapping windows; a short tail is dropped."""
    return [texts[i:i + size] for i in range(0, len(texts) - size + 1, size)]


def cped_windows(folder: Path, size: int) -> list[tuple[list[str], int]]:
    groups: dict[tuple[str, int], list[str]] = {}
    for name in ("test_split.csv", "valid_split.csv"):
        path = folder / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                age = row["Age"]
                label = 1 if age in MINOR_AGES else 0 if age in ADULT_AGES else None
                if label is not None:
                    groups.setdefault((row["TV_ID"], label), []).append(row["Utterance"])
    with_minors = {tv for tv, label in groups if label == 1}
    return [(w, label) for (tv, label), texts in groups.items() if tv in with_minors
            for w in windows(texts, size)]


def nps_windows(folder: Path, size: int) -> list[tuple[list[str], int]]:
    out = []
    for path in sorted(folder.glob("*.xml")):
        label = 1 if "teens" in path.name else 0
        posts = [NPS_USER.sub("", post.text or "").strip()
                 for post in ET.parse(path).getroot().iter("Post") if post.get("class") != "System"]
        out.extend((w, label) for w in windows([p for p in posts if p], size))
    return out


def score(samples: list[tuple[list[str], int]], knowledge: ChatKnowledge) -> tuple[float, float, int]:
    """AUC of chat.minor_lean, seconds per message, and the number of windows."""
    cases = [Case(case_id=f"w{i}", chats=[Chat(id=f"m{j}", text=t) for j, t in enumerate(texts)])
             for i, (texts, _) in enumerate(samples)]
    start = time.perf_counter()
    leans = [extract(case, knowledge).features["chat.minor_lean"] for case in cases]
    elapsed = time.perf_counter() - start
    labels = [label for _, label in samples]
    n_messages = sum(len(texts) for texts, _ in samples)
    return roc_auc_score(labels, leans), elapsed / max(n_messages, 1), len(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--external", type=Path, default=DEFAULT_EXTERNAL)
    parser.add_argument("--window", type=int, default=20)
    args = parser.parse_args()
    knowledge = ChatKnowledge.default()
    print(f"chat lexicon {knowledge.version}, windows of {args.window} utterances")
    for name, loader, target, goal in (("CPED", cped_windows, 0.80, 0.90), ("NPS", nps_windows, 0.60, 0.75)):
        samples = loader(args.external / ("cped" if name == "CPED" else "nps_chat"), args.window)
        if not samples:
            print(f"{name}: no data under {args.external}")
            continue
        auc, per_message, n = score(samples, knowledge)
        minors = sum(label for _, label in samples)
        print(f"{name}: ROC AUC of chat.minor_lean = {auc:.3f} (target {target}, goal {goal}); "
              f"{n} windows ({minors} minor, {n - minors} adult); {per_message * 1e6:.1f} µs per message")


if __name__ == "__main__":
    main()
