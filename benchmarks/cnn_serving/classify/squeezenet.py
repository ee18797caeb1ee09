"""SqueezeNet as vHive's cnn_serving builds it (the keras_squeezenet package's architecture), in Keras 3.

No pretrained weights can be downloaded where faas is tested and no package ships them, so the
weights are seeded: every kernel value comes from a counter-based hash (murmur3's finaliser) of its
index and layer, He-uniform scaled, biases zero. The compute is SqueezeNet's; the labels mean
nothing. The benchmark's checker builds the same weights from the same hash in numpy (check/reference.py)
to check the top-5 this model predicts.
"""
import math

import numpy as np

import keras
from keras import layers

MODEL_SEED = 2024
CONV10_GAIN = 1 / 64  # keeps class scores a few units apart, so the top five are well separated
INPUT_SIZE = 227
CLASSES = 1000
MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)
FIRES = [(16, 64), (16, 64), (32, 128), (32, 128), (48, 192), (48, 192), (64, 256), (64, 256)]


def seeded_kernel(layer, shape, seed=MODEL_SEED, gain=1.0):
    kh, kw, cin, cout = shape
    limit = math.sqrt(6.0 / (kh * kw * cin)) * gain
    layer_seed = (seed * 1000 + layer) & 0xFFFFFFFF
    i = np.arange(kh * kw * cin * cout, dtype=np.uint32)
    h = ((i + np.uint32(1)) * np.uint32(0x9E3779B1)) ^ np.uint32((layer_seed * 0x85EBCA77) & 0xFFFFFFFF)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    u = (h >> np.uint32(8)).astype(np.float64) / 16777216.0
    return ((u * 2.0 - 1.0) * limit).astype(np.float32).reshape(shape)


def fire_module(x, fire_id, squeeze, expand):
    s_id = f"fire{fire_id}_"  # keras_squeezenet names "fire2/squeeze1x1"; Keras 3 forbids "/" in names
    x = layers.Conv2D(squeeze, (1, 1), padding="valid", name=s_id + "squeeze1x1")(x)
    x = layers.Activation("relu", name=s_id + "relu_squeeze1x1")(x)
    left = layers.Conv2D(expand, (1, 1), padding="valid", name=s_id + "expand1x1")(x)
    left = layers.Activation("relu", name=s_id + "relu_expand1x1")(left)
    right = layers.Conv2D(expand, (3, 3), padding="same", name=s_id + "expand3x3")(x)
    right = layers.Activation("relu", name=s_id + "relu_expand3x3")(right)
    return layers.concatenate([left, right], axis=-1, name=s_id + "concat")


def build_squeezenet(seed=MODEL_SEED):
    inputs = keras.Input(shape=(INPUT_SIZE, INPUT_SIZE, 3))
    x = layers.Conv2D(64, (3, 3), strides=(2, 2), padding="valid", name="conv1")(inputs)
    x = layers.Activation("relu", name="relu_conv1")(x)
    x = layers.MaxPooling2D(pool_size=(3, 3), strides=(2, 2), name="pool1")(x)
    for index, (squeeze, expand) in enumerate(FIRES):
        x = fire_module(x, index + 2, squeeze, expand)
        if index + 2 in (3, 5):
            x = layers.MaxPooling2D(pool_size=(3, 3), strides=(2, 2), name=f"pool{index + 2}")(x)
    x = layers.Dropout(0.5, name="drop9")(x)
    x = layers.Conv2D(CLASSES, (1, 1), padding="valid", name="conv10")(x)
    x = layers.Activation("relu", name="relu_conv10")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Activation("softmax", name="loss")(x)
    model = keras.Model(inputs, outputs, name="squeezenet")

    convs = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    for index, conv in enumerate(convs):
        kernel, bias = conv.get_weights()
        gain = CONV10_GAIN if conv.name == "conv10" else 1.0
        conv.set_weights([seeded_kernel(index, kernel.shape, seed, gain), np.zeros_like(bias)])
    return model


def preprocess(rgb):
    """Keras's preprocess_input in "caffe" mode, as vHive's function: RGB to BGR, ImageNet means subtracted (float32)."""
    return rgb[..., ::-1].astype(np.float32) - MEAN_BGR
