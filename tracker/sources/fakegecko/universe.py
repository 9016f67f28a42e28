"""The fake server's coins and categories, and who belongs where (changeable at runtime).

:func:`generate` builds a deterministic universe: bitcoin, ethereum and other large coins; a
few hundred coins in ``artificial-intelligence`` (well-known AI ids first, then made-up ones).
The well-known coins follow ``calibration.toml``: their real close and market cap on 2024-02-14,
their beta to BTC, volatility, AI-factor loading, tails and listing date. Made-up coins get
made-up small caps (under $500M on the reference day) and plausible betas and loadings;
smaller AI sub-categories and unrelated categories (memes, DeFi, gaming, layer 1, ...); and a
couple of delisted coins. Some coins report a market cap of 0 (supply unknown) or null, and
some have zero market caps early in their chart history, as CoinGecko's do.
"""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Iterable

from .calibration import CoinCalibration, calibration
from .series import CoinSpec, stable_hash

_AI_NAMED = [
    ("bittensor", "tao", "Bittensor"),
    ("near", "near", "NEAR Protocol"),
    ("internet-computer", "icp", "Internet Computer"),
    ("render-token", "render", "Render"),
    ("fetch-ai", "fet", "Artificial Superintelligence Alliance"),
    ("the-graph", "grt", "The Graph"),
    ("singularitynet", "agix", "SingularityNET"),
    ("ocean-protocol", "ocean", "Ocean Protocol"),
    ("akash-network", "akt", "Akash Network"),
    ("worldcoin-wld", "wld", "Worldcoin"),
    ("virtual-protocol", "virtual", "Virtuals Protocol"),
    ("arkham", "arkm", "Arkham"),
    ("ai16z", "ai16z", "ai16z"),
    ("aixbt", "aixbt", "aixbt by Virtuals"),
    ("numeraire", "nmr", "Numeraire"),
    ("oraichain-token", "orai", "Oraichain"),
    ("iexec-rlc", "rlc", "iExec RLC"),
    ("cortex", "ctxc", "Cortex"),
    ("phala-network", "pha", "Phala Network"),
    ("golem", "glm", "Golem"),
    ("origintrail", "trac", "OriginTrail"),
    ("io-net", "io", "io.net"),
    ("grass", "grass", "Grass"),
    ("aethir", "ath", "Aethir"),
    ("nosana", "nos", "Nosana"),
]
_OTHER_NAMED = [
    ("bitcoin", "btc", "Bitcoin"),
    ("ethereum", "eth", "Ethereum"),
    ("tether", "usdt", "Tether"),
    ("binancecoin", "bnb", "BNB"),
    ("solana", "sol", "Solana"),
    ("ripple", "xrp", "XRP"),
    ("cardano", "ada", "Cardano"),
    ("dogecoin", "doge", "Dogecoin"),
    ("avalanche-2", "avax", "Avalanche"),
    ("chainlink", "link", "Chainlink"),
    ("polkadot", "dot", "Polkadot"),
    ("uniswap", "uni", "Uniswap"),
    ("aave", "aave", "Aave"),
    ("shiba-inu", "shib", "Shiba Inu"),
    ("pepe", "pepe", "Pepe"),
]
# A stablecoin is no random walk: (price, daily volatility, supply on the reference day).
_STABLE = {"tether": (1.0, 0.0004, 97e9)}
_MAX_SUPPLY = {"bitcoin": 21e6, "binancecoin": 200e6}
_SYLLABLES = ["neu", "ral", "syn", "ap", "cor", "tex", "vox", "quan", "mind", "deep", "gen", "lum", "ora", "nex",
              "byte", "cog", "sen", "tia", "vec", "tor", "lam", "da", "zen", "ith", "mo", "del", "ka", "ri", "on", "fi"]
_AI_SUFFIX = ["ai", "protocol", "network", "labs", "agent", "", "", ""]

CATEGORY_NAMES = {
    "artificial-intelligence": "Artificial Intelligence (AI)",
    "ai-agents": "AI Agents",
    "ai-applications": "AI Applications",
    "ai-framework": "AI Framework",
    "ai-meme-coins": "AI Meme",
    "big-data": "Big Data",
    "depin": "DePIN",
    "layer-1": "Layer 1 (L1)",
    "smart-contract-platform": "Smart Contract Platform",
    "meme-token": "Meme",
    "decentralized-finance-defi": "Decentralized Finance (DeFi)",
    "gaming": "Gaming (GameFi)",
    "stablecoins": "Stablecoins",
    "xai-ecosystem": "Xai Ecosystem",
    "coinbase-ventures-portfolio": "Coinbase Ventures Portfolio",
}


@dataclass(frozen=True)
class CategorySpec:
    category_id: str
    name: str
    content: str = ""


class Universe:
    """Coins, categories and memberships; every method is thread-safe."""

    def __init__(self, coins: Iterable[CoinSpec], categories: Iterable[CategorySpec],
                 members: dict[str, Iterable[str]], delisted: Iterable[str] = (), seed: int = 7):
        self.seed = seed
        self._lock = threading.RLock()
        self.coins: dict[str, CoinSpec] = {c.coin_id: c for c in coins}
        self.categories: dict[str, CategorySpec] = {c.category_id: c for c in categories}
        self._members: dict[str, set[str]] = {k: set(v) for k, v in members.items()}
        for category in self.categories:
            self._members.setdefault(category, set())
        self._delisted: set[str] = set(delisted)
        self.version = 0  # bumped on every change, so cached market snapshots are rebuilt

    # -- reads ------------------------------------------------------------------------------

    def active_coins(self, at: datetime | None = None) -> list[CoinSpec]:
        """Listed coins (not delisted, and already live at ``at``), sorted by id."""
        with self._lock:
            return [c for cid, c in sorted(self.coins.items())
                    if cid not in self._delisted and (at is None or c.genesis <= at)]

    def delisted_coins(self) -> list[CoinSpec]:
        with self._lock:
            return [self.coins[c] for c in sorted(self._delisted) if c in self.coins]

    def is_listed(self, coin_id: str) -> bool:
        with self._lock:
            return coin_id in self.coins and coin_id not in self._delisted

    def members(self, category: str, at: datetime | None = None) -> list[CoinSpec]:
        """The category's listed coins, sorted by id."""
        with self._lock:
            ids = self._members.get(category, set())
            return [self.coins[c] for c in sorted(ids)
                    if c in self.coins and c not in self._delisted and (at is None or self.coins[c].genesis <= at)]

    def summary(self) -> dict:
        with self._lock:
            return {
                "coins": len(self.coins),
                "delisted": sorted(self._delisted),
                "categories": {k: len(self.members(k)) for k in sorted(self.categories)},
            }

    # -- changes ----------------------------------------------------------------------------

    def set_members(self, category: str, *, add: Iterable[str] = (), remove: Iterable[str] = (),
                    replace_with: Iterable[str] | None = None, name: str | None = None) -> int:
        """Change a category's members (creating the category, and unknown coins, as needed)."""
        with self._lock:
            if category not in self.categories:
                self.categories[category] = CategorySpec(category, name or category.replace("-", " ").title())
                self._members[category] = set()
            current = self._members[category]
            if replace_with is not None:
                current.clear()
                add = list(replace_with) + list(add)
            for coin_id in add:
                self.ensure_coin(coin_id)
                current.add(coin_id)
            current.difference_update(remove)
            self.version += 1
            return len(self.members(category))

    def delist(self, coin_ids: Iterable[str]) -> None:
        with self._lock:
            self._delisted.update(c for c in coin_ids if c in self.coins)
            self.version += 1

    def relist(self, coin_ids: Iterable[str]) -> None:
        with self._lock:
            self._delisted.difference_update(coin_ids)
            self.version += 1

    def ensure_coin(self, coin_id: str) -> CoinSpec:
        """The coin called ``coin_id``, made up deterministically from its id if new."""
        with self._lock:
            if coin_id not in self.coins:
                rng = random.Random(stable_hash(f"{self.seed}:new:{coin_id}"))
                name = " ".join(part.capitalize() for part in coin_id.split("-"))
                self.coins[coin_id] = _made_up(rng, coin_id, coin_id.replace("-", "")[:5], name, len(self.coins) + 1, ai=False)
                self.version += 1
            return self.coins[coin_id]


def _made_up(rng: random.Random, coin_id: str, symbol: str, name: str, image_id: int, *, ai: bool,
             start: datetime = datetime(2019, 1, 1), end: datetime = datetime(2025, 6, 1)) -> CoinSpec:
    span_days = (end - start).days
    genesis = start + timedelta(days=rng.randrange(span_days))
    price = 10 ** rng.uniform(-3, 1.3)
    supply = 10 ** rng.uniform(6, 8.7) / price  # a market cap of $1M..$500M on the reference day
    volatility = rng.uniform(0.035, 0.08)
    cal = calibration()
    mcap_known_from = None
    if rng.random() < 0.2:  # early market caps unknown (0), as in CoinGecko's older history
        mcap_known_from = genesis + timedelta(days=rng.randrange(30, 400))
    return CoinSpec(
        coin_id=coin_id,
        symbol=symbol,
        name=name,
        genesis=genesis,
        start_price=price,
        volatility=volatility,
        drift=rng.uniform(-0.0005, 0.0006),
        supply=supply,
        max_supply=supply * rng.uniform(1.5, 5) if rng.random() < 0.6 else None,
        supply_known=rng.random() >= 0.08,
        market_cap_null=rng.random() < 0.03,
        mcap_known_from=mcap_known_from,
        image_id=image_id,
        anchor=cal.reference_close,
        # Small caps move with BTC too (correlation 0.3..0.65), AI tokens also with each other.
        beta=rng.uniform(0.3, 0.65) * volatility / cal.market_volatility,
        ai_loading=rng.uniform(0.25, 0.6) if ai else 0.0,
        dof=rng.uniform(3.0, 6.0),
    )


def _calibrated(spec: CoinSpec, cal: CoinCalibration) -> CoinSpec:
    """``spec`` (made up from the coin id) with the calibration's real numbers where it has them."""
    spec = replace(spec, symbol=cal.symbol.lower(), genesis=cal.listed, volatility=cal.volatility, beta=cal.beta,
                   ai_loading=cal.ai_loading, dof=cal.dof, mcap_known_from=None, market_cap_null=False,
                   supply_known=True)
    if cal.price is None:
        return spec
    return replace(spec, start_price=cal.price, anchor=cal.anchor, drift=0.0, supply=cal.market_cap / cal.price,
                   supply_growth=0.0, max_supply=_MAX_SUPPLY.get(spec.coin_id))


def _synthetic_names(rng: random.Random, count: int, taken: set[str], ai: bool) -> list[tuple[str, str, str]]:
    names = []
    while len(names) < count:
        stem = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3))))
        suffix = rng.choice(_AI_SUFFIX) if ai else rng.choice(["", "", "token", "finance", "swap", "inu"])
        coin_id = f"{stem}-{suffix}" if suffix else stem
        if coin_id in taken:
            continue
        taken.add(coin_id)
        name = stem.capitalize() + (f" {suffix.upper() if suffix == 'ai' else suffix.capitalize()}" if suffix else "")
        names.append((coin_id, stem[:5], name))
    return names


def generate(*, seed: int = 7, ai_coins: int = 300, other_coins: int = 150) -> Universe:
    """A deterministic universe with ``ai_coins`` in ``artificial-intelligence`` (at least the
    named ones are included when ``ai_coins`` allows) and ``other_coins`` elsewhere."""
    rng = random.Random(seed)
    taken = {c for c, _, _ in _AI_NAMED + _OTHER_NAMED}
    ai = list(_AI_NAMED[:ai_coins]) + _synthetic_names(rng, max(0, ai_coins - len(_AI_NAMED)), taken, ai=True)
    others = list(_OTHER_NAMED) + _synthetic_names(rng, max(0, other_coins - len(_OTHER_NAMED)), taken, ai=False)
    delisted = _synthetic_names(rng, 2, taken, ai=True)

    coins = []
    ai_set = {c for c, _, _ in ai + delisted}
    calibrated = calibration().coins
    for image_id, (coin_id, symbol, name) in enumerate(ai + others + delisted, 1):
        spec = _made_up(random.Random(stable_hash(f"{seed}:{coin_id}")), coin_id, symbol, name, image_id, ai=coin_id in ai_set)
        if coin_id in calibrated:
            spec = _calibrated(spec, calibrated[coin_id])
        elif coin_id in _STABLE:
            price, vol, supply = _STABLE[coin_id]
            spec = replace(spec, genesis=datetime(2018, 1, 1), start_price=price, volatility=vol, drift=0.0, beta=0.0,
                           dof=0.0, supply=supply, supply_growth=0.0, max_supply=None, supply_known=True,
                           market_cap_null=False, mcap_known_from=None)
        elif coin_id in {c for c, _, _ in _OTHER_NAMED[:8]}:
            spec = replace(spec, genesis=datetime(2018, 1, 1), supply_known=True, market_cap_null=False, mcap_known_from=None)
        coins.append(spec)

    ai_ids = [c for c, _, _ in ai]
    other_ids = [c for c, _, _ in others]
    synthetic_other = other_ids[len(_OTHER_NAMED):]
    members = {
        "artificial-intelligence": ai_ids,
        "ai-agents": [c for i, c in enumerate(ai_ids) if i % 5 == 2] + [c for c in ("virtual-protocol", "ai16z", "aixbt") if c in ai_ids],
        "ai-applications": [c for i, c in enumerate(ai_ids) if i % 7 == 3],
        "ai-framework": [c for i, c in enumerate(ai_ids) if i % 11 == 5],
        "ai-meme-coins": [c for i, c in enumerate(ai_ids) if i % 13 == 6] + ["pepe"],
        "big-data": [c for c in ("ocean-protocol", "the-graph", "numeraire", "origintrail") if c in ai_ids]
        + [c for i, c in enumerate(ai_ids) if i % 17 == 8],
        "depin": [c for c in ("render-token", "akash-network", "io-net", "grass", "aethir", "nosana", "golem") if c in ai_ids]
        + synthetic_other[0:10],
        "layer-1": ["bitcoin", "ethereum", "solana", "cardano", "avalanche-2", "polkadot", "binancecoin", "ripple"]
        + [c for c in ("near", "internet-computer") if c in ai_ids],
        "smart-contract-platform": ["ethereum", "solana", "cardano", "avalanche-2", "binancecoin"] + [c for c in ("near",) if c in ai_ids],
        "meme-token": ["dogecoin", "shiba-inu", "pepe"] + synthetic_other[10:50],
        "decentralized-finance-defi": ["uniswap", "aave", "chainlink"] + synthetic_other[50:90],
        "gaming": synthetic_other[90:120],
        "stablecoins": ["tether"],
        "xai-ecosystem": synthetic_other[120:125],
        "coinbase-ventures-portfolio": [c for i, c in enumerate(ai_ids + other_ids) if i % 19 == 0],
    }
    categories = [
        CategorySpec(cid, name, f"{name} tokens as listed by the fake CoinGecko server.") for cid, name in CATEGORY_NAMES.items()
    ]
    return Universe(coins, categories, members, delisted=[c for c, _, _ in delisted], seed=seed)


__all__ = ["CATEGORY_NAMES", "CategorySpec", "Universe", "generate"]
