/**
 * Lambda's published on-demand prices (us-east-1, first pricing tier, as listed on
 * https://aws.amazon.com/lambda/pricing/): compute per GB-second by architecture, plus a charge per
 * request. Other regions and volume tiers differ slightly; this is an estimate, not a bill.
 */
export const PRICE_PER_GB_SECOND_X86_64 = 0.0000166667
export const PRICE_PER_GB_SECOND_ARM64 = 0.0000133334
export const PRICE_PER_REQUEST = 0.0000002 // $0.20 per million requests

export type Architecture = 'arm64' | 'x86_64'

/**
 * The prices costs are computed with: per GB-second by architecture and per request. The defaults are the ones above;
 * `--prices` (or FAAS_PRICES) overrides any of them in `faas bench` and `faas tune` (bench/prices.ts parses it), for
 * another region, a volume tier, a Savings Plan or a newer price list.
 */
export interface Prices {
  perGbSecondUsd: Record<Architecture, number>
  perRequestUsd: number
  /** Where the figures come from and when. */
  asOf: string
}

/**
 * https://aws.amazon.com/lambda/pricing/, US East (N. Virginia), the first duration tier: the x86_64 price
 * since 1 ms billing (2020-12), the arm64 one since Graviton2 (2021-09), $0.20 per million requests since
 * launch. Copied from public copies of the page (2024, 2026), not re-read from AWS on this machine.
 */
export const DEFAULT_PRICES: Prices = {
  perGbSecondUsd: {x86_64: PRICE_PER_GB_SECOND_X86_64, arm64: PRICE_PER_GB_SECOND_ARM64},
  perRequestUsd: PRICE_PER_REQUEST,
  asOf: 'AWS list prices, us-east-1, first tier, unchanged since 2021-09',
}

export interface CostEstimate {
  architecture: Architecture
  requests: number
  gbSeconds: number
  computeUsd: number
  requestUsd: number
  totalUsd: number
  /** totalUsd scaled to one million invocations (the figure Power Tuning compares). */
  perMillionUsd: number
  /** The prices' source (Prices.asOf). */
  pricesAsOf: string
}

/** Cost of a set of invocations from each one's billed duration (ms) and memory size (MB). */
export function estimateCost(
  invocations: Array<{billedDurationMs: number; memoryMb: number}>,
  architecture: Architecture,
  prices: Prices = DEFAULT_PRICES,
): CostEstimate {
  let gbSeconds = 0
  for (const {billedDurationMs, memoryMb} of invocations) gbSeconds += (memoryMb / 1024) * (billedDurationMs / 1000)
  const computeUsd = gbSeconds * prices.perGbSecondUsd[architecture]
  const requestUsd = invocations.length * prices.perRequestUsd
  const totalUsd = computeUsd + requestUsd
  return {
    architecture,
    requests: invocations.length,
    gbSeconds,
    computeUsd,
    requestUsd,
    totalUsd,
    perMillionUsd: invocations.length === 0 ? 0 : (totalUsd / invocations.length) * 1_000_000,
    pricesAsOf: prices.asOf,
  }
}

/** One call's cost in dollars: compute for its billed duration at its memory size, plus the request charge. */
export const costPerCallUsd = (
  billedDurationMs: number,
  memoryMb: number,
  architecture: Architecture,
  prices: Prices = DEFAULT_PRICES,
): number => (memoryMb / 1024) * (billedDurationMs / 1000) * prices.perGbSecondUsd[architecture] + prices.perRequestUsd
