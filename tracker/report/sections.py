"""The report's sections, each a small function from the report's JSON to blocks.

Numbers come from the JSON through :meth:`Doc.cell`, so what a section prints is exactly what
``report.json`` holds. Order: findings first, then the set-up, the results per study, raw
moves, correlation, GPU context, methodology, caveats and provenance.
"""
from __future__ import annotations

from typing import Iterable

from ..analysis.eventstudy import TESTS
from . import evidence_sections
from .build import ReportData
from .document import BulletList, Callout, Doc, Figure, FigureRow, Inline, Link, Paragraph, Section, Subheading, Table
from .formatting import plain_time
from .reaction import reaction_section
from .svg import inline_svg

_UNIT = {"daily": "day", "hourly": "hour"}


def _figure(report: ReportData, name: str) -> list[Figure]:
    chart = report.charts.get(name)
    return [Figure(chart.name, chart.title, chart.caption, chart.inline)] if chart else []


def _glance(report: ReportData, doc: Doc) -> list[FigureRow]:
    """The first study's CAAR and the first event's raw moves, side by side at the top.

    They are second copies of charts shown further down, so their SVG ids get their own prefix.
    """
    names = [f"caar-{s['id']}" for _, s in _ok_studies(doc)][:1] + [f"moves-{e['event_id']}" for e in doc.data["events"]][:1]
    figures = [Figure(f"glance-{c.name}", c.title, c.caption, inline_svg(c.svg, f"g{i}", c.title))
               for i, c in enumerate(report.charts[n] for n in names if n in report.charts)]
    return [FigureRow(figures)] if figures else []


def _ok_studies(doc: Doc) -> Iterable[tuple[int, dict]]:
    return [(i, s) for i, s in enumerate(doc.data["studies"]) if s["status"] == "ok"]


def _title(test: str) -> str:
    return TESTS[test].title if test in TESTS else test


def _event_name(doc: Doc, event_id: str) -> str:
    return next((e["name"] for e in doc.data["events"] if e["event_id"] == event_id), event_id)


# ---------------------------------------------------------------- findings
def findings(report: ReportData, doc: Doc) -> Section:
    blocks: list = [Paragraph(["Question: ", doc.data["question"]])]
    for i, study in _ok_studies(doc):
        blocks.append(evidence_sections.finding_paragraph(doc, i, study))
    blocks.append(evidence_sections.key_figures_table(doc, _ok_studies(doc)))
    blocks += evidence_sections.market_callouts(doc, _ok_studies(doc))
    for warning in doc.data["warnings"]:
        blocks.append(Callout("warning", warning["kind"].replace("-", " "), [warning["message"]]))
    for study in doc.data["studies"]:
        if study["status"] != "ok":
            blocks.append(Callout("warning", f"{study['id']} not studied", [study["error"] or ""]))
    blocks += _glance(report, doc)
    return Section("findings", "Findings", blocks)


# ---------------------------------------------------------------- set-up
def setup(report: ReportData, doc: Doc) -> Section:
    s = doc.data["settings"]
    unit = _UNIT[s["frequency"]]
    blocks: list = [Subheading("Events")]
    rows = []
    for i, e in enumerate(doc.data["events"]):
        source: Inline = Link("source", e["source_url"]) if e.get("source_url") else ""
        rows.append([e["event_id"], e["name"], e["ts"].replace("T", " ") + " UTC", "yes" if e["time_known"] else "date only",
                     e["kind"], e["day0"].replace("T00:00:00", ""), doc.cell("events", i, "sample_size", kind="int"), source])
    blocks.append(Table(["event", "name", "time", "time known", "kind", f"{unit} 0", "sample", "source"], rows,
                        f"{unit.capitalize()} 0 is the UTC {unit} that contains the announcement.", "events"))
    if s["sample_rule"] == "category":
        why = (f"Sample: the members of CoinGecko category {s['category']} at each event's instant (point-in-time "
               "membership from the category_members table), so a token that joined later is not in an earlier event's sample.")
    else:
        why = f"Sample: an explicit list of {len(s['tokens'])} coin ids given with --tokens ({', '.join(s['tokens'])})."
    benchmark = s["benchmark"] + (f" ({s['index_weights']}-weighted)" if s.get("index_weights") else "")
    blocks.append(BulletList([
        [why],
        [f"Benchmark: {benchmark}."],
        [f"Model: {s['model_description']}."],
        [f"Estimation window {s['estimation_window']}: {s['estimation_length']} {unit}s ending well before {unit} 0; "
         f"a token needs at least {s['min_estimation_obs']} returns in it."],
        [f"Event windows: {', '.join(s['event_windows'])} ({unit}s relative to {unit} 0, inclusive at both ends)."],
        [f"Returns: {s['return_kind']}, {s['frequency']} closes (a UTC {unit}'s close is its last price before the {unit} ends); "
         "CARs are arithmetic sums of abnormal returns."],
        ["Other events' windows are left out of each estimation window." if s["exclude_other_events"]
         else "Other events inside an estimation window are not left out (--exclude-other-events would)."],
    ]))
    blocks.append(Subheading("Sample, data coverage and exclusions"))
    several = len(doc.data["events"]) > 1
    rows = []
    for i, r in enumerate(doc.data["sample"]):
        reason = r["reason"] + (f" ({r['detail']})" if r["detail"] else "")
        rows.append(([r["event_id"]] if several else []) + [r["coin_id"], r["symbol"], r["why"], r["status"],
                     doc.cell("sample", i, "estimation_obs", kind="int"),
                     doc.cell("sample", i, "event_window_returns", kind="int"),
                     doc.cell("sample", i, "event_window_periods", kind="int"), reason])
    blocks.append(Table((["event"] if several else []) + ["token", "symbol", "why in the sample", "status", "estimation returns",
                         "event-window returns", f"of {unit}s", "reason left out"], rows,
                        "Every token considered: why it is in the sample, and whether the study used it.", "sample"))
    return Section("setup", "Question and set-up", blocks)


# ---------------------------------------------------------------- results per study
def study_section(report: ReportData, doc: Doc, i: int) -> Section:
    study = doc.data["studies"][i]
    anchor = f"study-{study['id']}"
    title = study["label"] if study["id"] == "pooled" else f"{_event_name(doc, study['id'])} ({study['id']})"
    if study["status"] != "ok":
        return Section(anchor, title, [Callout("warning", "not studied", [study["error"] or ""])])
    unit = _UNIT[study["settings"]["frequency"]]
    blocks: list = [Paragraph([
        f"{study['n']} token-events used, {study['excluded_count']} left out. ",
        doc.cell("studies", i, "clustering", "share_same_period", kind="share"),
        f" of token-events share {unit} 0 with another token (mean residual correlation ",
        doc.cell("studies", i, "clustering", "mean_residual_correlation", kind="num3"), "). ",
        "Events that share dates are cross-correlated, so tests that treat tokens as independent over-reject; "
        "the tables lead with the dependence-robust tests." if study["clustered"]
        else "The events are spread in time, so the classic tests apply.",
    ])]
    blocks += _figure(report, f"caar-{study['id']}")
    rows = []
    for j, w in enumerate(study["caar"]):
        rows.append([w["window"], doc.cell("studies", i, "caar", j, "caar", kind="pct"),
                     doc.cell("studies", i, "caar", j, "median_car", kind="pct"),
                     doc.cell("studies", i, "caar", j, "sd_car", kind="spread"),
                     doc.cell("studies", i, "caar", j, "share_positive", kind="share"),
                     doc.cell("studies", i, "caar", j, "n", kind="int")])
    blocks.append(Table(["window", "CAAR", "median CAR", "sd of CARs", "positive", "N"], rows, "CAAR per event window.", "caar"))
    blocks += _figure(report, f"car-{study['id']}")
    blocks.append(_car_table(doc, i, study))
    blocks.append(_aar_table(doc, i, study, unit))
    blocks.append(_tests_table(doc, i, study))
    blocks += evidence_sections.study_blocks(report, doc, i, study)
    return Section(anchor, title, blocks)


def _car_table(doc: Doc, i: int, study: dict) -> Table:
    windows = [w["window"] for w in study["caar"]]
    several = len(study["event_ids"]) > 1
    keys: dict[tuple, dict[str, int]] = {}
    for j, row in enumerate(study["car"]):
        keys.setdefault((row["event_id"], row["security"]), {})[row["window"]] = j
    rows = []
    for (event_id, security), by_window in keys.items():
        cells: list[Inline] = ([event_id] if several else []) + [security]
        for window in windows:
            j = by_window[window]
            cells += [doc.cell("studies", i, "car", j, "car", kind="pct"), doc.cell("studies", i, "car", j, "scar", kind="num2")]
        rows.append(cells)
    columns = (["event"] if several else []) + ["token"] + [f"{h} {w}" for w in windows for h in ("CAR", "SCAR")]
    return Table(columns, rows, "CAR per token and window; SCAR = CAR / its standard deviation from the estimation window.", "car")


def _aar_table(doc: Doc, i: int, study: dict, unit: str) -> Table:
    lead = study["lead_test"]
    by_day = {t["start"]: k for k, t in enumerate(study["tests"]) if t["scope"] == "day" and t["test"] == lead}
    dated = "period" in (study["aar"][0] if study["aar"] else {})
    rows = []
    for j, row in enumerate(study["aar"]):
        cells: list[Inline] = [doc.cell("studies", i, "aar", j, "relative_period", kind="int")]
        if dated:
            cells.append(row["period"].replace("T00:00:00", "").replace("T", " "))
        cells += [doc.cell("studies", i, "aar", j, "aar", kind="pct"), doc.cell("studies", i, "aar", j, "caar", kind="pct"),
                  doc.cell("studies", i, "aar", j, "sd_ar", kind="spread"), doc.cell("studies", i, "aar", j, "share_positive", kind="share")]
        k = by_day.get(row["relative_period"])
        cells += [doc.cell("studies", i, "tests", k, "statistic", kind="num2"), doc.cell("studies", i, "tests", k, "p_value", kind="p")] if k is not None else ["", ""]
        rows.append(cells)
    columns = [unit] + (["date"] if dated else []) + ["AAR", "CAAR", "sd of ARs", "positive", f"{lead} statistic", f"{lead} p"]
    return Table(columns, rows, f"Average abnormal return per {unit} of the event span, cumulated from its first {unit}; "
                                f"the last columns test each {unit}'s AAR with {_title(lead)}.", "aar")


def _tests_table(doc: Doc, i: int, study: dict) -> Table:
    windows = [w["window"] for w in study["caar"]]
    order: list[str] = []
    where: dict[tuple[str, str], int] = {}
    for k, t in enumerate(study["tests"]):
        if t["scope"] != "window":
            continue
        if t["test"] not in order:
            order.append(t["test"])
        where[(t["test"], t["window"])] = k
    rows = []
    for test in order:
        first = where[(test, windows[0])]
        cells: list[Inline] = [_title(test), "yes" if study["tests"][first]["robust_to_cross_correlation"] else "no",
                               study["tests"][first]["distribution"]]
        for window in windows:
            k = where.get((test, window))
            cells += [doc.cell("studies", i, "tests", k, "statistic", kind="num2"), doc.cell("studies", i, "tests", k, "p_value", kind="p")] if k is not None else ["", ""]
        flagged = [w for w in windows if (test, w) in where and study["tests"][where[(test, w)]].get("flag")]
        rows.append(cells + [f"assumes no event-induced variance; variance rose over {', '.join(flagged)}" if flagged else ""])
    heading = ("the verdict's lead tests first, then the dependence-robust ones, because the events are clustered" if study["clustered"]
               else "the verdict's lead tests first")
    columns = ["test", "robust to cross-correlation", "distribution"] + [f"{h} {w}" for w in windows for h in ("stat", "p")] + ["flag"]
    return Table(columns, rows, f"The test battery on each window's CAAR, two-sided p-values, {heading}.", "tests")


# ---------------------------------------------------------------- raw moves
def raw_moves(report: ReportData, doc: Doc) -> Section:
    s = doc.data["settings"]
    blocks: list = [Paragraph([
        "How the press reports a move: each token's price change from one daily close to another, no model and no benchmark "
        f"adjustment. The window {s['move_window']} runs from the close of day {s['move_window'].strip('[]').split(',')[0]} "
        "to the close of the last day (for the Sora demo, 2024-02-12 to 2024-02-19). The event-day move is the close of "
        "day -1 to the close of day 0.",
    ])]
    for event in doc.data["events"]:
        indices = [j for j, m in enumerate(doc.data["raw_moves"]) if m["event_id"] == event["event_id"]]
        if not indices:
            continue
        first = doc.data["raw_moves"][indices[0]]
        blocks.append(Subheading(f"{event['name']}: {first['start_day']} \u2192 {first['end_day']}"))
        blocks += _figure(report, f"moves-{event['event_id']}")
        rows = []
        for j in indices:
            m = doc.data["raw_moves"][j]
            rows.append([m["coin_id"], m["role"], doc.cell("raw_moves", j, "close_start", kind="price"),
                         doc.cell("raw_moves", j, "close_end", kind="price"), doc.cell("raw_moves", j, "move", kind="pct"),
                         doc.cell("raw_moves", j, "day0_move", kind="pct"), m["note"]])
        blocks.append(Table(["token", "role", f"close {first['start_day']}", f"close {first['end_day']}",
                             f"move {first['start_day']} \u2192 {first['end_day']}", "event-day move", "note"], rows,
                            "Closes in USD; moves are simple returns.", "raw_moves"))
    return Section("raw-moves", "Raw moves, as the press reports them", blocks)


# ---------------------------------------------------------------- correlation
def correlation(report: ReportData, doc: Doc) -> Section:
    blocks: list = [Paragraph([
        "Did the event change how the tokens move with the market and with each other? Pearson correlations of log returns "
        "in a window before the event and a window of the same length starting with the event's period, with Fisher's z test "
        "of the change (p_adj: Benjamini-Hochberg over the pairs). The test treats the windows as independent samples; fat "
        "tails and volatility clustering make it somewhat anti-conservative, so read p near 0.05 as weak evidence.",
    ])]
    for i, c in enumerate(doc.data["correlation"]):
        blocks.append(Subheading(f"{_event_name(doc, c['event_id'])}"))
        if c["status"] != "ok":
            blocks.append(Callout("info", "not available", [c["error"] or ""]))
            continue
        st = c["settings"]
        unit = "hours" if st["frequency"] == "hourly" else "days"
        summary = c["tokens_summary"]
        parts: list[Inline] = [f"Windows: {st['pre_periods']} {unit} before ({st['pre_start'][:10]} to {st['pre_end'][:10]}, end exclusive) "
                               f"and {st['post_periods']} {unit} from the event's period ({st['post_start'][:10]} to {st['post_end'][:10]}). "]
        if summary:
            parts += ["Among the tokens, the mean pairwise correlation went from ",
                      doc.cell("correlation", i, "tokens_summary", "mean_r_pre", kind="num3"), " to ",
                      doc.cell("correlation", i, "tokens_summary", "mean_r_post", kind="num3"), " over ",
                      doc.cell("correlation", i, "tokens_summary", "pairs_with_both_windows", kind="int"), " pairs; ",
                      doc.cell("correlation", i, "tokens_summary", "significant_rises", kind="int"), " pairs rose and ",
                      doc.cell("correlation", i, "tokens_summary", "significant_falls", kind="int"), " fell significantly."]
        blocks.append(Paragraph(parts))
        blocks += _figure(report, f"correlation-{c['event_id']}")
        rows = []
        for j, pair in enumerate(c["pairs"]):
            rows.append([pair["x"], pair["y"]] + [doc.cell("correlation", i, "pairs", j, key, kind=kind) for key, kind in (
                ("n_pre", "int"), ("r_pre", "num3"), ("n_post", "int"), ("r_post", "num3"), ("delta", "num3"), ("z", "num2"),
                ("p_value", "p"), ("p_adj", "p"))])
        blocks.append(Table(["token", "benchmark", "n pre", "r pre", "n post", "r post", "change", "z", "p", "p adj"], rows,
                            "Correlation of each token with each benchmark before and after the event.", "correlation"))
    return Section("correlation", "Correlation before and after", blocks)


# ---------------------------------------------------------------- GPU context
def gpu(report: ReportData, doc: Doc) -> Section:
    g = doc.data["gpu"]
    by_name = {row["output"]: j for j, row in enumerate(g["outputs"])}
    peak, shipments = by_name.get("peak_h100"), by_name.get("peak_share_of_2023_shipments")
    overridden = ", ".join(g["overridden"]) if g["overridden"] else "none (the article's inputs)"
    blocks: list = [Paragraph([
        "Context, not a result of this study. The Sora story that moved AI tokens rests on hardware arithmetic: the Factorial Funds "
        "model (Plappert, 2024) of Sora's compute, reproduced by the tracker's GPU estimator with every assumption a parameter. "
        "If half of TikTok's and part of YouTube's uploads were Sora-style video, the peak would need ",
        doc.cell("gpu", "outputs", peak, "value", kind="big") if peak is not None else "n/a", " H100s, ",
        doc.cell("gpu", "outputs", shipments, "value", kind="num2") if shipments is not None else "n/a",
        f" times Nvidia's 2023 H100 shipments. Assumptions changed: {overridden}; the estimate "
        f"{'reproduces' if g['reproduces_article'] else 'does not reproduce'} the article's published figures.",
    ])]
    rows = []
    for j, row in enumerate(g["outputs"]):
        if row["output"] not in {h["output"] for h in g["headline"]}:
            continue
        rows.append([row["description"], doc.cell("gpu", "outputs", j, "value", kind="big"), row["unit"],
                     doc.cell("gpu", "outputs", j, "article", kind="big"), row["output"]])
    blocks.append(Table(["what", "value", "unit", "article", "output"], rows,
                        "Headline outputs (every output is in report.json and tables/gpu_outputs.csv).", "gpu_outputs"))
    blocks += _figure(report, "gpu-tornado")
    blocks.append(Subheading("What to keep in mind"))
    blocks.append(BulletList([[note] for note in g["notes"]]))
    blocks.append(Subheading("Assumptions"))
    rows = []
    for j, a in enumerate(g["assumptions"]):
        rows.append([a["name"], doc.cell("gpu", "assumptions", j, "value", kind="big"), a["unit"], "yes" if a["overridden"] else "",
                     a["tag"] or "", a["source"] or ""])
    blocks.append(Table(["assumption", "value", "unit", "changed", "tag", "source"], rows,
                        "Tags: P published, R reconstructed, C cited, I implied (see docs/gpu.md). Change one with --gpu-set NAME=VALUE.",
                        "gpu_assumptions"))
    return Section("gpu", "GPU-demand context", blocks)


# ---------------------------------------------------------------- methodology and caveats
def methodology(report: ReportData, doc: Doc) -> Section:
    s = doc.data["settings"]
    unit = _UNIT[s["frequency"]]
    blocks: list = [BulletList([
        [f"Normal returns: {s['model_description']}, fitted per token on the estimation window {s['estimation_window']}. "
         "The abnormal return (AR) is the token's return minus its normal return; the CAR sums ARs over a window, the AAR "
         "averages ARs across tokens and the CAAR averages CARs."],
        [f"{unit.capitalize()} 0 is the first UTC {unit} whose close comes after the announcement; a {unit}'s close is the last "
         f"price observed before the {unit} ends. Windows are inclusive, so [0, 5] is six {unit}s."],
        ["Tests: every test gives a two-sided p-value and names its distribution. When the tokens share event dates their "
         "abnormal returns are cross-correlated; Brown-Warner 1985, the Kolari-Pynnonen adjusted Patell and BMP, the Corrado "
         "rank and GRANK tests allow for it, the others assume independence and over-reject."],
        ["Verdict per window: robust when the lead tests (KP-adjusted BMP and GRANK with clustered events, else BMP and "
         "GRANK; both allow for event-induced variance) and, when it ran, the placebo p are all below alpha; mixed when some "
         "are; none when none is. Tests that take their variance from the estimation window alone are flagged when the "
         "cross-sectional variance of the standardized CARs rose."],
        ["CAAR band: with clustered events, the crude-dependence band (sd of the AAR over the estimation window x sqrt of "
         "the periods cumulated); otherwise the cross-sectional sd of the cumulated CARs / sqrt(N)."],
        ["Raw moves are plain close-to-close changes; correlations use log returns and Fisher's z; the GPU figures come from "
         "the tracker's estimator with the assumptions listed."],
    ])]
    rows = [[_title(t["test"]), "yes" if t["robust_to_cross_correlation"] else "no", t["why"]] for t in doc.data["methodology"]["tests"]]
    blocks.append(Table(["test", "robust to cross-correlation", "why"], rows, "The test battery (docs/eventstudy.md has the formulas)."))
    return Section("methodology", "Methodology", blocks)


def caveats(report: ReportData, doc: Doc) -> Section:
    items = [
        ["An event study measures association around a date, not cause: other news in the window moves prices too."],
        ["Few tokens and one date make a small sample; the dependence-robust tests are the honest ones, and their power is low."],
        ["The verdict reads the lead tests on the primary window chosen in advance; for the other windows read the Holm-adjusted "
         "p-values beside the raw ones. The other tests of the battery are not adjusted for multiplicity."],
        ["Crypto trades around the clock; daily closes at 00:00 UTC split a US-evening announcement's reaction over two days, "
         "which the windows starting at -1 and running past 0 cover."],
        ["Category membership is CoinGecko's, as recorded when the tracker saw it; tokens delisted before the data was "
         "collected are missing (survivorship)."],
    ]
    if any(w["kind"] == "overlapping-windows" for w in doc.data["warnings"]):
        items.append(["Event windows overlap (see the warnings): the overlapping days belong to both events."])
    if doc.data["report"]["simulated"]:
        items.insert(0, [f"SIMULATED DATA: {doc.data['report']['simulated_reason']}. No number here describes a real market."])
    return Section("caveats", "Caveats", [BulletList(items)])


# ---------------------------------------------------------------- provenance
def provenance(report: ReportData, doc: Doc) -> Section:
    r, p = doc.data["report"], doc.data["provenance"]
    plan = p["plan"]
    blocks: list = [BulletList([
        [f"Generated {r['generated_at'].replace('T', ' ')} UTC by {r['generator']} {r['tracker_version']}"
         + (f" with: {r['command']}" if r.get("command") else ".")],
        [f"Database: {p['database']['path']} (schema version ", doc.cell("provenance", "database", "schema_version", kind="int"), ")."],
        [f"CoinGecko plan in the config: {plan['plan']} at {plan['base_url']}, API key {plan['api_key']}; prices in {plan['vs_currency'].upper()}."
         + (" This is a server on this machine, not CoinGecko." if plan["loopback_server"] else "")],
        [f"Prices read from {p['price_range']['first'][:10]} to {p['price_range']['last'][:10]}."],
    ])]
    links = [[Link(f"{e['event_id']}: {e['name']}", e["source_url"])] for e in doc.data["events"] if e.get("source_url")]
    if links:
        blocks.append(Subheading("Event sources"))
        blocks.append(BulletList(links))
    rows = [[row["coin_id"], row["source"], doc.cell("provenance", "price_sources", j, "closes", kind="int"),
             str(row["first_close"])[:10], str(row["last_close"])[:10]] for j, row in enumerate(p["price_sources"])]
    blocks.append(Subheading("Price source per token"))
    blocks.append(Paragraph([f"Each token's closes come from one source: {p['source_rule']}."]))
    blocks.append(Table(["token", "source", "quote", "closes", "first", "last", "not used"],
                        [r[:2] + [src["quote"]] + r[2:] + [src["not_used"] or ""] for r, src in zip(rows, p["price_sources"])],
                        "The one source of each token's closes (docs/reports.md, \"Sources\"); 'not used' lists the other stored sources.",
                        "price_sources"))
    blocks.append(Subheading("Last ingestion runs"))
    if p["ingest_runs"]:
        rows = [[run["job"], plain_time(run["started_at"]), plain_time(run["finished_at"]), run["status"],
                 doc.cell("provenance", "ingest_runs", j, "calls", kind="int"), doc.cell("provenance", "ingest_runs", j, "rows", kind="int"),
                 run["error"] or ""] for j, run in enumerate(p["ingest_runs"])]
        blocks.append(Table(["job", "started (UTC)", "finished (UTC)", "status", "calls", "rows", "error"], rows,
                            "The newest run of each job in ingest_runs.", "ingest_runs"))
    else:
        blocks.append(Paragraph(["No ingestion run is recorded in this database."]))
    return Section("provenance", "Data provenance", blocks)


def all_sections(report: ReportData) -> list[Section]:
    """Every section in reading order."""
    doc = Doc(report.doc)
    sections = [findings(report, doc), setup(report, doc)]
    sections += [study_section(report, doc, i) for i in range(len(doc.data["studies"]))]
    sections += [raw_moves(report, doc)]
    sections += [s for s in [reaction_section(report, doc)] if s is not None]  # only with minute candles
    sections += [correlation(report, doc), gpu(report, doc), methodology(report, doc),
                 caveats(report, doc), provenance(report, doc)]
    return sections

