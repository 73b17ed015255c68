#!/usr/bin/env python3
"""Independent reference implementation of defrost's similarity measures (docs/science.md#comparing-representations),
written straight from the published definitions with numpy, deliberately naive: distances by
explicit differences (no Gram trick), full sorts, kernels centred with explicit H matrices.

Usage: similarity_reference.py A.npy B.npy K RBF_SIGMA
Prints one JSON object with the same value names as `defrost compare --json`.

Conventions shared with defrost (documented there): Euclidean distances, self excluded,
ties broken by the lower row index; RBF bandwidth = RBF_SIGMA x median of the distances over
pairs i < j; TwoNN = linear fit through the origin of -log(1 - i/N) against log(mu), sorted,
on the first floor(0.9 N) values (Facco et al. 2017), points with r1 = 0 left out.
"""
import json
import sys

import numpy as np


def sq_distances(x):
    diff = x[:, None, :] - x[None, :, :]
    return np.einsum('ijk,ijk->ij', diff, diff)


def neighbour_order(d2, i):
    """Indices of all points but i, nearest first, ties by index (stable sort on distance)."""
    n = d2.shape[0]
    others = np.array([j for j in range(n) if j != i])
    return others[np.argsort(d2[i, others], kind='stable')]


def hsic(k, l):
    n = k.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    return np.trace(k @ h @ l @ h)


def cka(k, l):
    return hsic(k, l) / np.sqrt(hsic(k, k) * hsic(l, l))


def linear_cka(a, b):
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    return cka(a @ a.T, b @ b.T)


def rbf_kernel(x, sigma_factor):
    d2 = sq_distances(x)
    iu = np.triu_indices(x.shape[0], 1)
    sigma = sigma_factor * np.median(np.sqrt(d2[iu]))
    return np.exp(-d2 / (2 * sigma ** 2))


def main():
    a = np.load(sys.argv[1]).astype(np.float64)
    b = np.load(sys.argv[2]).astype(np.float64)
    k = int(sys.argv[3])
    sigma_factor = float(sys.argv[4])
    n = a.shape[0]
    da, db = sq_distances(a), sq_distances(b)
    order_a = [neighbour_order(da, i) for i in range(n)]
    order_b = [neighbour_order(db, i) for i in range(n)]

    overlap = np.mean([len(set(order_a[i][:k]) & set(order_b[i][:k])) / k for i in range(n)])

    def imbalance(order_x, order_y):
        ranks = []
        for i in range(n):
            j = order_x[i][0]
            ranks.append(int(np.where(order_y[i] == j)[0][0]) + 1)
        return 2.0 / n * np.mean(ranks)

    def two_nn(d2, order):
        mus = []
        for i in range(n):
            r1 = np.sqrt(d2[i, order[i][0]])
            r2 = np.sqrt(d2[i, order[i][1]])
            if r1 > 0:
                mus.append(r2 / r1)
        m = len(mus)
        x = np.sort(np.log(np.array(mus)))[: int(0.9 * m)]
        y = -np.log(1 - np.arange(1, len(x) + 1) / m)
        return float(np.linalg.lstsq(x[:, None], y, rcond=None)[0][0])

    out = {
        'n': n,
        'measures': {
            'cka': float(linear_cka(a, b)),
            'rbf_cka': float(cka(rbf_kernel(a, sigma_factor), rbf_kernel(b, sigma_factor))),
            'neighbour_overlap': float(overlap),
            'information_imbalance_a_to_b': float(imbalance(order_a, order_b)),
            'information_imbalance_b_to_a': float(imbalance(order_b, order_a)),
            'intrinsic_dimension_a': two_nn(da, order_a),
            'intrinsic_dimension_b': two_nn(db, order_b),
        },
    }
    print(json.dumps(out))


if __name__ == '__main__':
    main()
