"""SqueezeNet as vHive's cnn_serving builds it (3×3/2 conv1 with 64 filters, fire modules 2–9, conv10 to
1000 classes, global average pooling, softmax), with the seeded weights the handler builds too, forward
in numpy (float64 sums): an independent reference for the top-5 the handler's TensorFlow predicts."""
import math

import numpy as np

INPUT_SIZE = 227
CLASSES = 1000
MODEL_SEED = 2024
CONV10_GAIN = 1 / 64
MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)  # Caffe-style preprocessing
FIRES = [(16, 64), (16, 64), (32, 128), (32, 128), (48, 192), (48, 192), (64, 256), (64, 256)]


def seeded_kernel(layer, k, cin, cout, seed=MODEL_SEED, gain=1.0):
    """He-uniform (2u − 1)·√(6 / fan-in)·gain as float32, u from murmur3's finaliser over (index, layer seed)."""
    size = k * k * cin * cout
    layer_seed = (seed * 1000 + layer) & 0xFFFFFFFF
    i = np.arange(size, dtype=np.uint64)
    h = (((i + 1) * 0x9E3779B1) & 0xFFFFFFFF) ^ ((layer_seed * 0x85EBCA77) & 0xFFFFFFFF)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    u = (h >> 8).astype(np.float64) / 16777216.0
    limit = math.sqrt(6.0 / (k * k * cin)) * gain
    return ((u * 2.0 - 1.0) * limit).astype(np.float32).reshape(k, k, cin, cout)


def conv_relu(x, kernel, stride=1, same=False):
    """x: (h, w, cin) float32; kernel (k, k, cin, cout); summed in float64, stored as float32."""
    k = kernel.shape[0]
    if same:
        pad = (k - 1) // 2
        x = np.pad(x, ((pad, k - 1 - pad), (pad, k - 1 - pad), (0, 0)))
    h = (x.shape[0] - k) // stride + 1
    w = (x.shape[1] - k) // stride + 1
    patches = np.stack(
        [x[ky : ky + stride * (h - 1) + 1 : stride, kx : kx + stride * (w - 1) + 1 : stride] for ky in range(k) for kx in range(k)],
        axis=2,
    )  # (h, w, k*k, cin)
    out = patches.reshape(h * w, -1).astype(np.float64) @ kernel.reshape(-1, kernel.shape[3]).astype(np.float64)
    return np.maximum(out, 0).astype(np.float32).reshape(h, w, -1)


def max_pool(x):
    h = (x.shape[0] - 3) // 2 + 1
    w = (x.shape[1] - 3) // 2 + 1
    return np.max(
        np.stack([x[ky : ky + 2 * (h - 1) + 1 : 2, kx : kx + 2 * (w - 1) + 1 : 2] for ky in range(3) for kx in range(3)]),
        axis=0,
    )


class SqueezeNet:
    def __init__(self, seed=MODEL_SEED):
        layer = iter(range(100))
        self.conv1 = seeded_kernel(next(layer), 3, 3, 64, seed)
        self.fires, cin = [], 64
        for squeeze, expand in FIRES:
            self.fires.append(
                (
                    seeded_kernel(next(layer), 1, cin, squeeze, seed),
                    seeded_kernel(next(layer), 1, squeeze, expand, seed),
                    seeded_kernel(next(layer), 3, squeeze, expand, seed),
                )
            )
            cin = expand * 2
        self.conv10 = seeded_kernel(next(layer), 1, cin, CLASSES, seed, CONV10_GAIN)

    def probabilities(self, rgb):
        """Class probabilities (float64) of one 227×227 RGB image (uint8, (h, w, 3))."""
        x = rgb[..., ::-1].astype(np.float32) - MEAN_BGR
        x = max_pool(conv_relu(x, self.conv1, stride=2))
        for index, (squeeze, expand1, expand3) in enumerate(self.fires):
            s = conv_relu(x, squeeze)
            x = np.concatenate([conv_relu(s, expand1), conv_relu(s, expand3, same=True)], axis=-1)
            if index in (1, 3):
                x = max_pool(x)
        logits = conv_relu(x, self.conv10).astype(np.float64).mean(axis=(0, 1))
        e = np.exp(logits - logits.max())
        return e / e.sum()


def top_k(probabilities, k=5):
    return sorted(range(len(probabilities)), key=lambda c: (-probabilities[c], c))[:k]
