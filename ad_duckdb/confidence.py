"""How sure a prediction is: PyOD's ``predict_confidence`` (Perini et al. 2020, "Quantifying the confidence of
anomaly detectors in their example-wise predictions"), without SciPy.

Why without SciPy: PyOD computes it with ``scipy.stats.binom``, which scoring does not otherwise need; the one
function it takes, the binomial tail, is the regularized incomplete beta function, a short continued fraction.
"""

from __future__ import annotations

import math

import numpy as np

_EPS = 1e-15
_TINY = 1e-300
_MAX_ITER = 100_000


def confidence(train_scores: np.ndarray, scores: np.ndarray, threshold: float, contamination: float) -> np.ndarray:
    """For each score: the probability that a detector fitted on a slightly different training set makes the same
    prediction (anomaly if above ``threshold``), as PyOD's BaseDetector.predict_confidence computes it.

    A score's outlier probability is the Bayesian estimate (1 + #training scores <= it) / (2 + n); the chance that it
    is among the top ``n * contamination`` of n such draws is a binomial tail. NaN scores give NaN."""
    train = np.sort(np.asarray(train_scores, dtype=np.float64))
    train = train[~np.isnan(train)]
    s = np.asarray(scores, dtype=np.float64)
    return confidence_at(np.searchsorted(train, s, side="right"), len(train), s, threshold, contamination)


def confidence_at(below: np.ndarray, n: int, scores: np.ndarray, threshold: float, contamination: float) -> np.ndarray:
    """``confidence`` given, for each score, ``below``: how many of the ``n`` training scores are at or below it (all
    it reads of them; a stored model keeps those ranks, not the scores: ``trainscores``)."""
    s = np.asarray(scores, dtype=np.float64)
    p = (1.0 + below) / (2.0 + n)
    k = n - int(n * contamination)
    # 1 - binom.cdf(k; n, p) = P(X >= k + 1) = I_p(k + 1, n - k); none above n
    anomaly = regularized_beta(k + 1.0, float(n - k), p) if k < n else np.zeros_like(p)
    out = np.where(s > threshold, anomaly, 1.0 - anomaly)
    out[np.isnan(s)] = np.nan
    return out


def regularized_beta(a: float, b: float, x: np.ndarray) -> np.ndarray:
    """I_x(a, b) for each x in [0, 1] (a, b > 0), by the continued fraction of Numerical Recipes' betacf, on the side
    of x where it converges fast (I_x(a, b) = 1 - I_{1-x}(b, a))."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    out = np.empty_like(x)
    flip = x > (a + 1.0) / (a + b + 2.0)
    out[~flip] = _beta_front_cf(a, b, x[~flip])
    out[flip] = 1.0 - _beta_front_cf(b, a, 1.0 - x[flip])
    return out


def _beta_front_cf(a: float, b: float, x: np.ndarray) -> np.ndarray:
    if x.size == 0:
        return x.copy()
    lbeta = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    with np.errstate(divide="ignore"):
        log_front = lbeta + a * np.log(x) + b * np.log1p(-x)
    front = np.exp(log_front) / a
    return np.where(x <= 0.0, 0.0, np.where(x >= 1.0, 1.0, front * _continued_fraction(a, b, x)))


def _continued_fraction(a: float, b: float, x: np.ndarray) -> np.ndarray:
    """Lentz's evaluation of betacf's fraction, every x at once, until each term changes it by less than _EPS."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = 1.0 - qab * x / qap
    d = 1.0 / np.where(np.abs(d) < _TINY, _TINY, d)
    h = d.copy()
    done = np.zeros(x.shape, dtype=bool)
    for m in range(1, _MAX_ITER + 1):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / np.where(np.abs(d) < _TINY, _TINY, d)
            c = 1.0 + aa / c
            c = np.where(np.abs(c) < _TINY, _TINY, c)
            delta = np.where(done, 1.0, d * c)
            h = h * delta
        done |= np.abs(delta - 1.0) < _EPS
        if done.all():
            break
    return h
