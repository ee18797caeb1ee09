import {createHash} from 'node:crypto'
import {PNG} from 'pngjs'

import {rng} from '../core/random.js'

/** An 8-bit RGB image, rows top to bottom, pixels left to right (as Pillow's `tobytes()` for mode RGB). */
export interface RgbImage {
  width: number
  height: number
  rgb: Buffer
}

/**
 * A deterministic test image: red is seeded noise, green a horizontal and blue a vertical ramp, so
 * any flip, transpose or wrong turn changes the pixels. The same seed and size give the same bytes.
 */
export function generateImage(seed: number, width: number, height: number): RgbImage {
  const next = rng(seed)
  const rgb = Buffer.alloc(width * height * 3)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3
      rgb[at] = Math.floor(next() * 256)
      rgb[at + 1] = Math.floor((x * 255) / Math.max(1, width - 1))
      rgb[at + 2] = Math.floor((y * 255) / Math.max(1, height - 1))
    }
  }
  return {width, height, rgb}
}

/** Lossless PNG (colour type 2, RGB), as the functions read and write. */
export function encodePng(image: RgbImage): Buffer {
  const png = new PNG({width: image.width, height: image.height})
  for (let i = 0, j = 0; i < image.rgb.length; i += 3, j += 4) {
    png.data[j] = image.rgb[i]!
    png.data[j + 1] = image.rgb[i + 1]!
    png.data[j + 2] = image.rgb[i + 2]!
    png.data[j + 3] = 255
  }
  return PNG.sync.write(png, {colorType: 2})
}

/** The RGB pixels of a PNG (any alpha is dropped, as converting to Pillow's mode RGB does for opaque images). */
export function decodePng(bytes: Uint8Array): RgbImage {
  const png = PNG.sync.read(Buffer.from(bytes))
  const rgb = Buffer.alloc(png.width * png.height * 3)
  for (let i = 0, j = 0; j < png.data.length; i += 3, j += 4) {
    rgb[i] = png.data[j]!
    rgb[i + 1] = png.data[j + 1]!
    rgb[i + 2] = png.data[j + 2]!
  }
  return {width: png.width, height: png.height, rgb}
}

/** A quarter turn counter-clockwise, as Pillow's Image.Transpose.ROTATE_90: out(x, y) = in(width-1-y, x). */
export function rotate90(image: RgbImage): RgbImage {
  const {width, height} = image
  const rgb = Buffer.alloc(image.rgb.length)
  for (let y = 0; y < width; y++) {
    for (let x = 0; x < height; x++) {
      image.rgb.copy(
        rgb,
        (y * height + x) * 3,
        (x * width + (width - 1 - y)) * 3,
        (x * width + (width - 1 - y)) * 3 + 3,
      )
    }
  }
  return {width: height, height: width, rgb}
}

export const pixelSha256 = (image: RgbImage): string => createHash('sha256').update(image.rgb).digest('hex')
