/** One measured run of the experiment: which variant, in which repeat. */
export interface RunSlot {
  repeat: number
  variant: string
  /** Position in the whole order (0-based): also the offset of the run's arrival seed. */
  index: number
}

/**
 * The order of runs: every repeat runs each variant once, and repeat r starts r places further
 * along the list (a Latin square over repeats: AB, BA, AB… or ABC, BCA, CAB…), so slow drift on a
 * shared machine, and whatever a run leaves behind for the next, fall on every variant alike.
 */
export function interleave(variants: readonly string[], repeats: number): RunSlot[] {
  const order: RunSlot[] = []
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (let i = 0; i < variants.length; i++) {
      order.push({repeat, variant: variants[(i + repeat) % variants.length]!, index: order.length})
    }
  }
  return order
}
