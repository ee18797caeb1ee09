import type {RgbImage} from './images.js'

/**
 * SqueezeNet as vHive's cnn_serving builds it (keras_squeezenet: 3×3/2 conv1 with 64 filters, fire
 * modules 2–9, conv10 to 1000 classes, global average pooling, softmax), with the seeded weights the
 * function builds too: the same counter-based hash in both languages gives every kernel value, so
 * this forward pass, in plain TypeScript, is an independent reference for the function's top-5.
 * No pretrained weights can be had here: the classes are meaningless, the compute is SqueezeNet's.
 */
export const INPUT_SIZE = 227
export const CLASSES = 1000
export const MODEL_SEED = 2024
export const CONV10_GAIN = 1 / 64
// Caffe-style preprocessing (keras preprocess_input, mode "caffe"): BGR order, ImageNet means subtracted.
const MEAN_BGR = [103.939, 116.779, 123.68]

/** Fire modules: [squeeze, expand] filters, with a 3×3/2 max pool after fire 3 and fire 5. */
const FIRES: Array<[number, number]> = [
  [16, 64],
  [16, 64],
  [32, 128],
  [32, 128],
  [48, 192],
  [48, 192],
  [64, 256],
  [64, 256],
]

interface Tensor {
  h: number
  w: number
  c: number
  data: Float32Array
}

/** murmur3's finaliser over (index, layer seed): uniform in [0, 1) with 24 bits, as the handler's numpy code. */
function uniform(index: number, layerSeed: number): number {
  let h = (Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(layerSeed, 0x85ebca77)) >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b) >>> 0
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35) >>> 0
  h ^= h >>> 16
  return (h >>> 8) / 16_777_216
}

/**
 * A conv kernel (kh, kw, cin, cout; Keras's layout, C order), He-uniform: (2u − 1)·√(6 / fan-in)·gain,
 * as float32. conv10's gain of 1/64 keeps the class scores within a few units of each other, so the
 * softmax's top five are distinct, well-separated float32 numbers rather than one 1.0 and underflows.
 */
export function seededKernel(
  layer: number,
  kh: number,
  kw: number,
  cin: number,
  cout: number,
  seed = MODEL_SEED,
  gain = 1,
): Float32Array {
  const size = kh * kw * cin * cout
  const limit = Math.sqrt(6 / (kh * kw * cin)) * gain
  const layerSeed = (seed * 1000 + layer) >>> 0
  const kernel = new Float32Array(size)
  for (let i = 0; i < size; i++) kernel[i] = (uniform(i, layerSeed) * 2 - 1) * limit
  return kernel
}

interface Conv {
  k: number
  stride: number
  same: boolean
  cin: number
  cout: number
  kernel: Float32Array
}

function conv2dRelu(input: Tensor, conv: Conv): Tensor {
  const pad = conv.same ? (conv.k - 1) >> 1 : 0
  const h = conv.same ? Math.ceil(input.h / conv.stride) : Math.floor((input.h - conv.k) / conv.stride) + 1
  const w = conv.same ? Math.ceil(input.w / conv.stride) : Math.floor((input.w - conv.k) / conv.stride) + 1
  const out = new Float32Array(h * w * conv.cout)
  const acc = new Float64Array(conv.cout)
  const {kernel, cin, cout, k} = conv
  for (let oy = 0; oy < h; oy++) {
    for (let ox = 0; ox < w; ox++) {
      acc.fill(0)
      for (let ky = 0; ky < k; ky++) {
        const iy = oy * conv.stride + ky - pad
        if (iy < 0 || iy >= input.h) continue
        for (let kx = 0; kx < k; kx++) {
          const ix = ox * conv.stride + kx - pad
          if (ix < 0 || ix >= input.w) continue
          const inBase = (iy * input.w + ix) * cin
          const kBase = (ky * k + kx) * cin * cout
          for (let ci = 0; ci < cin; ci++) {
            const v = input.data[inBase + ci]!
            if (v === 0) continue
            const row = kBase + ci * cout
            for (let co = 0; co < cout; co++) acc[co] = acc[co]! + v * kernel[row + co]!
          }
        }
      }
      const base = (oy * w + ox) * cout
      for (let co = 0; co < cout; co++) out[base + co] = acc[co]! > 0 ? acc[co]! : 0
    }
  }
  return {h, w, c: cout, data: out}
}

function maxPool3x3s2(input: Tensor): Tensor {
  const h = Math.floor((input.h - 3) / 2) + 1
  const w = Math.floor((input.w - 3) / 2) + 1
  const out = new Float32Array(h * w * input.c)
  for (let oy = 0; oy < h; oy++) {
    for (let ox = 0; ox < w; ox++) {
      for (let c = 0; c < input.c; c++) {
        let best = -Infinity
        for (let ky = 0; ky < 3; ky++)
          for (let kx = 0; kx < 3; kx++)
            best = Math.max(best, input.data[((oy * 2 + ky) * input.w + ox * 2 + kx) * input.c + c]!)
        out[(oy * w + ox) * input.c + c] = best
      }
    }
  }
  return {h, w, c: input.c, data: out}
}

function concatChannels(a: Tensor, b: Tensor): Tensor {
  const c = a.c + b.c
  const out = new Float32Array(a.h * a.w * c)
  for (let p = 0; p < a.h * a.w; p++) {
    out.set(a.data.subarray(p * a.c, (p + 1) * a.c), p * c)
    out.set(b.data.subarray(p * b.c, (p + 1) * b.c), p * c + a.c)
  }
  return {h: a.h, w: a.w, c, data: out}
}

export interface SqueezeNet {
  conv1: Conv
  fires: Array<{squeeze: Conv; expand1: Conv; expand3: Conv}>
  conv10: Conv
}

/**
 * The network with its seeded weights, in the order the handler assigns them (conv1, fire2 squeeze/1×1/3×3 … fire9,
 * conv10).
 */
export function buildSqueezeNet(seed = MODEL_SEED): SqueezeNet {
  let layer = 0
  const conv = (k: number, stride: number, same: boolean, cin: number, cout: number, gain = 1): Conv => ({
    k,
    stride,
    same,
    cin,
    cout,
    kernel: seededKernel(layer++, k, k, cin, cout, seed, gain),
  })
  const conv1 = conv(3, 2, false, 3, 64)
  let cin = 64
  const fires = FIRES.map(([squeeze, expand]) => {
    const fire = {
      squeeze: conv(1, 1, false, cin, squeeze),
      expand1: conv(1, 1, false, squeeze, expand),
      expand3: conv(3, 1, true, squeeze, expand),
    }
    cin = expand * 2
    return fire
  })
  return {conv1, fires, conv10: conv(1, 1, false, cin, CLASSES, CONV10_GAIN)}
}

/** The class probabilities for one 227×227 RGB image. */
export function classify(net: SqueezeNet, image: RgbImage): Float64Array {
  if (image.width !== INPUT_SIZE || image.height !== INPUT_SIZE)
    throw new Error(`SqueezeNet takes ${INPUT_SIZE}×${INPUT_SIZE} images, not ${image.width}×${image.height}`)
  const input = new Float32Array(INPUT_SIZE * INPUT_SIZE * 3)
  const mean = MEAN_BGR.map(Math.fround)
  for (let p = 0; p < INPUT_SIZE * INPUT_SIZE; p++) {
    for (let c = 0; c < 3; c++) input[p * 3 + c] = image.rgb[p * 3 + (2 - c)]! - mean[c]!
  }
  let x: Tensor = conv2dRelu({h: INPUT_SIZE, w: INPUT_SIZE, c: 3, data: input}, net.conv1)
  x = maxPool3x3s2(x)
  net.fires.forEach((fire, i) => {
    const squeezed = conv2dRelu(x, fire.squeeze)
    x = concatChannels(conv2dRelu(squeezed, fire.expand1), conv2dRelu(squeezed, fire.expand3))
    if (i === 1 || i === 3) x = maxPool3x3s2(x)
  })
  x = conv2dRelu(x, net.conv10)
  const logits = new Float64Array(CLASSES)
  for (let p = 0; p < x.h * x.w; p++)
    for (let c = 0; c < CLASSES; c++) logits[c] = logits[c]! + x.data[p * CLASSES + c]!
  let max = -Infinity
  for (let c = 0; c < CLASSES; c++) max = Math.max(max, (logits[c] = logits[c]! / (x.h * x.w)))
  let sum = 0
  for (let c = 0; c < CLASSES; c++) sum += logits[c] = Math.exp(logits[c]! - max)
  for (let c = 0; c < CLASSES; c++) logits[c] = logits[c]! / sum
  return logits
}

/** The k most probable classes, most probable first. */
export function topK(probabilities: Float64Array, k = 5): number[] {
  return [...probabilities.keys()].sort((a, b) => probabilities[b]! - probabilities[a]! || a - b).slice(0, k)
}
