"""Stacked security-event blocks: every security-event's returns on one relative-period axis.

The engine never loops over security-events. Each one is a row of a (K, S) array whose S
columns are the relative periods from the earliest window start to the latest window end;
estimation and event windows are column slices of it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .windows import Window


@dataclass(frozen=True)
class Layout:
    """Where the estimation window and the event windows sit on the relative-period axis."""

    estimation: Window
    event_windows: tuple[Window, ...]

    @property
    def event_span(self) -> Window:
        """From the first event-window start to the last event-window end (daily tests use it)."""
        return Window(min(w.start for w in self.event_windows), max(w.end for w in self.event_windows))

    @property
    def span(self) -> Window:
        event = self.event_span
        return Window(min(self.estimation.start, event.start), max(self.estimation.end, event.end))

    @property
    def relative(self) -> np.ndarray:
        return np.arange(self.span.start, self.span.end + 1)

    def columns(self, window: Window) -> slice:
        return slice(window.start - self.span.start, window.end - self.span.start + 1)


def gather(values: np.ndarray, day0: np.ndarray, column: np.ndarray, relative: np.ndarray) -> np.ndarray:
    """``out[k, s] = values[day0[k] + relative[s], column[k]]``, NaN outside the data.

    ``relative`` must be consecutive. When many security-events share a day 0 (a clustered
    event hits every security at once), each shared day 0 is one slice of contiguous rows;
    otherwise one fancy-indexing gather.
    """
    n_rows = values.shape[0]
    first, width = int(relative[0]), len(relative)
    days, inverse = np.unique(day0, return_inverse=True)
    if len(days) * 20 <= len(day0):
        padded = np.full((n_rows + 2 * width, values.shape[1]), np.nan)
        padded[width:width + n_rows] = values
        out = np.empty((len(day0), width))
        for i, day in enumerate(days):
            rows = np.flatnonzero(inverse == i)
            start = int(np.clip(day + first + width, 0, n_rows + width))
            out[rows] = padded[start:start + width, column[rows]].T
        return out
    positions = day0[:, None] + relative[None, :]
    inside = (positions >= 0) & (positions < n_rows)
    out = values[np.clip(positions, 0, n_rows - 1), column[:, None]]
    out[~inside] = np.nan
    return out


def other_event_mask(
    day0: np.ndarray, column: np.ndarray, n_periods: int, n_columns: int, layout: Layout
) -> np.ndarray:
    """(K, M) mask of estimation periods that fall inside ANOTHER event's span for the same security.

    Each security-event covers ``[day0 + first event-window start, day0 + last end]``; coverage
    is counted per (period, security) with a difference array, then the event's own coverage
    is taken off.
    """
    span = layout.event_span
    cover = np.zeros((n_periods + 1, n_columns), dtype=np.int32)
    starts = np.clip(day0 + span.start, 0, n_periods)
    stops = np.clip(day0 + span.end + 1, 0, n_periods)
    np.add.at(cover, (starts, column), 1)
    np.add.at(cover, (stops, column), -1)
    cover = np.cumsum(cover, axis=0)[:n_periods]
    estimation = np.arange(layout.estimation.start, layout.estimation.end + 1)
    counts = gather(cover.astype(float), day0, column, estimation)
    own = ((estimation >= span.start) & (estimation <= span.end)).astype(float)
    return np.nan_to_num(counts, nan=0.0) - own[None, :] > 0


def same_period_share(day0: np.ndarray, column: np.ndarray) -> tuple[float, int, int]:
    """Clustering of security-events in calendar time.

    Returns
    -------
    (share, n_dates, largest)
        The share of security-events whose day 0 is shared with a security-event of another
        security, the number of distinct day-0 periods, and the largest number of distinct
        securities sharing one.
    """
    if len(day0) == 0:
        return 0.0, 0, 0
    # Distinct (day 0, security) pairs as one integer key, then distinct securities per day 0.
    width = int(column.max()) + 1
    pairs = np.unique(day0.astype(np.int64) * width + column)
    dates, per_date = np.unique(pairs // width, return_counts=True)
    shared = per_date[np.searchsorted(dates, day0)] > 1
    return float(shared.mean()), int(len(dates)), int(per_date.max())
