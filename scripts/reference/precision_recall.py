"""Reference values for test/core/evaluation/precision-recall.test.ts.

An independent numpy implementation of improved precision and recall (Kynkaanniemi et al. 2019,
following the authors' `ManifoldEstimator`: full distance matrices, the k-th entry of each sorted
row, which skips the point itself at index 0, and `distance <= radius`) on point sets that the
TypeScript test rebuilds bit for bit: an integer LCG whose 23-bit outputs are exact in float32.

Run: python3 scripts/reference/precision_recall.py
"""
import numpy as np


def lcg(seed):
    state = seed
    while True:
        state = (state * 1103515245 + 12345) % 2**31
        yield (state >> 8) / 2**23  # 23 bits: exact in float32


def uniform_points(seed, count, dim, offset=0.0, scale=1.0):
    draw = lcg(seed)
    return np.array([[offset + scale * next(draw) for _ in range(dim)] for _ in range(count)])


def clusters(seed, centres, per_cluster, dim, spread):
    draw = lcg(seed)
    points = []
    for centre in centres:
        for _ in range(per_cluster):
            points.append([centre + spread * (next(draw) - 0.5) for _ in range(dim)])
    return np.array(points)


def radii(points, k):
    distances = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
    return np.sort(distances, axis=1)[:, k]


def coverage(queries, reference, reference_radii):
    distances = np.sqrt(((queries[:, None, :] - reference[None, :, :]) ** 2).sum(-1))
    inside = (distances <= reference_radii[None, :]).any(axis=1)
    return int(inside.sum()), len(queries)


def precision_recall(real, generated, k):
    precision = coverage(generated, real, radii(real, k))
    recall = coverage(real, generated, radii(generated, k))
    return precision, recall


cases = {
    'overlapping cubes, k=3': (uniform_points(1, 120, 4), uniform_points(2, 90, 4, offset=0.5), 3),
    'overlapping cubes, k=1': (uniform_points(1, 120, 4), uniform_points(2, 90, 4, offset=0.5), 1),
    'overlapping cubes, k=5': (uniform_points(1, 120, 4), uniform_points(2, 90, 4, offset=0.5), 5),
    'two of three clusters, k=3': (
        clusters(3, [0, 4, 8], 40, 16, 1.0),
        clusters(4, [0, 4], 50, 16, 1.0),
        3,
    ),
}
for name, (real, generated, k) in cases.items():
    (inside_p, total_p), (inside_r, total_r) = precision_recall(real, generated, k)
    print(f'{name}: precision {inside_p}/{total_p} = {inside_p / total_p:.6f}, '
          f'recall {inside_r}/{total_r} = {inside_r / total_r:.6f}')
