#!/usr/bin/env python3
"""Independent reference implementation of LogME (You et al., "LogME: Practical Assessment of
Pre-trained Models for Transfer Learning", ICML 2021), written from the paper's equations with
numpy, deliberately naive: the D x D posterior precision A = alpha I + beta F^T F is formed and
inverted explicitly (no eigendecomposition, no singular value trick), and the published
fixed-point (MacKay) updates

    gamma = sum_i beta sigma_i / (alpha + beta sigma_i) = D - alpha tr(A^-1)
    m     = beta A^-1 F^T y
    alpha = gamma / (m^T m + eps)
    beta  = (N - gamma) / (||y - F m||^2 + eps),   eps = 1e-5

are iterated to convergence (relative change of alpha / beta below 1e-13), not for the fixed
10 steps of the authors' code. eps is the authors' own guard (thuml/LogME): without it the
fixed point runs off to beta -> infinity whenever the features can interpolate a label column
exactly (always when N < D), and to alpha -> infinity when they carry no signal about it. The log evidence per sample of one target column y is

    L/N = [ D/2 log alpha + N/2 log beta - 1/2 log det A
            - beta/2 ||y - F m||^2 - alpha/2 m^T m - N/2 log 2 pi ] / N

and LogME of a labelled feature matrix is its mean over the one-hot columns of the classes.

Usage: logme_reference.py OUT.json
Writes the fixture test/fixtures/logme/reference.json: for a few fixed matrices (drawn here from
numpy's seeded generator and stored in the fixture, so the TypeScript test reads the very same
numbers), the features, labels and the reference LogME values.
"""
import json
import sys

import numpy as np


EPS = 1e-5


def column_evidence(f, y, tol=1e-13, max_iter=100000):
    n, d = f.shape
    ftf = f.T @ f
    fty = f.T @ y
    alpha, beta = 1.0, 1.0
    for _ in range(max_iter):
        a = alpha * np.eye(d) + beta * ftf
        a_inv = np.linalg.inv(a)
        m = beta * a_inv @ fty
        gamma = d - alpha * np.trace(a_inv)
        new_alpha = gamma / (m @ m + EPS)
        new_beta = (n - gamma) / (np.sum((y - f @ m) ** 2) + EPS)
        done = abs(new_alpha / new_beta - alpha / beta) / (alpha / beta) < tol
        alpha, beta = new_alpha, new_beta
        if done:
            break
    else:
        raise RuntimeError("LogME fixed point did not converge")
    a = alpha * np.eye(d) + beta * ftf
    m = beta * np.linalg.solve(a, fty)
    _, logdet = np.linalg.slogdet(a)
    evidence = (
        d / 2 * np.log(alpha)
        + n / 2 * np.log(beta)
        - 0.5 * logdet
        - beta / 2 * np.sum((y - f @ m) ** 2)
        - alpha / 2 * (m @ m)
        - n / 2 * np.log(2 * np.pi)
    )
    return evidence / n


def logme(f, labels, classes):
    values = [column_evidence(f, (labels == c).astype(np.float64)) for c in range(classes) if np.any(labels == c)]
    return float(np.mean(values))


def case(name, rng, n, d, classes, structured):
    labels = rng.integers(0, classes, size=n)
    labels[:classes] = np.arange(classes)  # every class present
    f = rng.normal(size=(n, d))
    if structured:
        # Class means along a few directions and correlated columns: a feature matrix that
        # carries label information, as block activations do.
        means = rng.normal(size=(classes, d)) * 1.5
        f = f @ rng.normal(size=(d, d)) / np.sqrt(d) + means[labels]
        f = np.maximum(f, 0.0)  # ReLU-like, non-negative, some exact zeros
    f = np.round(f, 6)  # the fixture stores these exact decimal values
    return {
        "name": name,
        "rows": n,
        "cols": d,
        "classes": classes,
        "features": f.reshape(-1).tolist(),
        "labels": labels.tolist(),
        "logme": logme(f, labels, classes),
    }


def main():
    rng = np.random.default_rng(20210715)
    cases = [
        case("noise, N > D", rng, 60, 6, 3, False),
        case("structured, N > D", rng, 80, 10, 4, True),
        case("structured, N < D", rng, 16, 24, 2, True),
        case("structured, N = D", rng, 12, 12, 3, True),
        case("structured, N << D", rng, 20, 64, 4, True),
    ]
    doc = {
        "source": "test/reference/logme_reference.py (numpy " + np.__version__ + "): naive fixed-point LogME iterated to convergence",
        "cases": cases,
    }
    with open(sys.argv[1], "w") as out:
        json.dump(doc, out, indent=None, separators=(",", ":"))
        out.write("\n")


if __name__ == "__main__":
    main()
