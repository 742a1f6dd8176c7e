"""Progress that shows on a terminal and in a log alike.

On a terminal a tqdm bar; otherwise (output to a file, a batch job, a Dask worker's log)
one plain line per step on stderr, at most every `every_s` seconds, and always the last.
Nothing stops at 15 % and vanishes: a bar without a known end shows a count, not a
fraction, and every bar stays on screen when it closes.
"""

from __future__ import annotations

import sys
import time


def say(message: str, enabled: bool = True) -> None:
    """One line of progress on stderr (shows in logs too)."""
    if enabled:
        print(message, file=sys.stderr, flush=True)


class Progress:
    """Count steps of `desc`; `total` None when the number of steps is not known ahead."""

    def __init__(self, desc: str, total: int | None = None, unit: str = "step", initial: int = 0,
                 enabled: bool = True, every_s: float = 5.0):
        self.desc, self.total, self.unit, self.n = desc, total, unit, initial
        self.enabled, self.every_s, self.note = enabled, every_s, ""
        self._bar = None
        self._last = time.monotonic()
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm
            self._bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, leave=True, file=sys.stderr)

    def update(self, note: str = "") -> None:
        self.n += 1
        self.note = note
        if self._bar is not None:
            self._bar.update(1)
            if note:
                self._bar.set_postfix_str(note)
        elif self.enabled and (time.monotonic() - self._last >= self.every_s or self.n == self.total):
            self._line()

    def close(self, note: str = "") -> None:
        """Finish: the bar stays, or a last line is written (with `note`, if any)."""
        if note:
            self.note = note
        if self._bar is not None:
            if note:
                self._bar.set_postfix_str(note)
            self._bar.close()
        elif self.enabled and self.n != self.total:
            self._line()

    def _line(self):
        self._last = time.monotonic()
        of = f"/{self.total}" if self.total is not None else ""
        say(f"{self.desc}: {self.n}{of} {self.unit if self.n == 1 else plural(self.unit)}"
            + (f" ({self.note})" if self.note else ""))


def plural(noun: str) -> str:
    """'frequency' -> 'frequencies', 'case' -> 'cases' ('' stays '')."""
    if not noun:
        return noun
    return noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"
