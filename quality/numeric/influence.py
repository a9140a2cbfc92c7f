"""Self-influence of each training item under a multinomial logistic (softmax) model.

TracIn: G. Pruthi, F. Liu, S. Kale and M. Sundararajan (2020), "Estimating training data
influence by tracing gradient descent", NeurIPS. The self-influence of item i is
``sum_t eta_t * ||grad_W loss(x_i, y_i; W_t)||^2`` over saved checkpoints W_t (TracInCP,
their Eq. 3 with z' = z). Mislabelled items keep a large loss gradient through training, so
they rank high.

For the last (here: only) layer of a softmax model with weights W (d, K) and logits x W, the
cross-entropy gradient is the outer product x (p - e_y)^T, whose squared Frobenius norm
factorises: ``||x||^2 * ||p - e_y||^2``. No gradient is ever materialised, so a million items
take a few passes over their features. numpy only, no Django.
"""

from __future__ import annotations

import numpy as np

# Rows per block: the (block, K) logits stay in cache, and peak memory stays flat in n.
_BLOCK = 1 << 16


def _check_features(features, labels, n_labels=None):
    x = np.asarray(features)
    if x.ndim != 2:
        raise ValueError(f"features must have shape (n, d), got {x.shape}")
    y = np.asarray(labels)
    if y.shape != (x.shape[0],):
        raise ValueError(f"labels must have shape ({x.shape[0]},), got {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"labels must hold integer codes, got dtype {y.dtype}")
    y = y.astype(np.int64, copy=False)
    if n_labels is not None and y.size and (y.min() < 0 or y.max() >= n_labels):
        raise ValueError(f"labels must lie in 0..{n_labels - 1}")
    return x, y


def _with_intercept(x_block: np.ndarray, fit_intercept: bool) -> np.ndarray:
    x = x_block.astype(np.float64, copy=False)
    return np.hstack([x, np.ones((x.shape[0], 1))]) if fit_intercept else x


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    return logits


def _residual_sq(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """||p - e_y||^2 per row, without building e_y: sum p^2 - 2 p_y + 1."""
    py = p[np.arange(y.size), y]
    return (p * p).sum(axis=1) - 2.0 * py + 1.0


def _learning_rates(learning_rates, n_ckpt) -> np.ndarray:
    if learning_rates is None:
        return np.ones(n_ckpt)
    lr = np.broadcast_to(np.asarray(learning_rates, dtype=np.float64), (n_ckpt,))
    if np.any(lr < 0):
        raise ValueError("learning rates must be non-negative")
    return lr


def tracin_self_influence(
    features, labels, checkpoints, *, learning_rates=None, fit_intercept=True
) -> np.ndarray:
    """TracIn self-influence under softmax-regression checkpoints (Pruthi et al. 2020, Eq. 3).

    features: (n, d); labels: (n,); checkpoints: (n_ckpt, d + 1, K) weights with the
    intercept as the last row (or (n_ckpt, d, K) with ``fit_intercept=False``); learning_rates:
    scalar or (n_ckpt,) step sizes eta_t (default 1). Returns (n,) float64, high = suspect.
    """
    w = np.asarray(checkpoints, dtype=np.float64)
    if w.ndim != 3:
        raise ValueError(f"checkpoints must have shape (n_ckpt, d[+1], K), got {w.shape}")
    x, y = _check_features(features, labels, w.shape[2])
    if w.shape[1] != x.shape[1] + int(fit_intercept):
        raise ValueError("checkpoint rows must equal the number of features (+1 for intercept)")
    lr = _learning_rates(learning_rates, w.shape[0])
    out = np.empty(x.shape[0])
    for s in range(0, x.shape[0], _BLOCK):
        xb = _with_intercept(x[s : s + _BLOCK], fit_intercept)
        yb = y[s : s + _BLOCK]
        acc = np.zeros(xb.shape[0])
        for t in range(w.shape[0]):
            acc += lr[t] * _residual_sq(_softmax(xb @ w[t]), yb)
        out[s : s + _BLOCK] = acc * (xb * xb).sum(axis=1)
    return out


def tracin_self_influence_from_probs(
    probs, labels, features, *, learning_rates=None, fit_intercept=True
) -> np.ndarray:
    """TracIn self-influence from per-epoch probabilities of a last softmax layer.

    When a network's per-epoch probabilities (n_epochs, n, K) are saved but not its weights,
    and ``features`` (n, d) are the inputs of its last layer, the same factorisation gives
    ``||x||^2 * sum_t eta_t ||p_t - e_y||^2`` (Pruthi et al. 2020, Section 3.2, last-layer
    gradients). Returns (n,) float64.
    """
    z = np.asarray(probs)
    if z.ndim != 3:
        raise ValueError(f"probs must have shape (n_epochs, n, K), got {z.shape}")
    x, y = _check_features(features, labels, z.shape[2])
    if z.shape[1] != x.shape[0]:
        raise ValueError("probs and features must describe the same items")
    lr = _learning_rates(learning_rates, z.shape[0])
    acc = np.zeros(x.shape[0])
    for t in range(z.shape[0]):
        acc += lr[t] * _residual_sq(z[t].astype(np.float64, copy=False), y)
    norms = np.empty(x.shape[0])
    for s in range(0, x.shape[0], _BLOCK):
        xb = x[s : s + _BLOCK].astype(np.float64, copy=False)
        norms[s : s + _BLOCK] = (xb * xb).sum(axis=1) + float(fit_intercept)
    return acc * norms


def softmax_regression_checkpoints(
    features, labels, *, n_labels, n_epochs=20, learning_rate=0.5, l2=1e-4, fit_intercept=True
) -> tuple[np.ndarray, np.ndarray]:
    """Train a softmax regression by full-batch gradient descent, keeping every epoch's weights.

    The model TracIn is computed for, when no network's checkpoints are at hand (e.g. on a
    frozen embedding). Deterministic: starts from zeros. Returns (checkpoints
    (n_epochs, d[+1], K), probs (n_epochs, n, K) float32 on the training items at each
    checkpoint, i.e. before that epoch's step).
    """
    x, y = _check_features(features, labels, n_labels)
    n, k = x.shape[0], int(n_labels)
    d = x.shape[1] + int(fit_intercept)
    w = np.zeros((d, k))
    ckpts = np.empty((n_epochs, d, k))
    probs = np.empty((n_epochs, n, k), dtype=np.float32)
    for e in range(n_epochs):
        ckpts[e] = w
        grad = np.zeros_like(w)
        for s in range(0, n, _BLOCK):
            xb = _with_intercept(x[s : s + _BLOCK], fit_intercept)
            p = _softmax(xb @ w)
            probs[e, s : s + _BLOCK] = p
            p[np.arange(p.shape[0]), y[s : s + _BLOCK]] -= 1.0
            grad += xb.T @ p
        w = w - learning_rate * (grad / max(n, 1) + l2 * w)
    return ckpts, probs
