"""Ranking: the top-k single features by attribution toward a class are, or include, a set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import plural
from ..sweep import delta_column
from .outcome import CheckContext, Outcome, text_table


@dataclass
class RankingExpectation:
    """The top-k single features by attribution toward a class (their dP) are, or include, a set."""

    cls: str
    k: int
    features: tuple[str, ...]
    exact: bool  # True: the top k are exactly ``features``; False: they include them

    def needed_probes(self, space: Any = None) -> list[tuple[str, ...]]:
        return []

    def needed_order(self) -> int:
        return 1

    def check(self, context: CheckContext) -> Outcome:
        sweep = context.sweep
        singles = sweep.table[sweep.table["order"] == 1]
        # Stable sort: ties keep feature-space order.
        ranked = singles.sort_values(delta_column(self.cls), ascending=False, kind="stable")
        top = [names[0] for names in ranked["features"].iloc[: self.k]]
        wanted = set(self.features)
        ok = wanted == set(top) if self.exact else wanted <= set(top)
        relation = "are exactly" if self.exact else "include"
        props = {
            "expected": f"top {self.k} toward {self.cls} {relation} {sorted(wanted)}",
            "observed": ", ".join(top),
        }
        if ok:
            return Outcome(True, properties=props)
        shown = ranked.head(max(self.k + 3, len(wanted)))
        rows = [
            [rank + 1, names[0], float(value), "*" if names[0] in wanted else ""]
            for rank, (names, value) in enumerate(
                zip(shown["features"], shown[delta_column(self.cls)], strict=True)
            )
        ]
        missing = sorted(wanted - set(top))
        lines = [
            f"expected the top {plural(self.k, 'feature')} toward {self.cls} to "
            f"{'be exactly' if self.exact else 'include'} "
            f"{', '.join(sorted(wanted))}; observed top {self.k}: {', '.join(top)}"
            + (f" (missing: {', '.join(missing)})" if missing else ""),
            *text_table(["rank", "feature", f"dP({self.cls})", "expected"], rows),
        ]
        summary = (
            f"top {self.k} toward {self.cls} -> {relation} {', '.join(sorted(wanted))}: "
            f"observed {', '.join(top)}" + (f" (missing {', '.join(missing)})" if missing else "")
        )
        return Outcome(False, lines, props, summary)
