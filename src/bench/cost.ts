/**
 * Lambda's published on-demand prices (us-east-1, first pricing tier, as listed on
 * https://aws.amazon.com/lambda/pricing/): compute per GB-second by architecture, plus a charge per
 * request. Other regions and volume tiers differ slightly; this is an estimate, not a bill.
 */
export const PRICE_PER_GB_SECOND_X86_64 = 0.0000166667
export const PRICE_PER_GB_SECOND_ARM64 = 0.0000133334
export const PRICE_PER_REQUEST = 0.0000002 // $0.20 per million requests

export type Architecture = 'arm64' | 'x86_64'

export const pricePerGbSecond = (architecture: Architecture): number =>
  architecture === 'arm64' ? PRICE_PER_GB_SECOND_ARM64 : PRICE_PER_GB_SECOND_X86_64

export interface CostEstimate {
  architecture: Architecture
  requests: number
  gbSeconds: number
  computeUsd: number
  requestUsd: number
  totalUsd: number
  /** totalUsd scaled to one million invocations (the figure Power Tuning compares). */
  perMillionUsd: number
}

/** Cost of a set of invocations from each one's billed duration (ms) and memory size (MB). */
export function estimateCost(
  invocations: Array<{billedDurationMs: number; memoryMb: number}>,
  architecture: Architecture,
): CostEstimate {
  let gbSeconds = 0
  for (const {billedDurationMs, memoryMb} of invocations) gbSeconds += (memoryMb / 1024) * (billedDurationMs / 1000)
  const computeUsd = gbSeconds * pricePerGbSecond(architecture)
  const requestUsd = invocations.length * PRICE_PER_REQUEST
  const totalUsd = computeUsd + requestUsd
  return {
    architecture,
    requests: invocations.length,
    gbSeconds,
    computeUsd,
    requestUsd,
    totalUsd,
    perMillionUsd: invocations.length === 0 ? 0 : (totalUsd / invocations.length) * 1_000_000,
  }
}

/** One call's cost in dollars: compute for its billed duration at its memory size, plus the request charge. */
export const costPerCallUsd = (billedDurationMs: number, memoryMb: number, architecture: Architecture): number =>
  (memoryMb / 1024) * (billedDurationMs / 1000) * pricePerGbSecond(architecture) + PRICE_PER_REQUEST
