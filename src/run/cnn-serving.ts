import type {RgbImage} from './images.js'
import {buildSqueezeNet, classify, INPUT_SIZE, topK} from './squeezenet.js'

/** The images `faas run cnn_serving` classifies: SqueezeNet's input size, so nothing is resized. */
export const CNN_IMAGES: Array<[number, number]> = [
  [INPUT_SIZE, INPUT_SIZE],
  [INPUT_SIZE, INPUT_SIZE],
  [INPUT_SIZE, INPUT_SIZE],
]

// TensorFlow sums in float32 in its own order, the reference in float64: probabilities agree to about
// 1e-6; a class may only trade places with one whose probability is this close (relative) to its own.
const TOLERANCE = 1e-3

interface Prediction {
  key?: string
  top5?: Array<{class?: number; probability?: number}>
}

const close = (a: number, b: number) => Math.abs(a - b) <= TOLERANCE * Math.max(Math.abs(a), Math.abs(b))

/**
 * Each image's top-5 from the function against the reference: at every rank the function's class
 * must have the reference's probability for that rank (so only near-ties may swap), and the
 * probability the function reports must be the reference's for that class.
 */
export function checkTop5(images: Array<{key: string; image: RgbImage}>, answer: {predictions?: Prediction[]} | null) {
  const net = buildSqueezeNet()
  const differences: string[] = []
  let exact = 0
  for (const [i, {key, image}] of images.entries()) {
    const reported = answer?.predictions?.[i]
    if (reported?.key !== key || reported.top5?.length !== 5) {
      differences.push(`${key}: no top-5 for it`)
      continue
    }
    const probabilities = classify(net, image)
    const reference = topK(probabilities)
    const classes = reported.top5.map((p) => p.class ?? -1)
    if (classes.every((c, k) => c === reference[k])) exact++
    reported.top5.forEach((p, k) => {
      const own = probabilities[p.class ?? -1]
      if (own === undefined || !close(own, probabilities[reference[k]!]!))
        differences.push(
          `${key}: rank ${k + 1} is class ${p.class}, expected ${reference[k]} (reference ` +
            `top-5 ${reference.join(', ')})`,
        )
      else if (typeof p.probability !== 'number' || !close(p.probability, own))
        differences.push(`${key}: class ${p.class} has probability ${p.probability}, expected ${own.toPrecision(6)}`)
    })
  }
  return {differences, exact}
}
