"""The typed set of assumptions behind the GPU-demand estimate, loaded from ``config/gpu.toml``.

The code owns what each number *means* (its unit and the values the arithmetic can take); the
TOML file owns the numbers and their documentation (source, tag, sensitivity range). Loading
checks that the two agree, so a unit can never drift between the file and the model.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from ...config import config_dir
from ...errors import ConfigError, InputError

_TAGS = {"", "C", "P", "R", "I", "P/R", "R/C"}


@dataclass(frozen=True)
class Rule:
    """What values one assumption may take, and why (the reason is quoted in errors)."""

    unit: str
    minimum: float = 0.0
    allow_minimum: bool = False  # False: the minimum itself is refused (zero where it divides)
    maximum: float | None = None
    integer: bool = False
    optional: bool = False
    why: str = ""
    # Positive values below this are refused: a share of 1e-306 would make the scenario's
    # minutes so small that dividing by them overflows to an infinite break-even.
    smallest_positive: float | None = None

    def allowed(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        reason = f" ({self.why})" if self.why else ""
        if self.smallest_positive is not None:
            span = f"from {self.smallest_positive:g} to {self.maximum:g}" if self.maximum is not None else f"of at least {self.smallest_positive:g}"
            return f"{'0 or ' if self.allow_minimum else ''}{kind} {span}{reason}"
        low = f"{'at least' if self.allow_minimum else 'greater than'} {self.minimum:g}"
        high = f" and at most {self.maximum:g}" if self.maximum is not None else ""
        return f"{kind} {low}{high}{reason}"

    def check(self, name: str, value: float) -> float:
        """``value`` if allowed, else an InputError naming the assumption and what is allowed."""
        too_low = value < self.minimum or (value == self.minimum and not self.allow_minimum)
        too_low = too_low or (self.smallest_positive is not None and 0 < value < self.smallest_positive)
        too_high = self.maximum is not None and value > self.maximum
        if too_low or too_high or (self.integer and value != int(value)):
            raise InputError(f"{name} = {value:g} is not allowed: {name} ({self.unit}) must be {self.allowed()}")
        return float(value)


def _positive(unit: str, why: str, **extra) -> Rule:
    return Rule(unit, why=why, **extra)


# The model's domain: shares and utilizations of at least a millionth, and daily minutes of at
# least one when not zero, keep every output finite (docs/gpu.md, "Domain").
SMALLEST_FRACTION = 1e-6
SMALLEST_MINUTES = 1.0


def _fraction(unit: str, *, divides: bool) -> Rule:
    if divides:
        return Rule(unit, maximum=1.0, why="it divides", smallest_positive=SMALLEST_FRACTION)
    return Rule(unit, allow_minimum=True, maximum=1.0, smallest_positive=SMALLEST_FRACTION)


def _count(unit: str, smallest_positive: float | None = None) -> Rule:
    return Rule(unit, allow_minimum=True, smallest_positive=smallest_positive)


def _rule(rule: Rule):
    return field(metadata={"rule": rule})


@dataclass(frozen=True)
class Assumptions:
    """Every input of the model, as plain numbers in the units of ``config/gpu.toml``.

    Build one with :func:`load_assumptions` (validated); the model's functions take it as is.
    ``usd_per_gpu_hour`` is None when not set.
    """

    # DiT baseline (training)
    dit_params: float = _rule(_positive("parameters", "it divides Sora's size"))
    dit_forward_gflops: float = _rule(_positive("GFLOP per forward pass", "a pass costs something"))
    dit_batch_size: float = _rule(_positive("images per step", "a step trains on images", integer=True))
    dit_training_steps: float = _rule(_positive("steps", "DiT was trained", integer=True))
    training_flops_per_forward: float = _rule(_positive("x forward FLOPs", "training costs compute"))
    # Sora scaling (training)
    sora_params: float = _rule(_positive("parameters", "a model has weights"))
    clip_seconds: float = _rule(_positive("seconds per training video", "a clip has frames"))
    frame_rate: float = _rule(_positive("frames per second", "video has frames"))
    temporal_compression: float = _rule(_positive("frames per latent frame", "it divides"))
    video_fraction: float = _rule(_fraction("fraction of training samples", divides=False))
    dataset_multiplier_low: float = _rule(_positive("x DiT's training samples", "Sora trained on data"))
    dataset_multiplier_high: float = _rule(_positive("x DiT's training samples", "Sora trained on data"))
    # H100
    h100_tflops: float = _rule(_positive("TFLOP/s", "it divides"))
    h100_memory_gb: float = _rule(_positive("GB", "it divides"))
    training_mfu: float = _rule(_fraction("fraction of peak FLOP/s", divides=True))
    days_per_month: float = _rule(_positive("days", "it divides", maximum=31.0))
    # Inference
    denoising_steps: float = _rule(_positive("steps per sample", "throughput divides by it", integer=True))
    guidance_passes: float = _rule(_positive("forward passes per step", "throughput divides by it", integer=True))
    inference_mfu: float = _rule(_fraction("fraction of peak FLOP/s", divides=True))
    # Adoption scenario
    tiktok_upload_minutes_per_day: float = _rule(_count("video-minutes per day", SMALLEST_MINUTES))
    tiktok_ai_share: float = _rule(_fraction("fraction of uploads", divides=False))
    youtube_upload_minutes_per_day: float = _rule(_count("video-minutes per day", SMALLEST_MINUTES))
    youtube_ai_share: float = _rule(_fraction("fraction of eligible uploads", divides=False))
    youtube_eligible_fraction: float = _rule(_fraction("fraction of uploaded minutes", divides=False))
    peak_factor: float = _rule(Rule("x average demand", minimum=1.0, allow_minimum=True, why="a peak is never below the average"))
    # Comparisons
    h100_shipments_2023: float = _rule(_positive("H100 per year", "it divides"))
    h100_shipments_2024_plan: float = _rule(_positive("H100 per year", "it divides"))
    big3_h100_2023: float = _rule(_positive("H100", "it divides"))
    top12_h100_2023: float = _rule(_positive("H100", "it divides"))
    akash_gpus: float = _rule(_positive("GPUs", "it divides"))
    rtx4090_tflops: float = _rule(_positive("TFLOP/s", "it divides"))
    rtx4090_memory_gb: float = _rule(_positive("GB", "it divides"))
    bytes_per_param: float = _rule(_positive("bytes per parameter", "weights take memory"))
    # Cost and power (optional context)
    watts_per_gpu: float = _rule(_count("W per GPU"))
    usd_per_gpu_hour: float | None = _rule(Rule("USD per GPU-hour", allow_minimum=True, optional=True))


RULES: dict[str, Rule] = {f.name: f.metadata["rule"] for f in dataclasses.fields(Assumptions)}
NAMES: tuple[str, ...] = tuple(RULES)


@dataclass(frozen=True)
class AssumptionInfo:
    """The documentation of one assumption, from ``config/gpu.toml``."""

    name: str
    unit: str
    tag: str
    source: str
    description: str
    low: float | None = None
    high: float | None = None
    range_note: str = ""

    @property
    def has_range(self) -> bool:
        return self.low is not None and self.high is not None


@dataclass(frozen=True)
class AssumptionSet:
    """The values the model uses, what each one is, and which were changed from the defaults."""

    values: Assumptions
    defaults: Assumptions
    info: Mapping[str, AssumptionInfo]
    overridden: frozenset[str] = frozenset()
    source_file: str = ""

    def with_overrides(self, overrides: Mapping[str, object]) -> "AssumptionSet":
        """A copy with ``overrides`` (name -> number or text such as '250', '1e21', '15%') applied.

        Raises
        ------
        InputError
            One line naming the assumption and what is allowed: unknown names, values that are
            not numbers, negative values, zero where it divides, fractions above 1, or a low
            dataset multiplier above the high one.
        """
        changes = {name: parse_value(name, raw) for name, raw in overrides.items()}
        values = dataclasses.replace(self.values, **changes)
        _check_consistency(values)
        return dataclasses.replace(self, values=values, overridden=self.overridden | frozenset(changes))

    def frame(self) -> pd.DataFrame:
        """One row per assumption: name, value, unit, overridden, default, tag, range, source, description."""
        rows = []
        for name in NAMES:
            info = self.info[name]
            rows.append(
                {
                    "name": name,
                    "value": getattr(self.values, name),
                    "unit": info.unit,
                    "overridden": name in self.overridden,
                    "default": getattr(self.defaults, name),
                    "tag": info.tag,
                    "low": info.low,
                    "high": info.high,
                    "range_note": info.range_note,
                    "source": info.source,
                    "description": info.description,
                }
            )
        return pd.DataFrame(rows)


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, NAMES, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _unknown(name: str) -> InputError:
    return InputError(f"unknown assumption {name!r}{_did_you_mean(name)}; `tracker gpu assumptions` lists the {len(NAMES)} names")


def parse_value(name: str, raw: object) -> float:
    """Check one assumption's new value: a number (or text like '2.5', '1e21', '17_000_000', '15%')."""
    if name not in RULES:
        raise _unknown(name)
    rule = RULES[name]
    if isinstance(raw, bool):
        raise InputError(f"{name} = {raw!r} is not a number; {name} ({rule.unit}) must be {rule.allowed()}")
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        text = str(raw).strip()
        percent = text.endswith("%")
        try:
            value = float(text[:-1] if percent else text) / (100.0 if percent else 1.0)
        except ValueError:
            raise InputError(f"{name} = {text!r} is not a number; {name} ({rule.unit}) must be {rule.allowed()}") from None
    if not math.isfinite(value):
        raise InputError(f"{name} = {raw!r} is not a finite number; {name} ({rule.unit}) must be {rule.allowed()}")
    return rule.check(name, value)


def parse_set(items: Iterable[str]) -> dict[str, str]:
    """``['name=value', ...]`` (the CLI's ``--set``) as the ``overrides`` mapping; the values are checked later."""
    overrides: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise InputError(f"`overrides` {item!r} must look like name=value, e.g. `overrides` denoising_steps=50",
                             parameters=["overrides"])
        if name in overrides:
            raise InputError(f"`overrides` gives {name} twice; give each assumption once", parameters=["overrides"])
        overrides[name] = value
    return overrides


def _check_consistency(values: Assumptions) -> None:
    """Checks across assumptions, each naming both."""
    if values.dataset_multiplier_low > values.dataset_multiplier_high:
        raise InputError(
            f"dataset_multiplier_low = {values.dataset_multiplier_low:g} is above dataset_multiplier_high = "
            f"{values.dataset_multiplier_high:g}; the low end must not exceed the high end"
        )


def _number(table: Mapping, key: str, where: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where}.{key} = {value!r} must be a number")
    return float(value)


def _read_entry(name: str, table: object, where: str) -> tuple[float | None, AssumptionInfo]:
    rule = RULES[name]
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table with value, unit, tag, source and description")
    allowed = {"value", "unit", "tag", "source", "description", "low", "high", "range_note", "optional"}
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]} is not a known key; known: {', '.join(sorted(allowed))}")
    for key in ("unit", "source", "description"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise ConfigError(f"{where}.{key} is missing; every assumption needs a unit, a source and a description")
    if table["unit"] != rule.unit:
        raise ConfigError(f"{where}.unit = {table['unit']!r} but the model counts {name} in {rule.unit!r}")
    tag = table.get("tag", "")
    if tag not in _TAGS:
        raise ConfigError(f"{where}.tag = {tag!r} is not one of C, P, R, I, P/R, R/C or empty")
    value = _number(table, "value", where)
    if value is None and not rule.optional:
        raise ConfigError(f"{where}.value is missing; {name} needs a number")
    low, high = _number(table, "low", where), _number(table, "high", where)
    if (low is None) != (high is None):
        raise ConfigError(f"{where} needs both low and high for its sensitivity range, or neither")
    try:
        if value is not None:
            rule.check(name, value)
        if low is not None:
            rule.check(name, low)
            rule.check(name, high)
    except InputError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if low is not None and not low <= high:
        raise ConfigError(f"{where}: low = {low:g} is above high = {high:g}")
    info = AssumptionInfo(
        name=name,
        unit=rule.unit,
        tag=tag,
        source=table["source"].strip(),
        description=table["description"].strip(),
        low=low,
        high=high,
        range_note=str(table.get("range_note", "")).strip(),
    )
    return value, info


def default_path() -> Path:
    """The packaged ``config/gpu.toml``."""
    return config_dir() / "gpu.toml"


def load_assumptions(path: str | Path | None = None, overrides: Mapping[str, object] | None = None) -> AssumptionSet:
    """Read the assumptions (default: the packaged ``config/gpu.toml``), then apply ``overrides``.

    Parameters
    ----------
    path
        A complete assumptions file in the format of ``config/gpu.toml``.
    overrides
        name -> value, validated as by :meth:`AssumptionSet.with_overrides`.

    Raises
    ------
    ConfigError
        The file is missing, not TOML, lacks an assumption, has an unknown one, or a value,
        unit, tag or range that the model cannot use.
    InputError
        An override is not allowed.
    """
    path = Path(path) if path is not None else default_path()
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise ConfigError(f"assumptions file {path} does not exist or is not a file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"assumptions file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(NAMES))
    if unknown:
        raise ConfigError(f"{path.name}: [{unknown[0]}] is not a known assumption{_did_you_mean(unknown[0])}")
    missing = [name for name in NAMES if name not in data]
    if missing:
        raise ConfigError(f"{path.name}: [{missing[0]}] is missing; the file must define all {len(NAMES)} assumptions")
    values, info = {}, {}
    for name in NAMES:
        values[name], info[name] = _read_entry(name, data[name], f"{path.name}: [{name}]")
    defaults = Assumptions(**values)
    try:
        _check_consistency(defaults)
    except InputError as exc:
        raise ConfigError(f"{path.name}: {exc}") from None
    loaded = AssumptionSet(values=defaults, defaults=defaults, info=info, source_file=str(path))
    return loaded.with_overrides(overrides) if overrides else loaded


__all__ = [
    "AssumptionInfo",
    "AssumptionSet",
    "Assumptions",
    "NAMES",
    "RULES",
    "Rule",
    "default_path",
    "load_assumptions",
    "parse_set",
    "parse_value",
]
