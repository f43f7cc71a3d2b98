"""Converter throughput on a realistic 10 KB issue description, both ways.

    .venv/bin/python bench/markup_throughput.py          # a few seconds
    .venv/bin/python bench/markup_throughput.py --full   # 1000 conversions each way instead of 100

Prints KB/s for wiki -> ADF and ADF -> wiki (the ADF side counted by its wiki size, so both
figures are in KB of description text per second), measured in one run.
"""

from __future__ import annotations

import argparse
import json
import time

from jirabridge.markup import adf_to_wiki, wiki_to_adf

SECTION = """h2. Steps to reproduce {n}

# Log in as [~jsmith] on the *staging* site (see [runbook|https://wiki.example.org/ops/runbook])
# Open the _Backlog_ board and drag PROJ-{n} to the sprint
## the card shows a spinner
## after 30 s it reverts -- nothing is saved
# Check the browser console (y)

||Environment||Version||Result||
|Chrome|120.0|(x) fails|
|Firefox|121.0|(/) works|
|Safari|17.2|{color:red}fails intermittently{color}|

{code:java}
public void moveIssue(Issue issue, Sprint sprint) {
    if (sprint.isClosed()) throw new IllegalStateException("closed");
    rankService.rank(issue, sprint.getBacklog());
}
{code}

{panel:title=Workaround|bgColor=#fffae6}
Reload the board with *Shift+F5*, then retry. Attach the HAR file as [^network-{n}.har].
{panel}

bq. This started after the upgrade to 8.20 -- ??Release notes??

!screenshot-{n}.png|thumbnail!
----
"""


def description(size: int) -> str:
    parts = []
    n = 1
    while sum(len(p) for p in parts) < size:
        parts.append(SECTION.replace("{n}", str(n)))
        n += 1
    return "".join(parts)[:size].rsplit("\n", 1)[0] + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--full", action="store_true", help="1000 conversions each way instead of 100"
    )
    parser.add_argument("--size", type=int, default=10_240, help="description size in bytes")
    args = parser.parse_args()
    text = description(args.size)
    kb = len(text.encode("utf-8")) / 1024
    rounds = 1000 if args.full else 100
    doc = wiki_to_adf(text)
    wiki_to_adf(text)  # warm up
    started = time.perf_counter()
    for _ in range(rounds):
        wiki_to_adf(text)
    to_adf = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(rounds):
        adf_to_wiki(doc)
    to_wiki = time.perf_counter() - started
    print(
        f"description              {kb:.1f} KB wiki, {len(json.dumps(doc)) / 1024:.1f} KB ADF JSON"
    )
    print(f"rounds                   {rounds}")
    for label, seconds in (("wiki -> ADF", to_adf), ("ADF -> wiki", to_wiki)):
        each = 1000 * seconds / rounds
        print(f"{label:24s} {kb * rounds / seconds:8.0f} KB/s  ({each:.2f} ms each)")


if __name__ == "__main__":
    main()
