"""What errors cost per row on the rows of an evaluated ``Report``, and the cost table it prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import costs, optionwords
from .numbertext import count_text, share_text, value_text

_COST_INTERVAL = ("(95%: of the cost per 10,000 rows like these, from continuity-corrected Wilson intervals of the "
                  "share of anomalies missed and of normal rows flagged, given the cut; the lowest cost's, chosen on "
                  "these rows, reads a little cheap)")


@dataclass
class Costs:
    """What errors cost per row on the rows of a ``Report`` (``evaluate`` with ``miss_cost=`` and ``alarm_cost=``);
    each threshold's is its ``at_thresholds`` entry's ``cost_per_row``."""

    prices: costs.Prices
    # the cheapest cut on these rows (the one method min_cost stores from them): value, cost_per_row, missed,
    # alarms, precision, recall, flagged_share
    best: dict[str, Any]
    flag_none: float  # the cost per row of flagging no row: every anomaly missed

    def lines(self, at: dict[str, dict[str, float]], rows: float, anomalies: float, w: int) -> list[str]:
        """The cost table ``Report`` prints: each threshold, the cheapest cut, and flagging no row."""
        p = self.prices
        here = share_text(anomalies / max(rows, 1e-300))
        at_share = (f", on these {count_text(rows)} rows ({here} anomalies)" if p.anomaly_share is None
                    else f", weighed to anomalies {costs.stated_share(p.anomaly_share)} of rows (these {count_text(rows)} rows hold {here})")
        out = [f"cost at {costs.cost_text(p.miss_cost)} per missed anomaly and {costs.cost_text(p.alarm_cost)} per "
               f"false alarm{at_share}:",
               f"{'threshold':<{w}}{'value':>12}{'missed':>8}{'false alarms':>14}{'per row':>11}{'per 10,000 rows':>17}"
               f"{'  95% per 10,000 rows'}"]

        def row(name: str, value: str, missed: float, alarms: float, cost: float, m: dict[str, Any] | None) -> str:
            # Why the interval: 0 false alarms among 32 normal rows read "0 per row", as if none could follow
            band = ("" if m is None or "cost_per_row_lo" not in m else
                    f"  {costs.amount_text(m['cost_per_row_lo'] * 10_000)}-{costs.amount_text(m['cost_per_row_hi'] * 10_000)}")
            return (f"{name:<{w}}{value:>12}{missed:>8.0f}{alarms:>14.0f}{costs.amount_text(cost):>11}"
                    f"{costs.amount_text(cost * 10_000):>17}{band}")

        out += [row(name, value_text(m["value"]), m["fn"], m["fp"], m["cost_per_row"], m) for name, m in at.items()]
        b = self.best
        if not anomalies:  # rows labelled normal only: nothing to miss, so flagging none is cheapest, and no cut is
            out.append(row("(flag no row)", "-", anomalies, 0, self.flag_none, None))  # min_cost's (it refuses such rows)
            out.append("(per row: false alarms alone, as no row here is labelled an anomaly to miss; method min_cost "
                       "needs rows labelled 1 too)")
            out.append(_COST_INTERVAL)
            return out
        out.append(row("(lowest cost)", value_text(b["value"]), b["missed"], b["alarms"], b["cost_per_row"], b))
        out.append(row("(flag no row)", "-", anomalies, 0, self.flag_none, None))
        # Why said: labelled rows are often richer in anomalies than the traffic a threshold will see
        share = ("at these rows' share of anomalies, which live traffic may not have "
                 f"({optionwords.opt('anomaly_share')} weighs them to its own)" if p.anomaly_share is None else
                 f"missed and false alarms counted here, weighed to anomalies {costs.stated_share(p.anomaly_share)} of rows")
        cheaper = "; flagging no row costs less than any cut" if self.flag_none < b["cost_per_row"] else ""
        # Why not "the cut min_cost stores": it refuses rows without a normal one, where no false alarm is counted
        lowest = ("flagging every row, as no row here is labelled normal to count a false alarm on; min_cost needs "
                  "rows labelled 0 too" if anomalies == rows else f"the cut method min_cost stores from these rows{cheaper}")
        out.append(f"(per row: {share}; (lowest cost): {lowest})")
        out.append(_COST_INTERVAL)
        return out
