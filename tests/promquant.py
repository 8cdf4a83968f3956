"""PromQL's histogram_quantile on cumulative bucket counts, the reference
the tests hold rwbridge's derived quantiles against (insight_check.py,
test_quantiles.sh)."""
import math


def histogram_quantile(q, buckets):
    """The q-quantile of {upper bound: cumulative count} (bounds as floats
    or their strings, +Inf included) as PromQL interpolates it; None when
    there are fewer than two buckets or no observations."""
    b = sorted((float(le), c) for le, c in buckets.items())
    if len(b) < 2 or b[-1][1] == 0:
        return None
    rank = q * b[-1][1]
    for i, (le, c) in enumerate(b):
        if c >= rank:
            break
    if math.isinf(le):
        return b[-2][0]
    if i == 0 and le <= 0:
        return le
    lo, clo = (0.0, 0.0) if i == 0 else b[i - 1]
    return lo + (le - lo) * (rank - clo) / (c - clo)
