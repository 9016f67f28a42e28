"""The report's blocks for the strength of the evidence (issue 16): the verdict in the findings,
the key-figures table, warnings when the market moved on day 0, and per study the verdict
table, the placebo with its histogram, the calendar-time regression and the diagnostics.

Numbers come from the report's JSON through :meth:`Doc.cell`, like every other section.
"""
from __future__ import annotations

from .document import Callout, Doc, Figure, Inline, Paragraph, Subheading, Table
from .formatting import counted

LABELS = {"kp_bmp": "KP-BMP", "bmp": "BMP", "grank": "GRANK", "placebo": "placebo"}


def _primary(study: dict) -> tuple[int, int]:
    """(row in caar, row in verdicts) of the primary window."""
    primary = study["primary_window"]
    j = next(k for k, w in enumerate(study["caar"]) if w["window"] == primary)
    v = next(k for k, w in enumerate(study["verdicts"]) if w["window"] == primary)
    return j, v


def finding_paragraph(doc: Doc, i: int, study: dict) -> Paragraph:
    """'<study>: over [0, 5] the N tokens' CAAR was ... ; mixed evidence: placebo p = ..., KP-BMP p = ...'."""
    j, v = _primary(study)
    # A pooled study's N counts token-events (a token in two events counts twice).
    unit = "token-event" if study["id"] == "pooled" else "token"
    whose = counted(study["n"], unit) + ("'s" if study["n"] == 1 else "'")
    return Paragraph([
        f"{study['label']}: over {study['primary_window']} (the primary window) the {whose} average cumulative "
        "abnormal return (CAAR) was ",
        doc.cell("studies", i, "caar", j, "caar", kind="pct"),
        " (median ", doc.cell("studies", i, "caar", j, "median_car", kind="pct"), ", ",
        doc.cell("studies", i, "caar", j, "share_positive", kind="share"), f" of {unit}s positive); ",
        doc.cell("studies", i, "verdicts", v, "finding"), ".",
    ])


def _p(doc: Doc, i: int, study: dict, window: str, component: str, column: str) -> Inline:
    k = next((k for k, e in enumerate(study["evidence"]) if e["window"] == window and e["component"] == component), None)
    return doc.cell("studies", i, "evidence", k, column, kind="p") if k is not None else ""


def key_figures_table(doc: Doc, studies) -> Table:
    rows = []
    for i, study in studies:
        components = [c for c in ("placebo", *study["lead_tests"]) if any(e["component"] == c for e in study["evidence"])]
        for v, verdict in enumerate(study["verdicts"]):
            window = verdict["window"]
            j = next(k for k, w in enumerate(study["caar"]) if w["window"] == window)
            cells: list[Inline] = [study["id"], window + (" (primary)" if verdict["primary"] else ""),
                                   doc.cell("studies", i, "caar", j, "caar", kind="pct"),
                                   doc.cell("studies", i, "caar", j, "median_car", kind="pct"),
                                   doc.cell("studies", i, "caar", j, "share_positive", kind="share"),
                                   doc.cell("studies", i, "caar", j, "n", kind="int"),
                                   doc.cell("studies", i, "verdicts", v, "verdict")]
            text = [f"{LABELS[c]} " for c in components]
            for c, label in zip(components, text):
                cells += [label.strip(), _p(doc, i, study, window, c, "p_value"), _p(doc, i, study, window, c, "p_holm")]
            rows.append(cells + [""] * (3 * (3 - len(components))))
    columns = ["study", "window", "CAAR", "median CAR", "positive", "N", "verdict"]
    columns += [h for n in range(1, 4) for h in (f"test {n}", "p", "Holm p")]
    return Table(columns, rows,
                 "Key figures: CAAR per event window and the verdict (robust: every lead test and the placebo below alpha; "
                 "mixed: some; none: none), from the tests robust to event-induced variance (KP-adjusted BMP and GRANK when "
                 "events are clustered, else BMP and GRANK) and the placebo when it ran; Holm p adjusts across the windows.",
                 "verdicts")


def market_callouts(doc: Doc, studies) -> list[Callout]:
    """A warning for every benchmark tail move on day 0 and every flagged pre-event drift."""
    out, seen = [], set()
    for _, study in studies:
        for row in study["diagnostics_table"]:
            if not row["flag"] or row["detail"] in seen:
                continue
            if row["diagnostic"].startswith(("benchmark move on day 0", "market move on day 0")):
                out.append(Callout("warning", "market move on day 0", [row["detail"] + "."]))
            elif row["diagnostic"] == "pre-event drift":
                out.append(Callout("warning", "pre-event drift", [f"{study['id']}: the CAAR over [-10, -2] was already significant "
                                                                  f"({row['detail']}): leakage or an earlier story."]))
            seen.add(row["detail"])
    return out


def study_blocks(report, doc: Doc, i: int, study: dict) -> list:
    """The verdict, placebo, calendar-time and diagnostics blocks of one study's section."""
    blocks: list = [Subheading("Strength of the evidence")]
    rows = []
    for v, verdict in enumerate(study["verdicts"]):
        rows.append([verdict["window"] + (" (primary)" if verdict["primary"] else ""), doc.cell("studies", i, "verdicts", v, "verdict"),
                     doc.cell("studies", i, "verdicts", v, "largest_p", kind="p"), doc.cell("studies", i, "verdicts", v, "finding")])
    blocks.append(Table(["window", "verdict", "largest p", "finding"], rows,
                        f"Verdict per window at alpha {doc.data['settings']['alpha']:g}; the primary window is the one chosen in advance.",
                        "verdicts"))
    if study.get("placebo") is not None:
        blocks += _placebo(report, doc, i, study)
    if study.get("calendar_time") is not None:
        rows = [[r["window"], r["weights"], doc.cell("studies", i, "calendar_time", k, "g", kind="pct"),
                 doc.cell("studies", i, "calendar_time", k, "car", kind="pct"),
                 doc.cell("studies", i, "calendar_time", k, "statistic", kind="num2"),
                 doc.cell("studies", i, "calendar_time", k, "p_value", kind="p"),
                 doc.cell("studies", i, "calendar_time", k, "b", kind="num2"),
                 doc.cell("studies", i, "calendar_time", k, "nobs", kind="int"),
                 doc.cell("studies", i, "calendar_time", k, "maxlags", kind="int"), r.get("note") or ""]
                for k, r in enumerate(study["calendar_time"])]
        blocks.append(Table(["window", "weights", "g per period", "CAR = g x L", "statistic", "p", "beta", "T", "lags", "note"], rows,
                            "Calendar-time portfolio regression r_p = a + b r_m + g D (D = 1 on the window), OLS with Newey-West "
                            "errors on the estimation window plus the window: one time series, so cross-correlation cannot "
                            "inflate it; weak for a one-period window.", "calendar_time"))
    rows = [[r["diagnostic"], r["window"], doc.cell("studies", i, "diagnostics_table", k, "value", kind="sig"),
             doc.cell("studies", i, "diagnostics_table", k, "p_value", kind="p"), "yes" if r["flag"] else "", r["detail"]]
            for k, r in enumerate(study["diagnostics_table"])]
    blocks.append(Table(["diagnostic", "window / event", "value", "p", "flag", "detail"], rows,
                        "Diagnostics: event-induced variance (cross-sectional variance of SCARs, chi-square test that it exceeds 1), "
                        "pre-event drift, the estimation residuals, other calendar events in the event span, and the benchmark's "
                        "own move on day 0.", "diagnostics_table"))
    return blocks


def _placebo(report, doc: Doc, i: int, study: dict) -> list:
    blocks: list = []
    chart = report.charts.get(f"placebo-{study['id']}")
    if chart:
        blocks.append(Figure(chart.name, chart.title, chart.caption, chart.inline))
    rows = [[r["window"], doc.cell("studies", i, "placebo", k, "caar", kind="pct"),
             doc.cell("studies", i, "placebo", k, "p_value", kind="p"),
             doc.cell("studies", i, "placebo", k, "percentile", kind="num2"),
             doc.cell("studies", i, "placebo", k, "n_pseudo", kind="int"),
             doc.cell("studies", i, "placebo", k, "n_securities", kind="int"),
             doc.cell("studies", i, "placebo", k, "pseudo_sd", kind="pct")] for k, r in enumerate(study["placebo"])]
    left_out = ", ".join(r["security"] for r in study.get("placebo_excluded") or [])
    blocks.append(Table(["window", "event CAAR (placebo sample)", "placebo p", "percentile", "pseudo-events", "tokens",
                         "sd of pseudo-CAARs"], rows,
                        f"Placebo: the study rerun on every pseudo-event day {study['placebo_range']}, on the tokens with complete "
                        f"returns over every period it uses (left out: {left_out or 'none'}); "
                        "p = (1 + #{|pseudo CAAR| >= |event CAAR|}) / (1 + pseudo-events).", "placebo"))
    return blocks
