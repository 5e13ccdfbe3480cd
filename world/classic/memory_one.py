"""Memory-one strategies of the iterated prisoner's dilemma: a player that cooperates with a
chance set by the last turn's outcome, p = (p_CC, p_CD, p_DC, p_DD) (its own move first), and
on the first move with the chance `start` (Nowak and Sigmund 1990; Press and Dyson 2012).

Every family goes by the name the axelrod package gives it and takes axelrod's parameters, in
axelrod's order and with axelrod's defaults: "GTFT" is axelrod's `GTFT()`, "ZD-Extort-2(phi=1/8)"
its `ZDExtort2(phi=1/8)`. A scenario writes a strategy

    Name                          axelrod's defaults: "Stochastic WSLS"
    Name(v1, v2, ...)             parameters in axelrod's order: "Random(0.3)", "GTFT(0.1)"
    Name(key=v, ...)              by name: "ZD-Extort-2(phi=0.1, s=0.25)"
    Memory One(CC, CD, DC, DD)    any vector, cooperating first: "Memory One(1, 1/3, 1, 1/3)"
    Memory One(CC, CD, DC, DD, start=0.5)     ... or first with the chance start

each value a decimal or a fraction (1/9). The zero-determinant players are Hilbe, Nowak and
Sigmund's (2013) linear-relation strategies: with slope s and baseline l they enforce
s (s_X - l) = s_Y - l on the mean payoffs of the player (s_X) and of any opponent (s_Y);
phi is free within the range that keeps p a vector of probabilities. Extort-2 (Stewart and
Plotkin 2012) is l = P, s = 1/2: s_X - P = 2 (s_Y - P).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from fractions import Fraction
from typing import NamedTuple


class RSTP(NamedTuple):
    """The payoffs of a round of the dilemma, which some families' vectors depend on."""

    R: float
    S: float
    T: float
    P: float


#: Axelrod's payoffs, the scenario's default.
AXELROD_PAYOFFS = RSTP(R=3.0, S=0.0, T=5.0, P=1.0)


@dataclasses.dataclass(frozen=True)
class MemoryOne:
    """Chances of cooperating after each outcome of the last turn (my move, then the
    opponent's: CC, CD, DC, DD) and on the first move (`start`)."""

    cc: float
    cd: float
    dc: float
    dd: float
    start: float = 1.0

    def row(self) -> tuple[float, float, float, float, float]:
        """(p_CC, p_CD, p_DC, p_DD, start): a row of `History.chances`."""
        return (self.cc, self.cd, self.dc, self.dd, self.start)


Arguments = dict[str, float]
Default = float | Callable[[RSTP], float]


@dataclasses.dataclass(frozen=True)
class Family:
    """A named memory-one strategy: its parameters (axelrod's, in axelrod's order), the
    defaults of those that may be left out (a number, or one the payoffs give), and how the
    parameters and the payoffs make p."""

    parameters: tuple[str, ...]
    defaults: dict[str, Default]
    vector: Callable[[Arguments, RSTP], MemoryOne]
    #: parameters that are chances themselves, so must lie in [0, 1]
    chances: tuple[str, ...] = ()
    #: how to write it, for messages (made from the parameters and defaults when empty)
    usage: str = ""

    def how(self, name: str) -> str:
        if self.usage:
            return self.usage
        shown = [
            p if p not in self.defaults else f"{p}={_show(self.defaults[p])}"
            for p in self.parameters
        ]
        return f"{name}({', '.join(shown)})" if shown else f"{name} (no parameters)"


def _show(default: Default) -> str:
    if callable(default):
        return "?"
    short = f"{default:g}"
    return short if float(short) == default else str(Fraction(default).limit_denominator(1000))


def gtft_p(g: RSTP) -> float:
    """Axelrod's default generosity of GTFT (Nowak and Sigmund 1992): the largest that keeps
    defecting against it unprofitable, min(1 - (T - R) / (R - S), (R - P) / (T - P))."""
    return min(1 - (g.T - g.R) / (g.R - g.S), (g.R - g.P) / (g.T - g.P))


def linear_relation(phi: float, s: float, l: float, g: RSTP) -> MemoryOne:  # noqa: E741
    """Hilbe, Nowak and Sigmund's (2013, eq. 14) strategy enforcing s (s_X - l) = s_Y - l,
    as axelrod's LRPlayer makes it. ValueError (one line) when (s, l) cannot be enforced
    (P <= l <= R and s_min <= s <= 1) or phi puts a chance outside [0, 1]."""
    where = f"R={g.R:g}, S={g.S:g}, T={g.T:g}, P={g.P:g}"
    if not g.P <= l <= g.R:
        raise ValueError(f"l = {l:g} cannot be enforced: allowed {g.P:g} <= l <= {g.R:g} (P, R)")
    s_min = -min((g.T - l) / (l - g.S), (l - g.S) / (g.T - l))
    if not s_min <= s <= 1:
        raise ValueError(
            f"s = {s:g} cannot be enforced with l = {l:g}: allowed {s_min:.4g} <= s <= 1 "
            f"under {where}"
        )
    # p = (1, 1, 0, 0) + phi c: c is set by (s, l), phi scales it
    c = (
        -(1 - s) * (g.R - l),
        -(s * (l - g.S) + (g.T - l)),
        (l - g.S) + s * (g.T - l),
        (1 - s) * (l - g.P),
    )
    p = [1 + phi * c[0], 1 + phi * c[1], phi * c[2], phi * c[3]]
    for k, (key, v) in enumerate(zip(("CC", "CD", "DC", "DD"), p, strict=True)):
        p[k] = min(max(v, 0.0), 1.0) if -_ROUNDING < v < 1 + _ROUNDING else v  # 1 - 4/17 * 4.25
        if not 0 <= p[k] <= 1:
            top = max(abs(x) for x in c)
            raise ValueError(
                f"phi = {phi:g} makes p_{key} = {v:.4g}, not a chance: allowed "
                f"0 <= phi <= {1 / top:.4g} for s = {s:g}, l = {l:g} under {where}"
            )
    return MemoryOne(*p)


#: how far rounding may carry a chance of a linear-relation vector past 0 or 1
_ROUNDING = 1e-12


def _zd(phi: float, s: float, l: float) -> Family:  # noqa: E741
    """A zero-determinant family with axelrod's defaults for phi, s and l."""
    return Family(
        ("phi", "s", "l"),
        {"phi": phi, "s": s, "l": l},
        lambda a, g: linear_relation(a["phi"], a["s"], a["l"], g),
    )


def _baseline(phi: float, s: float, payoff: str) -> Family:
    """A zero-determinant family whose baseline l is the payoff R or P (axelrod's ZDGTFT2,
    ZDExtort2): only phi and s are parameters."""
    return Family(
        ("phi", "s"),
        {"phi": phi, "s": s},
        lambda a, g: linear_relation(a["phi"], a["s"], getattr(g, payoff), g),
    )


def _fixed(cc: float, cd: float, dc: float, dd: float, start: float = 1.0) -> Family:
    return Family((), {}, lambda a, g: MemoryOne(cc, cd, dc, dd, start))


#: name (axelrod's) -> family; in this order after the strategies of strategies.py.
FAMILIES: dict[str, Family] = {
    # Random cooperates with the chance p on every move, the first too
    "Random": Family(
        ("p",), {"p": 0.5}, lambda a, g: MemoryOne(a["p"], a["p"], a["p"], a["p"], a["p"]), ("p",)
    ),
    "GTFT": Family(
        ("p",),
        {"p": gtft_p},
        lambda a, g: MemoryOne(1, a["p"], 1, a["p"]),
        ("p",),
        usage="GTFT(p), p by default min(1 - (T-R)/(R-S), (R-P)/(T-P)), 1/3 for Axelrod's payoffs",
    ),
    "Firm But Fair": _fixed(1, 0, 1, 2 / 3),
    "Stochastic WSLS": Family(
        ("ep",),
        {"ep": 0.05},
        lambda a, g: MemoryOne(1 - a["ep"], a["ep"], a["ep"], 1 - a["ep"]),
        ("ep",),
    ),
    "Stochastic Cooperator": _fixed(0.935, 0.229, 0.266, 0.42),
    "Soft Joss": Family(
        ("q",), {"q": 0.9}, lambda a, g: MemoryOne(1, 1 - a["q"], 1, 1 - a["q"]), ("q",)
    ),
    "Win-Shift Lose-Stay": _fixed(0, 1, 1, 0, start=0),
    "ALLCorALLD": _fixed(1, 1, 0, 0, start=0.6),
    "ZD-Extort-2": _baseline(1 / 9, 1 / 2, "P"),
    "ZD-Extort-2 v2": _zd(1 / 8, 1 / 2, 1),
    "ZD-Extort3": _zd(3 / 26, 1 / 3, 1),
    "ZD-Extort-4": _zd(4 / 17, 1 / 4, 1),
    "ZD-Extortion": _zd(0.2, 0.1, 1),
    "ZD-GTFT-2": _baseline(1 / 4, 1 / 2, "R"),
    "ZD-GEN-2": _zd(1 / 8, 1 / 2, 3),
    "ZD-SET-2": _zd(1 / 4, 0, 2),
    "ZD-Mischief": _zd(0.1, 0, 1),
    "Memory One": Family(
        ("CC", "CD", "DC", "DD", "start"),
        {"start": 1.0},
        lambda a, g: MemoryOne(a["CC"], a["CD"], a["DC"], a["DD"], a["start"]),
        ("CC", "CD", "DC", "DD", "start"),
        usage="Memory One(CC, CD, DC, DD, start=1): the chances of cooperating after each "
        "outcome (my move first) and on the first move",
    ),
}

_WRITTEN = re.compile(r"\s*(?P<name>[^()]*?)\s*(?:\((?P<arguments>[^()]*)\))?\s*")


def split(spec: str) -> tuple[str, str | None]:
    """A strategy as a scenario writes it -> (name, the text between its parentheses, or None
    when it has none). ValueError when it is not `Name` or `Name(...)`."""
    m = _WRITTEN.fullmatch(spec)
    if m is None:
        raise ValueError(
            f"{spec!r} is not a strategy: write a name, or a name and its parameters in "
            f"parentheses, e.g. 'GTFT(0.2)'"
        )
    return m["name"], m["arguments"]


def memory_one(spec: str, name: str, arguments: str | None, g: RSTP) -> MemoryOne:
    """The vector of the family `name` with `arguments` (as `split` gives them) under the
    payoffs g. ValueError, one line starting with `spec`, for a bad parameter."""
    family = FAMILIES[name]
    try:
        given = _arguments(family, arguments)
        for key in family.chances:
            if key in given and not 0 <= given[key] <= 1:
                raise ValueError(f"{key} = {given[key]:g} is not a chance (allowed: 0 to 1)")
        values = {
            key: given[key] if key in given else _default(family.defaults[key], g)
            for key in family.parameters
        }
        return family.vector(values, g)
    except ValueError as err:
        raise ValueError(f"{spec!r}: {err}; write {family.how(name)}") from None


def _default(default: Default, g: RSTP) -> float:
    return default(g) if callable(default) else float(default)


def _arguments(family: Family, text: str | None) -> Arguments:
    """name -> value of the parameters given: values first in the family's order, then
    key=value."""
    items = [] if text is None or not text.strip() else [t.strip() for t in text.split(",")]
    if items and not family.parameters:
        raise ValueError("it takes no parameters")
    given: Arguments = {}
    named = False
    for k, item in enumerate(items):
        key, eq, value = (t.strip() for t in item.partition("="))
        if eq:
            named = True
            if key not in family.parameters:
                raise ValueError(f"no parameter {key!r} (allowed: {', '.join(family.parameters)})")
        elif named:
            raise ValueError(f"the value {item!r} comes after a named one")
        elif k >= len(family.parameters):
            n = len(family.parameters)
            raise ValueError(f"{len(items)} values for {n} parameter{'s' if n > 1 else ''}")
        else:
            key, value = family.parameters[k], key
        if key in given:
            raise ValueError(f"{key} is given twice")
        given[key] = _number(key, value)
    missing = [p for p in family.parameters if p not in given and p not in family.defaults]
    if missing:
        raise ValueError(f"{', '.join(missing)} missing ({len(items)} values given)")
    return given


def _number(key: str, text: str) -> float:
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{key} = {text!r} is not a number (e.g. 0.25 or 1/9)") from None
