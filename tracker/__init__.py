"""ai-token-tracker: AI-token prices from CoinGecko in DuckDB, event studies, GPU-demand context."""

__version__ = "0.1.0"


def lazy_exports(package: str, exports: dict[str, str]):
    """``__getattr__`` and ``__dir__`` for a package whose names load from their submodules on
    first use (``exports``: name -> submodule), so that importing one light submodule (for
    `tracker status` or `tracker sql`) does not import them all, pandas among them.

    Use: ``__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)``.
    """
    import importlib
    import sys

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
