"""What to say when an analysis asks for prices the database does not have.

The message points at the real gap: an empty database (no prices yet, and how to get some),
a coin id that is well formed but has no stored prices (which ids do, and how to fetch this
one), or text that is not a coin id at all (a symbol or a name).
"""
from __future__ import annotations

import re
from typing import Sequence

import storage
from storage import Database

# CoinGecko ids: lower case, digits and dashes (a few have dots or underscores).
_COIN_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
GET_PRICES = ("fetch some with `tracker ingest all`, import a file with `tracker import csv FILE --coin ID`, "
              "or try `tracker demo` for a simulated market in its own folder")


def empty_database(db: Database) -> str | None:
    """The message for a database that holds no prices at all, else None."""
    if storage.priced_coin_ids(db, limit=1):
        return None
    return f"the database {db.path} has no prices yet; {GET_PRICES}"


def unknown_coins_message(db: Database, unknown: Sequence[str], what: str = "token") -> str:
    """Why the coins in ``unknown`` (neither in ``coins`` nor with prices) cannot be used."""
    empty = empty_database(db)
    if empty is not None:
        return empty
    first = unknown[0]
    if not _COIN_ID.match(first):
        return (f"unknown {what} {first!r}: not a CoinGecko coin id; ids are lower case with dashes, such as fetch-ai "
                "(see 'tracker sql \"select coin_id, symbol from coins\"')")
    stored = storage.priced_coin_ids(db, limit=5)
    more = f" (+{len(unknown) - 1} more)" if len(unknown) > 1 else ""
    return (f"unknown {what} {first!r}{more}: no prices stored for it; coins with prices include {', '.join(stored)}; fetch it with "
            f"`tracker ingest history --coin {first}` or import it with `tracker import csv FILE --coin {first}`")


__all__ = ["GET_PRICES", "empty_database", "unknown_coins_message"]
