"""Summary statistics of a sweep's repeats: mean, sd and a t-based 95% confidence interval;
paired differences between two arms or grid points run on the same seeds (`Paired`).

Student's t quantile is computed here (scipy is not a dependency): for whole degrees of freedom
the two-sided probability P(|T| <= t) has a closed form (Abramowitz and Stegun 26.7.3-4), which
bisection inverts to the quantile.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

CONFIDENCE = 0.95


def t_within(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with `df` (a whole number >= 1) degrees of freedom."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, not {df}")
    theta = math.atan(abs(t) / math.sqrt(df))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2 == 1:
        term, acc = 1.0, 1.0 if df > 1 else 0.0
        for k in range(1, (df - 1) // 2):  # 1 + 2/3 c^2 + (2*4)/(3*5) c^4 + ...
            term *= c2 * (2 * k) / (2 * k + 1)
            acc += term
        return 2 / math.pi * (theta + s * math.cos(theta) * acc)
    term, acc = 1.0, 1.0
    for k in range(1, df // 2):  # 1 + 1/2 c^2 + (1*3)/(2*4) c^4 + ...
        term *= c2 * (2 * k - 1) / (2 * k)
        acc += term
    return s * acc


def t_quantile(df: int, confidence: float = CONFIDENCE) -> float:
    """The t such that P(|T| <= t) = `confidence` (1.96 as df grows; 12.706 for df 1)."""
    lo, hi = 0.0, 1.0
    while t_within(hi, df) < confidence:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_within(mid, df) < confidence:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return (lo + hi) / 2


@dataclasses.dataclass(frozen=True, kw_only=True)
class Estimate:
    """A figure over a grid point's repeats. With one repeat the sd and interval are NaN."""

    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float

    @classmethod
    def of(cls, values: Sequence[float], confidence: float = CONFIDENCE) -> Estimate:
        n = len(values)
        if n == 0:
            nan = math.nan
            return cls(n=0, mean=nan, sd=nan, ci_low=nan, ci_high=nan)
        mean = math.fsum(values) / n
        if n == 1:
            return cls(n=1, mean=mean, sd=math.nan, ci_low=math.nan, ci_high=math.nan)
        sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
        half = t_quantile(n - 1, confidence) * sd / math.sqrt(n)
        return cls(n=n, mean=mean, sd=sd, ci_low=mean - half, ci_high=mean + half)

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2


@dataclasses.dataclass(frozen=True, kw_only=True)
class Paired:
    """Treated minus control over repeats paired by their seed (common random numbers).

    `diff` is the estimate of the differences: its mean, sd and the paired t interval (a
    one-sample t interval of the differences). `d_z` is Cohen's effect size for paired data,
    the mean difference over the sd of the differences. `p_value` is the two-sided paired t
    test's. Where every difference is the same, the sd is 0: `d_z` and `p_value` are NaN if
    that difference is 0, else infinite and 0."""

    treated: Estimate
    control: Estimate
    diff: Estimate
    d_z: float
    p_value: float

    @classmethod
    def of(
        cls,
        treated: Mapping[int, float],
        control: Mapping[int, float],
        confidence: float = CONFIDENCE,
    ) -> Paired:
        """`treated` and `control`: a figure's value by repeat; only repeats both have count."""
        both = sorted(set(treated) & set(control))
        t = [treated[r] for r in both]
        c = [control[r] for r in both]
        diff = Estimate.of([a - b for a, b in zip(t, c, strict=True)], confidence)
        if diff.n < 2 or math.isnan(diff.sd):
            d_z = p = math.nan
        elif diff.sd == 0:
            d_z, p = (
                (math.nan, math.nan)
                if diff.mean == 0
                else (math.copysign(math.inf, diff.mean), 0.0)
            )
        else:
            d_z = diff.mean / diff.sd
            stat = d_z * math.sqrt(diff.n)
            p = max(0.0, 1.0 - t_within(stat, diff.n - 1))
        return cls(
            treated=Estimate.of(t, confidence),
            control=Estimate.of(c, confidence),
            diff=diff,
            d_z=d_z,
            p_value=p,
        )
