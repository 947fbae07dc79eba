"""Benchmark: the word list's suggestions, in messages per second on one core.

N invented, neutral messages (default 100,000) of about 60 characters, Dutch and English, most carrying
no topic and some a term of the shipped list (a meeting place, a payment, a photo, a stated age), are
passed one by one to WordList.suggest. The list is compiled before the clock starts. Target: 100,000
messages in well under 2 seconds.

Usage: python bench/suggestions.py [messages] [--override PATH]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from decoy.initiative.suggestions import load_word_list  # noqa: E402

WORDS = (
    "hello how are you fine thanks the weather is nice today school was long what are you doing "
    "tonight watching a film with friends my brother plays football we had pizza for dinner the dog "
    "barked all night hoi hoe gaat het goed dank je het regent vandaag ik heb huiswerk wat doe je "
    "vanavond een film kijken met vrienden mijn zus speelt piano we aten pannenkoeken de kat slaapt"
).split()
PHRASES = (
    "shall we meet at the station",
    "zien we elkaar morgen bij het station",
    "I am 35 years old",
    "ik ben 41 jaar",
    "can you send a photo of the garden",
    "here is a photo of the beach",
    "I will pay for the tickets",
    "heb je een tikkie gestuurd",
    "café crème en een croissant, très bien",
)


def messages(count: int, seed: int = 2026) -> list[str]:
    """``count`` invented messages of about 60 characters; one in five carries a phrase of PHRASES."""
    chooser = random.Random(seed)
    made = []
    for index in range(count):
        words = [chooser.choice(WORDS) for _ in range(14)]
        text = " ".join(words)[:60]
        if index % 5 == 0:
            text = f"{chooser.choice(PHRASES)} {text}"[:60]
        made.append(text.capitalize())
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("messages", nargs="?", type=int, default=100_000)
    parser.add_argument("--override", type=Path, default=None, help="a suggestions.json to use instead")
    arguments = parser.parse_args()
    texts = messages(arguments.messages)
    word_list = load_word_list(arguments.override)
    started = time.perf_counter()
    suggested = sum(1 for text in texts if word_list.suggest(text))
    elapsed = time.perf_counter() - started
    length = sum(map(len, texts)) / len(texts)
    print(f"{len(texts)} messages (mean {length:.0f} characters), {suggested} with a suggestion")
    print(f"{elapsed:.3f} s: {len(texts) / elapsed:,.0f} messages/s")


if __name__ == "__main__":
    main()
