"""What a report is asked to show: the events, the sample, the study's conventions, the extras.

The study options mirror ``tracker study`` (same names, same defaults), so a report and a
study run with the same options give the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..analysis.eventstudy import Window, as_window, canonical_model, parse_windows
from ..analysis.eventstudy.placebo import placebo_range
from ..analysis.gpu import load_assumptions
from ..errors import InputError

# The study defaults of `tracker study`, by frequency: (estimation window, event windows).
STUDY_DEFAULTS = {
    "daily": ("-130:-11", "0:0,-1:1,0:5"),
    "hourly": ("-504:-25", "0:0,-1:1,0:23"),
}
# Pre and post windows of the correlation comparison, in periods of the study's frequency.
CORRELATION_DEFAULTS = {"daily": 30, "hourly": 72}
# The press measures a "week" from the close three days before to the close four days after
# day 0: for the Sora demo (day 0 = 2024-02-15) that is 2024-02-12 -> 2024-02-19.
DEFAULT_MOVE_WINDOW = "-3:4"
INDEX_WEIGHTS = ("cap", "equal")
RETURN_KINDS = ("simple", "log")


@dataclass(frozen=True)
class ReportOptions:
    """Everything that decides a report's content.

    Parameters
    ----------
    events : sequence of str
        Event ids from the calendar; one section each, plus a pooled study when several.
    tokens, category : optional
        The sample: explicit coin ids, or the category's members at each event's instant.
        Neither: the first tracked category of the config (as ``tracker study``).
    benchmark : str
        A coin id or ``"index"`` (coins outside the sample and category).
    estimation_window, windows : str, optional
        ``"start:end"`` and ``"s:e,s:e"``; default by frequency as in ``tracker study``.
    move_window : str
        Relative days of the press-style raw move, close to close (default ``-3:4``).
    correlation_window : int, optional
        Pre and post lengths of the correlation comparison, in periods.
    gpu_overrides : mapping
        Assumption overrides for the GPU-demand estimate (``tracker gpu estimate --set``).
    source : str, optional
        Take every coin's closes from this stored source (``tracker study --source``); None:
        one source per coin, the best coverage of the study's periods.
    simulated : bool
        Label everything SIMULATED DATA (the demo sets it; a fake server's loopback URL in
        the config sets it too).
    alpha, primary_window, placebo, placebo_range, calendar_time, portfolio_weights
        The evidence options of ``tracker study`` (docs/eventstudy.md): the verdicts' level, the
        window the findings lead with, placebo inference and the calendar-time regression.
    """

    events: tuple[str, ...]
    tokens: tuple[str, ...] | None = None
    category: str | None = None
    membership: str = "event"  # or "first-known": see tracker.analysis.eventstudy.data.load_study_data
    benchmark: str = "bitcoin"
    index_weights: str = "cap"
    model: str = "market"
    estimation_window: str | None = None
    windows: str | None = None
    hourly: bool = False
    return_kind: str = "simple"
    exclude_other_events: bool = False
    move_window: str = DEFAULT_MOVE_WINDOW
    correlation_window: int | None = None
    gpu_overrides: dict = field(default_factory=dict)
    title: str | None = None
    source: str | None = None
    simulated: bool = False
    command: str | None = None
    alpha: float = 0.05
    primary_window: str | None = None
    placebo: bool = False
    placebo_range: str | None = None
    calendar_time: bool = False
    portfolio_weights: str = "equal"

    @property
    def frequency(self) -> str:
        return "hourly" if self.hourly else "daily"

    @property
    def estimation(self) -> Window:
        return as_window(self.estimation_window or STUDY_DEFAULTS[self.frequency][0], "`estimation_window`", ["estimation_window"])

    @property
    def event_windows(self) -> list[Window]:
        return parse_windows(self.windows or STUDY_DEFAULTS[self.frequency][1], "`windows` window", ["windows"])

    @property
    def primary(self) -> Window | None:
        return as_window(self.primary_window, "`primary_window`", ["primary_window"]) if self.primary_window else None

    @property
    def placebo_window(self) -> Window | None:
        """The placebo's pseudo-event range, or None without a placebo (a range implies one)."""
        if not (self.placebo or self.placebo_range):
            return None
        return placebo_range(self.placebo_range or True, ([self.primary] if self.primary else []) + self.event_windows)

    @property
    def evidence(self) -> dict:
        """The ``EventStudy`` keywords of the evidence options."""
        return {"alpha": self.alpha, "primary_window": self.primary, "placebo": self.placebo_window,
                "calendar_time": self.calendar_time, "portfolio_weights": self.portfolio_weights}

    @property
    def move(self) -> Window:
        return as_window(self.move_window, "`move_window`", ["move_window"])

    @property
    def correlation_periods(self) -> int:
        return self.correlation_window or CORRELATION_DEFAULTS[self.frequency]

    def command_line(self) -> str:
        """The ``tracker report event-study`` options that give this report (without --output)."""
        parts = ["tracker report event-study"] + [f"--event {e}" for e in self.events]
        if self.tokens is not None:
            parts.append(f"--tokens {','.join(self.tokens)}")
        if self.category:
            parts.append(f"--category {self.category}")
        parts += [f"--benchmark {self.benchmark}", f"--model {self.model}",
                  f"--estimation-window {self.estimation.start}:{self.estimation.end}",
                  "--windows " + ",".join(f"{w.start}:{w.end}" for w in self.event_windows)]
        if self.benchmark == "index":
            parts.append(f"--index-weights {self.index_weights}")
        if self.hourly:
            parts.append("--hourly")
        if self.return_kind != "simple":
            parts.append(f"--return-kind {self.return_kind}")
        if self.exclude_other_events:
            parts.append("--exclude-other-events")
        if self.move_window != DEFAULT_MOVE_WINDOW:
            parts.append(f"--move-window {self.move.start}:{self.move.end}")
        if self.correlation_window is not None:
            parts.append(f"--correlation-window {self.correlation_window}")
        parts += [f"--gpu-set {name}={value}" for name, value in sorted(self.gpu_overrides.items())]
        if self.source:
            parts.append(f"--source {self.source}")
        parts += self._evidence_flags()
        return " ".join(parts)

    def _evidence_flags(self) -> list[str]:
        parts = [f"--alpha {self.alpha:g}"] if self.alpha != 0.05 else []
        if self.primary:
            parts.append(f"--primary-window {self.primary.start}:{self.primary.end}")
        rng = self.placebo_window
        if rng:
            parts.append(f"--placebo-range {rng.start}:{rng.end}")
        if self.calendar_time:
            parts.append("--calendar-time" + (f" --portfolio-weights {self.portfolio_weights}" if self.portfolio_weights != "equal" else ""))
        return parts

    def check(self) -> "ReportOptions":
        """Refuse bad options with one-line errors before any work; returns self."""
        if not self.events:
            raise InputError("name the event(s) with `events` ID (see 'tracker events list')", parameters=["events"])
        if self.tokens is not None and self.category is not None:
            raise InputError("choose the sample with `tokens` or `category`, not both", parameters=["tokens", "category"])
        if self.tokens is not None and not self.tokens:
            raise InputError("`tokens` is empty; give coin ids such as fetch-ai,render-token", parameters=["tokens"])
        if self.index_weights not in INDEX_WEIGHTS:
            raise InputError(f"`index_weights` {self.index_weights!r} must be one of {', '.join(INDEX_WEIGHTS)}",
                             parameters=["index_weights"])
        if self.return_kind not in RETURN_KINDS:
            raise InputError(f"`return_kind` {self.return_kind!r} must be one of {', '.join(RETURN_KINDS)}", parameters=["return_kind"])
        canonical_model(self.model)  # raises for an unknown model
        self.estimation, self.event_windows  # noqa: B018 - parsing is the check
        move = self.move
        if move.start >= move.end:
            raise InputError(f"`move_window` {self.move_window!r} must run from an earlier to a later day, e.g. -3:4",
                             parameters=["move_window"])
        if self.gpu_overrides:
            load_assumptions(None, dict(self.gpu_overrides))  # unknown names and bad values fail now, not after the study
        if not 0 < self.alpha < 1:
            raise InputError(f"`alpha` {self.alpha} must be between 0 and 1", parameters=["alpha"])
        if self.portfolio_weights not in ("equal", "cap"):
            raise InputError(f"`portfolio_weights` {self.portfolio_weights!r} must be equal or cap", parameters=["portfolio_weights"])
        if self.portfolio_weights == "cap" and not self.calendar_time:
            raise InputError("`portfolio_weights` applies to `calendar_time`", parameters=["portfolio_weights", "calendar_time"])
        self.placebo_window  # noqa: B018 - parsing is the check
        if self.correlation_window is not None and self.correlation_window < 5:
            raise InputError("`correlation_window` must be at least 5 periods (Fisher's z needs n > 3 per window)",
                             parameters=["correlation_window"])
        return self


def split_ids(values: Sequence[str] | str | None) -> tuple[str, ...]:
    """``("a,b", "c")`` -> ``("a", "b", "c")``, order kept, duplicates dropped."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = (values,)
    parts = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return tuple(dict.fromkeys(parts))
