"""Derive the fake market's calibration (tracker/sources/fakegecko/calibration.toml) from real prices.

Run from the repository root, with ../shared beside it:

    .venv/bin/python docs/demo_calibration.py > tracker/sources/fakegecko/calibration.toml

Inputs (all in ../shared/realdata, described in its SOURCES.md):

* ``daily_close_binance_spot_from_hourly.csv``: Binance spot daily closes (USDT). The reference
  close is 2024-02-14's (the eve of the Sora demo); betas, volatilities, tails and the AI factor
  are measured on the daily log returns of the year before it (2023-02-15 .. 2024-02-14).
* ``hyperliquid_perp_15m_2024Q1/``: the last 15-minute close of a UTC day, for RNDR on 2024-02-14
  and TAO on 2024-02-20 (its first full day there), which Binance spot lacks.
* ``category_snapshots/coingecko_ai_category_erc20_top10_30dMA_2024-02-19_indexcoop.csv``: CoinGecko
  30-day average market caps as of 2024-02-19 (Index Coop's icAI RFC). For FET and ARKM the
  circulating supply is that cap over the 30-day mean Binance close; for AGIX, OCEAN, TRAC, GLM
  and RLC (no 2024 prices in the shared data) the price is that cap over the public supply below.

Circulating supplies not derivable from those files are rounded public figures of CoinGecko's coin
pages around February 2024, typed in here (no stored snapshot of those pages exists; good to
about 10%, enough for ranks and for the 2x bound on prices, which come from the files). Coins the shared data does
not price get no price here: the fake server makes one up, small-cap, at their listing date.
Parameters of coins without a year of returns are the medians of the measured AI tokens.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata"
REFERENCE = "2024-02-14"
WINDOW = ("2023-02-15", "2024-02-14")
EVENT_DAYS = ("2024-02-15", "2024-02-20")  # Sora: day 0 .. +5
MIN_DAYS = 120
DOF_RANGE = (3.0, 30.0)  # below 3 a Student t has no finite variance to scale to the volatility
# Binance symbols of AI tokens, measured for the medians and the AI factor even if the fake has no such coin.
AI_SYMBOLS = ["FET", "GRT", "NEAR", "WLD", "ARKM", "NMR", "ICP", "PHB", "IQ", "MDT", "THETA", "ROSE", "TRB", "IOTX", "ARPA"]

# coin id -> (symbol, Binance or Hyperliquid column, listing date, circulating supply or None, is AI, supply note)
# Listing dates: the first day of the Binance data when it starts after 2021-01-01, else CoinGecko's
# first price (rounded public figures); 2018-01-01 is the fake's first day.
COINS = {
    "bitcoin": ("BTC", "BTC", "2018-01-01", 19.63e6, False, "coingecko-feb-2024"),
    "ethereum": ("ETH", "ETH", "2018-01-01", 120.2e6, False, "coingecko-feb-2024"),
    "binancecoin": ("BNB", "BNB", "2018-01-01", 149.5e6, False, "coingecko-feb-2024"),
    "solana": ("SOL", "SOL", "2020-04-11", 443e6, False, "coingecko-feb-2024"),
    "fetch-ai": ("FET", "FET", "2019-02-28", None, True, "indexcoop-30dma"),
    "the-graph": ("GRT", "GRT", "2020-12-17", 9.44e9, True, "coingecko-feb-2024"),
    "near": ("NEAR", "NEAR", "2020-10-14", 1.06e9, True, "coingecko-feb-2024"),
    "worldcoin-wld": ("WLD", "WLD", "2023-07-24", 128e6, True, "coingecko-feb-2024"),
    "arkham": ("ARKM", "ARKM", "2023-07-18", None, True, "indexcoop-30dma"),
    "numeraire": ("NMR", "NMR", "2018-01-01", 6.4e6, True, "coingecko-feb-2024"),
    "internet-computer": ("ICP", "ICP", "2021-05-10", 459e6, True, "coingecko-feb-2024"),
    "render-token": ("RENDER", "hl:RNDR", "2020-06-11", 378e6, True, "coingecko-feb-2024"),
    "bittensor": ("TAO", "hl:TAO", "2023-03-06", 6.3e6, True, "coingecko-feb-2024"),
    "io-net": ("IO", "IO", "2024-06-11", 95e6, True, "coingecko-jun-2024"),
    "singularitynet": ("AGIX", "ic:AGIX", "2018-01-19", 1.27e9, True, "coingecko-feb-2024"),
    "ocean-protocol": ("OCEAN", "ic:OCEAN", "2019-05-06", 568e6, True, "coingecko-feb-2024"),
    "origintrail": ("TRAC", "ic:TRAC", "2018-01-15", 400e6, True, "coingecko-feb-2024"),
    "golem": ("GLM", "ic:GLM", "2018-01-01", 1.0e9, True, "coingecko-feb-2024"),
    "iexec-rlc": ("RLC", "ic:RLC", "2018-01-01", 72.4e6, True, "coingecko-feb-2024"),
    # No price in the shared data: listing dates only (CoinGecko, rounded public figures).
    "akash-network": ("AKT", None, "2020-09-25", None, True, ""),
    "virtual-protocol": ("VIRTUAL", None, "2024-01-01", None, True, ""),
    "oraichain-token": ("ORAI", None, "2020-10-21", None, True, ""),
    "cortex": ("CTXC", None, "2018-04-12", None, True, ""),
    "phala-network": ("PHA", None, "2020-09-01", None, True, ""),
    "nosana": ("NOS", None, "2022-01-17", None, True, ""),
    "aethir": ("ATH", None, "2024-06-12", None, True, ""),
    "grass": ("GRASS", None, "2024-10-28", None, True, ""),
    "ai16z": ("AI16Z", None, "2024-10-25", None, True, ""),
    "aixbt": ("AIXBT", None, "2024-11-02", None, True, ""),
}


def _log_returns(closes: pd.DataFrame) -> pd.DataFrame:
    return np.log(closes).diff()


def _hyperliquid_close(symbol: str, day: str) -> float:
    frame = pd.read_csv(REAL / "hyperliquid_perp_15m_2024Q1" / f"{symbol}_15m_hyperliquid.csv")
    return float(frame.loc[frame["start_time"].str[:10] == day, "close"].iloc[-1])


def _measure(returns: pd.DataFrame) -> pd.DataFrame:
    """Beta to BTC, daily volatility, residual volatility and Student-t tails, per column."""
    market = returns["BTC"]
    rows = {}
    for column in returns:
        pair = pd.concat([returns[column], market], axis=1, keys=["x", "m"]).dropna()
        if len(pair) < MIN_DAYS:
            continue
        beta = 1.0 if column == "BTC" else float(np.cov(pair["x"], pair["m"])[0, 1] / pair["m"].var())
        residual = pair["x"] - beta * pair["m"] if column != "BTC" else pair["x"] - pair["x"].mean()
        dof = stats.t.fit(residual.to_numpy())[0]
        rows[column] = {"beta": beta, "volatility": float(pair["x"].std()), "dof": float(np.clip(dof, *DOF_RANGE)),
                        "corr_btc": float(pair["x"].corr(pair["m"])), "days": len(pair)}
    return pd.DataFrame(rows).T


def _ai_loadings(returns: pd.DataFrame, measured: pd.DataFrame) -> pd.Series:
    """One common factor of the AI tokens' BTC residuals: principal-axis loadings (residual correlation)."""
    symbols = [s for s in AI_SYMBOLS if s in measured.index]
    residuals = pd.DataFrame({s: returns[s] - measured.loc[s, "beta"] * returns["BTC"] for s in symbols})
    corr = residuals.corr(min_periods=MIN_DAYS).to_numpy().copy()
    loadings = np.full(len(symbols), 0.5)
    for _ in range(200):
        np.fill_diagonal(corr, loadings ** 2)
        values, vectors = np.linalg.eigh(corr)
        loadings = np.abs(vectors[:, -1]) * np.sqrt(values[-1])
    return pd.Series(np.clip(loadings, 0.0, 0.95), index=symbols)


def _event(returns: pd.DataFrame, measured: pd.DataFrame, loadings: pd.Series) -> tuple[float, float]:
    """The Sora week in AI-factor units: mean drift per day, and the ratio of event to normal volatility."""
    drift_num = drift_den = 0.0
    event_sd, normal_sd = [], []
    for s in loadings.index:
        residual_sd = np.sqrt(max(measured.loc[s, "volatility"] ** 2 - (measured.loc[s, "beta"] * measured.loc["BTC", "volatility"]) ** 2, 1e-8))
        abnormal = returns[s] - measured.loc[s, "beta"] * returns["BTC"]
        window = abnormal.loc[EVENT_DAYS[0]:EVENT_DAYS[1]].dropna()
        drift_num += window.sum()
        drift_den += len(window) * loadings[s] * residual_sd
        event_sd.append(window.std())
        normal_sd.append(abnormal.loc[WINDOW[0]:WINDOW[1]].std())
    return drift_num / drift_den, float(np.clip(np.median(np.array(event_sd) / np.array(normal_sd)), 1.0, 4.0))


def main() -> None:
    closes = pd.read_csv(REAL / "daily_close_binance_spot_from_hourly.csv", index_col="date_utc")
    returns = _log_returns(closes)
    measured = _measure(returns.loc[WINDOW[0]:WINDOW[1]])
    loadings = _ai_loadings(returns.loc[WINDOW[0]:WINDOW[1]], measured)
    factor_drift, vol_multiplier = _event(returns, measured, loadings)
    ai_measured = measured.loc[loadings.index]
    median = {"beta": ai_measured["beta"].median(), "volatility": ai_measured["volatility"].median(),
              "dof": ai_measured["dof"].median(), "ai_loading": loadings.median()}
    indexcoop = pd.read_csv(REAL / "category_snapshots" / "coingecko_ai_category_erc20_top10_30dMA_2024-02-19_indexcoop.csv",
                            index_col="symbol").iloc[:, 1]
    month = closes.loc["2024-01-21":"2024-02-19"].mean()

    out = sys.stdout
    out.write(HEADER.format(reference=REFERENCE, start=WINDOW[0], end=WINDOW[1],
                            median_corr=float(ai_measured["corr_btc"].median()), n_ai=len(ai_measured)))
    out.write(f'[market]\ncoin = "bitcoin"\nvolatility = {measured.loc["BTC", "volatility"]:.4f}\ndof = {measured.loc["BTC", "dof"]:.1f}\n\n')
    out.write(f"[ai_factor]\n# Student-t tails of the common AI shock (the median of the AI tokens' residual tails)\ndof = {median['dof']:.1f}\n\n")
    out.write(f'[event]\n# A Sora-like rally: days 0..+5 from day0, in AI-factor standard deviations per day, and the\n'
              f'# multiplier on the AI tokens\' residual volatility those days (measured on the real Sora week).\n'
              f'day0 = "{EVENT_DAYS[0]}"\ndays = 6\nfactor_drift = {factor_drift:.3f}\nvolatility_multiplier = {vol_multiplier:.2f}\n\n')
    out.write("[coins]\n")
    for coin_id, (symbol, column, listed, supply, is_ai, supply_note) in COINS.items():
        price, price_date, price_note = None, REFERENCE, ""
        if column and column.startswith("hl:"):
            price_date = "2024-02-20" if symbol == "TAO" else REFERENCE
            price, price_note = _hyperliquid_close(column[3:], price_date), "hyperliquid-perp"
        elif column and column.startswith("ic:"):
            price, price_note = float(indexcoop[column[3:]]) / supply, "indexcoop-30dma/supply"
        elif column:
            if pd.isna(closes.loc[REFERENCE, column]):
                price_date = closes[column].first_valid_index()
            price, price_note = float(closes.loc[price_date, column]), "binance-spot"
        if supply is None and column:
            supply = float(indexcoop[symbol]) / float(month[symbol])
        params = measured.loc[column].to_dict() if column in measured.index else dict(median)
        loading = float(loadings.get(column, median["ai_loading"])) if is_ai else 0.0
        fields = [f'symbol = "{symbol}"', f'listed = "{listed}"']
        if price is not None:
            fields += [f'price = {price:.6g}', f'price_date = "{price_date}"', f'market_cap = {price * supply:.3e}']
        fields += [f'beta = {params["beta"]:.2f}', f'volatility = {params["volatility"]:.4f}', f'ai_loading = {loading:.2f}',
                   f'dof = {params["dof"]:.1f}',
                   f'source = "{price_note or "none"}; supply {supply_note or "none"}; params {"measured" if column in measured.index else "ai-median"}"']
        out.write(f'{coin_id} = {{ {", ".join(fields)} }}\n')


HEADER = """\
# Calibration of the fake CoinGecko server's market (SIMULATED DATA; used by `tracker demo` and tests).
# Written by docs/demo_calibration.py from ../shared/realdata (see its SOURCES.md); do not edit by hand.
#
# price:        a real close on price_date (default {reference}, the eve of the Sora demo; the close of
#               a UTC day is the price at the next 00:00 UTC). Binance spot daily closes (USDT), or a
#               Hyperliquid perp close, or a CoinGecko 30-day average cap (Index Coop icAI RFC,
#               2024-02-19) over the circulating supply.
# market_cap:   price x circulating supply: rounded public figures of CoinGecko's coin pages around
#               February 2024 (typed into the script, good to about 10%), or the Index Coop cap
#               over the 30-day mean close. The fake keeps the supply constant.
# beta:         to BTC, daily log returns {start}..{end}.
# volatility:   standard deviation of the daily log return over the same days.
# ai_loading:   the coin's loading on one common factor of the AI tokens' BTC residuals (principal
#               axis); two AI tokens' residuals correlate by the product of their loadings.
# dof:          Student-t degrees of freedom of the residual (MLE, clipped to 3..30): tail thickness.
# listed:       the first day the fake serves the coin (CoinGecko's listing, or Binance's).
# Coins with no price here get a made-up small-cap price; coins with params "ai-median" use the
# medians of the {n_ai} measured AI tokens (real median correlation with BTC: {median_corr:.2f}).

[reference]
date = "{reference}"
window = ["{start}", "{end}"]

"""

if __name__ == "__main__":
    main()
