"""Bad input never gets a traceback: hypothesis throws bad values at every numeric config
field (and wrong types, through the TOML file, the environment and flag overrides), at
strategy params, and at the flags of backtest, demo, positions, report and status run
in-process. Each must be refused before any I/O with exit 2 (ConfigError / InputError) and
one line that names the field or flag. The case counts are printed (run with -s)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types as at
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings, load_settings
from bot.errors import ConfigError
from strategies.base import validate_params
from strategies.registry import BUILTINS
from tests.unit.test_backtest import ETH_1H


def fuzz(examples: int) -> Any:
    """A few seconds in all: the command-line cases build the typer app each time."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


EXAMPLES = {"config": 300, "params": 300, "flags": 40, "config_file": 50}  # flags: per command
JUNK = st.sampled_from(["abc", "", "1,5", "0x", "ten", "1e", "--", "[1]", "🙂"])


@dataclass(frozen=True)
class Spec:
    path: tuple[str, ...]  # ("risk", "max_orders_per_hour")
    annotation: Any
    lower: tuple[float, bool] | None  # (bound, inclusive)
    upper: tuple[float, bool] | None

    @property
    def name(self) -> str:
        return ".".join(self.path)


def _bounds(metadata: list[Any]) -> tuple[tuple[float, bool] | None, tuple[float, bool] | None]:
    lower = upper = None
    for m in metadata:
        if isinstance(m, at.Gt):
            lower = (float(m.gt), False)  # type: ignore[arg-type]
        elif isinstance(m, at.Ge):
            lower = (float(m.ge), True)  # type: ignore[arg-type]
        elif isinstance(m, at.Lt):
            upper = (float(m.lt), False)  # type: ignore[arg-type]
        elif isinstance(m, at.Le):
            upper = (float(m.le), True)  # type: ignore[arg-type]
    return lower, upper


def _scalar(annotation: Any) -> Any:
    """`int | None` -> int; other annotations as they are."""
    if get_origin(annotation) not in (Union, UnionType):
        return annotation
    args = [a for a in get_args(annotation) if a is not type(None)]
    return args[0] if len(args) == 1 else annotation


def fields(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[Spec]:
    for name, info in model.model_fields.items():
        ann = _scalar(info.annotation)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from fields(ann, (*prefix, name))
        else:
            yield Spec((*prefix, name), ann, *_bounds(info.metadata))


NUMERIC = [f for f in fields(Settings) if f.annotation in (int, float, Decimal)]
CHOICES = [f for f in fields(Settings) if get_origin(f.annotation) is Literal]
FLAGS = [f for f in fields(Settings) if f.annotation is bool]


def test_every_numeric_config_field_has_both_bounds() -> None:
    assert len(NUMERIC) >= 30
    unbounded = [f.name for f in NUMERIC if f.lower is None or f.upper is None]
    assert unbounded == []


def below(edge: float, inclusive: bool) -> st.SearchStrategy[float]:
    """Floats the bound `>= edge` (or `> edge`) refuses; -0.0 is no smaller than 0."""
    values = st.floats(max_value=edge, exclude_max=inclusive, allow_nan=False)
    return values.filter(lambda x: x < edge if inclusive else x <= edge)


def above(edge: float, inclusive: bool) -> st.SearchStrategy[float]:
    values = st.floats(min_value=edge, exclude_min=inclusive, allow_nan=False)
    return values.filter(lambda x: x > edge if inclusive else x >= edge)


def outside(f: Spec) -> st.SearchStrategy[Any]:
    """Numbers below the lower bound or above the upper one (ints for int fields)."""
    options: list[st.SearchStrategy[Any]] = []
    if f.lower is not None:
        edge, incl = f.lower
        if f.annotation is int:
            options.append(st.integers(max_value=math.ceil(edge) - 1 if incl else math.floor(edge)))
        else:
            options.append(below(edge, incl))
    if f.upper is not None:
        edge, incl = f.upper
        if f.annotation is int:
            options.append(st.integers(min_value=math.floor(edge) + 1 if incl else math.ceil(edge)))
        else:
            options.append(above(edge, incl))
    return st.one_of(options)


def wrong_type(f: Spec) -> st.SearchStrategy[Any]:
    bad: list[st.SearchStrategy[Any]] = [
        st.booleans(),
        JUNK,
        st.lists(st.integers(), max_size=2),
        st.just({"x": 1}),
    ]
    if f.annotation is int:  # a fraction is not an int
        bad.append(st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x % 1 != 0))
    else:
        bad.append(st.sampled_from([math.nan, math.inf, -math.inf]))
    return st.one_of(bad)


TOKEN_IDS = Spec(("chain", "token_ids"), int, (0, True), (2**256 - 1, True))
LEVERAGE = Spec(("venue", "leverage"), float, (1, True), (125, True))


def bad_value(data: st.DataObject) -> tuple[Spec, Any]:
    kinds = ["numeric", "numeric", "numeric", "choice", "bool", "token_ids", "leverage"]
    kind = data.draw(st.sampled_from(kinds))
    if kind == "token_ids":
        bad = st.one_of(outside(TOKEN_IDS), JUNK, st.booleans())
        return TOKEN_IDS, [1, data.draw(bad)]
    if kind == "leverage":
        return LEVERAGE, {"ETH": data.draw(st.one_of(outside(LEVERAGE), wrong_type(LEVERAGE)))}
    if kind == "numeric":
        f = data.draw(st.sampled_from(NUMERIC))
        return f, data.draw(st.one_of(outside(f), wrong_type(f)))
    if kind == "choice":
        f = data.draw(st.sampled_from(CHOICES))
        allowed = get_args(f.annotation)
        return f, data.draw(st.one_of(JUNK, st.integers()).filter(lambda v: v not in allowed))
    f = data.draw(st.sampled_from(FLAGS))
    return f, data.draw(st.one_of(st.sampled_from(["maybe", "2", "-1"]), st.just([True])))


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return (
            "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
        )
    if isinstance(v, int | Decimal):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a TOML basic string
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_file(tmp: Path, f: Spec, value: Any) -> Path:
    *section, key = f.path
    head = f"[{'.'.join(section)}]\n" if section else ""
    path = tmp / "bad.toml"
    path.write_text(f"{head}{key} = {toml_value(value)}\n")
    return path


def nested(f: Spec, value: Any) -> dict[str, Any]:
    out: Any = value
    for part in reversed(f.path):
        out = {part: out}
    return dict(out)


def one_line(text: str) -> bool:
    return len(text.strip().splitlines()) == 1 and "Traceback" not in text


CASES: dict[str, int] = {}


def _count(group: str) -> None:
    CASES[group] = CASES.get(group, 0) + 1


@pytest.fixture
def clean_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No config/lphedge.toml, .env or LPHEDGE_* variable around."""
    monkeypatch.chdir(tmp_path)
    for key in [k for k in __import__("os").environ if k.startswith("LPHEDGE_")]:
        monkeypatch.delenv(key)
    return tmp_path


@fuzz(EXAMPLES["config"])
@given(data=st.data(), source=st.sampled_from(["toml", "env", "overrides"]))
def test_bad_config_values_are_one_line_errors_naming_the_field(
    clean_dir: Path, monkeypatch: pytest.MonkeyPatch, data: st.DataObject, source: str
) -> None:
    f, value = bad_value(data)
    if source == "env" and isinstance(value, list | dict):
        source = "overrides"  # an environment value is a string
    _count(f"config via {source}")
    with pytest.raises(ConfigError) as err, monkeypatch.context() as m:
        if source == "toml":
            load_settings(toml_file(clean_dir, f, value))
        elif source == "env":
            shown = toml_value(value) if not isinstance(value, str) else value
            m.setenv("LPHEDGE_" + "__".join(p.upper() for p in f.path), shown)
            load_settings()
        else:
            load_settings(None, nested(f, value))
    msg = str(err.value)
    assert one_line(msg) and f.name in msg, (f.name, value, msg)


PARAM_MODELS = [(name, cls.Params) for name, cls in BUILTINS.items()]


@fuzz(EXAMPLES["params"])
@given(data=st.data())
def test_bad_strategy_params_name_strategy_params_key(data: st.DataObject) -> None:
    name, model = data.draw(st.sampled_from(PARAM_MODELS))
    f = data.draw(st.sampled_from([f for f in fields(model) if f.annotation is not bool]))
    f = Spec(f.path, float, f.lower, f.upper)  # every param is a float (seconds, fractions)
    value = data.draw(st.one_of(outside(f), wrong_type(f)))
    _count("strategy params")
    with pytest.raises(ConfigError) as err:
        validate_params(model, {f.name: value}, name)
    msg = str(err.value)
    assert one_line(msg) and f"strategy.params.{f.name}:" in msg, (name, f.name, value, msg)


# --- the command line -------------------------------------------------------------------

NUMBER_JUNK = st.one_of(JUNK, st.sampled_from(["nan", "inf", "-inf", "1e999"]))


def floats_outside(lo: float, lo_incl: bool, hi: float, hi_incl: bool) -> st.SearchStrategy[str]:
    """A flag's value outside [lo, hi] (each end inclusive or not), or not a number."""
    return st.one_of(below(lo, lo_incl), above(hi, hi_incl)).map(repr) | NUMBER_JUNK


def not_matching(pattern: str) -> st.SearchStrategy[str]:
    text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=":"))
    return st.one_of(JUNK, text).filter(lambda s: re.fullmatch(pattern, s.strip()) is None)


NOT_ADDRESS = not_matching(r"0x[0-9a-fA-F]{40}")
NOT_DAY = st.one_of(
    not_matching(r"\d{4}-\d{2}-\d{2}"), st.sampled_from(["2024-02-30", "2024-13-01"])
)
NOT_TIME = st.one_of(
    st.sampled_from(["yesterday", "2024-13-01", "soon", "1.5", "2024-01-02T25:00"]),
    st.from_regex(r"[a-z]{2,8}", fullmatch=True),
)
NOT_DURATION = st.one_of(
    st.sampled_from(["-5h", "0", "0s", "7x", "soon", "1y", "3000d", "1m"]),
    st.from_regex(r"[a-z]{1,6}", fullmatch=True),
)
NOT_STRATEGY = st.from_regex(r"[a-z_]{1,12}", fullmatch=True).filter(lambda s: s not in BUILTINS)


@st.composite
def bad_command(draw: st.DrawFn, cmd: str, prices: str, missing_db: str) -> tuple[list[str], str]:
    """(argv, the flag or field the error must name) of a bad invocation of `cmd`."""
    if cmd == "backtest":
        flag, value = draw(
            st.sampled_from(
                [
                    ("--range-pct", floats_outside(0, True, 100, False)),
                    ("--fee-bps", floats_outside(0, True, 1000, True)),
                    ("--option-skew", floats_outside(0, True, 10, True)),
                    ("--option-half-spread", floats_outside(0, True, 1, False)),
                    ("--strike-step", floats_outside(0, False, 1e6, True)),
                    ("--window", NOT_DURATION),
                    ("--strategy", NOT_STRATEGY),
                    ("--param", st.sampled_from(["band_abs=-1", "nokey", "hedge_ratio=2"])),
                ]
            ).flatmap(lambda fv: st.tuples(st.just(fv[0]), fv[1]))
        )
        base = ["--prices", prices, "--range-pct", "10", "--strategy", "delta_band"]
        return [cmd, *base, f"{flag}={value}"], flag
    if cmd == "demo":
        flag, value = draw(
            st.sampled_from(
                [
                    ("--range-pct", floats_outside(0.5, True, 90, True)),
                    ("--hours", st.integers(max_value=1).map(str) | JUNK),
                    ("--start", NOT_DAY),
                    ("--strategy", NOT_STRATEGY),
                    (
                        "--option-premium",
                        NOT_STRATEGY.filter(lambda s: s not in ("usd", "inverse")),
                    ),
                ]
            ).flatmap(lambda fv: st.tuples(st.just(fv[0]), fv[1]))
        )
        return [cmd, f"{flag}={value}", "--out", missing_db + ".out"], flag
    if cmd == "positions":
        flag, value, field = draw(
            st.sampled_from(
                [
                    (
                        "--chain-id",
                        st.integers(max_value=0) | st.integers(min_value=2**53),
                        "chain.chain_id",
                    ),
                    (
                        "--token-id",
                        st.integers(max_value=-1) | st.integers(min_value=2**256),
                        "chain.token_ids",
                    ),
                    ("--owner", NOT_ADDRESS, "chain.owners"),
                    ("--v2-pair", NOT_ADDRESS, "chain.v2_pairs"),
                    ("--position-manager", NOT_ADDRESS, "chain.position_manager"),
                ]
            ).flatmap(lambda f: st.tuples(st.just(f[0]), f[1].map(str), st.just(f[2])))
        )
        rpc = ["--rpc-url", "http://127.0.0.1:9"]  # a closed local port: never reached
        return [cmd, *rpc, "--token-id", "1", f"{flag}={value}"], field
    if cmd == "report":
        flag = draw(st.sampled_from(["--since", "--until"]))
        return [cmd, "--db", missing_db, f"{flag}={draw(NOT_TIME)}"], flag
    if draw(st.booleans()):  # status: a ledger that is not there
        suffix = draw(st.from_regex(r"[a-z]{0,6}", fullmatch=True))
        return [cmd, "--db", missing_db + suffix], "--db"
    missing_config = missing_db + draw(st.from_regex(r"[a-z]{1,6}", fullmatch=True)) + ".toml"
    return [cmd, "--config", missing_config], "not found"


@pytest.fixture(scope="module")
def small_prices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fuzz") / "eth.csv"
    out.write_text("\n".join(ETH_1H.read_text().splitlines()[: 1 + 24 * 15]) + "\n")
    return out


@pytest.mark.parametrize("cmd", ["backtest", "demo", "positions", "report", "status"])
@fuzz(EXAMPLES["flags"])
@given(data=st.data())
def test_bad_flags_exit_2_with_one_line_naming_the_flag(
    small_prices: Path, clean_dir: Path, cmd: str, data: st.DataObject
) -> None:
    missing = str(clean_dir / "no-such-ledger.db")
    argv, named = data.draw(bad_command(cmd, str(small_prices), missing))
    _count(f"cli {cmd}")
    res = CliRunner().invoke(app, argv)
    where = (argv, res.stdout, res.stderr)
    assert res.exit_code == 2, where
    assert res.stdout == "" and one_line(res.stderr), where
    assert res.stderr.startswith("error:") and named in res.stderr, where
    assert not Path(missing).exists() and not (clean_dir / "lphedge.db").exists()


@fuzz(EXAMPLES["config_file"])
@given(data=st.data())
def test_a_bad_config_file_is_one_line_for_commands(clean_dir: Path, data: st.DataObject) -> None:
    f, value = bad_value(data)
    path = toml_file(clean_dir, f, value)
    cmd = data.draw(st.sampled_from([["status"], ["plan"], ["run", "--once"], ["positions"]]))
    _count("cli --config")
    res = CliRunner().invoke(app, [*cmd, "--config", str(path)])
    where = (cmd, f.name, value, res.stdout, res.stderr)
    assert res.exit_code == 2 and res.stdout == "" and one_line(res.stderr), where
    assert f.name in res.stderr, where


@pytest.fixture(scope="module", autouse=True)
def case_counts(request: pytest.FixtureRequest) -> Iterator[None]:
    """After this file's tests: how many cases each fuzz group ran (the issue quotes it)."""
    yield
    if CASES:
        total = sum(CASES.values())
        line = f"fuzz cases: {total} " + json.dumps(dict(sorted(CASES.items())))
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print(f"\n{line}")
