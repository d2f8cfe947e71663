"""A text budget in UTF-8 bytes: what fits in a PR comment, in sections that share the room, and what is left out.

The markdown format writes its bounded head with :meth:`Budget.force`, then each details section with a share of
the room left (:meth:`Budget.section`), so one huge list of cluster names cannot starve the sections after it.
Whatever does not fit is counted in :attr:`Budget.omitted` for the final "Truncated, N more not shown" line.

Caller: :mod:`fleetc.plan.formats.markdown`.
"""

from __future__ import annotations

from collections.abc import Sequence

CLOSE_DETAILS = "\n</details>\n"


def code(text: str) -> str:
    """Inline code (backticks in the text become quotes)."""
    quoted = text.replace("`", "'")
    return f"`{quoted}`"


def size(text: str) -> int:
    """Bytes of text in UTF-8 (stricter than GitHub's character count)."""
    return len(text.encode())


class Budget:
    """The comment being written: its parts, its size, room reserved for closings, and what was left out."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.reserved = 0
        self.ceiling = limit
        self.stopped = False
        self.omitted = 0

    def room(self) -> int:
        """Bytes that may still be added in the current section."""
        return min(self.limit - self.reserved, self.ceiling) - self.size

    def section(self, share: float) -> None:
        """Start a section that may use ``share`` of the room left (1.0: all of it)."""
        self.ceiling = self.limit
        self.ceiling = self.size + int(self.room() * share)
        self.stopped = False

    def force(self, text: str) -> None:
        """Add text the layout guarantees room for (bounded parts, reserved closings)."""
        self.parts.append(text)
        self.size += size(text)

    def add(self, text: str, items: int = 1) -> bool:
        """Add text if it fits in the section; otherwise count ``items`` as left out and close the section."""
        if self.stopped or size(text) > self.room():
            self.stopped = True
            self.omitted += items
            return False
        self.force(text)
        return True

    def names(self, prefix: str, names: Sequence[str], share: int | None = None) -> None:
        """A line listing names as inline code, as many as fit in ``share`` bytes (and the section)."""
        if self.stopped:
            self.omitted += len(names)
            return
        room = min(self.room(), share if share is not None else self.room())
        budget = room - size(prefix) - size(f" … and {len(names):,} more\n")
        shown: list[str] = []
        for name in names:
            piece = code(name)
            budget -= size(piece) + 2
            if budget < 0:
                break
            shown.append(piece)
        if not shown:
            self.stopped = share is None or room >= self.room()
            self.omitted += len(names)
            return
        rest = len(names) - len(shown)
        self.force(prefix + ", ".join(shown) + (f" … and {rest:,} more\n" if rest else "\n"))
        self.omitted += rest

    def open(self, summary: str) -> bool:
        """Open a ``<details>`` block; its closing tag is reserved until :meth:`close`."""
        if not self.add(f"\n<details><summary>{summary}</summary>\n\n", items=0):
            return False
        self.reserved += size(CLOSE_DETAILS)
        return True

    def close(self) -> None:
        """Close the block opened last."""
        self.reserved -= size(CLOSE_DETAILS)
        self.force(CLOSE_DETAILS)
