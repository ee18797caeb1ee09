// What an experiment's results folder records (experiment.json) and what the report reads of each variant:
// types only, shared by results.ts (which writes and reads them) and report.ts (which renders them).
import type {Distribution} from '../bench/stats.js'
import type {Platform} from '../core/platform.js'
import type {RunSlot} from './interleave.js'
import type {Experiment} from './spec.js'

/** What experiment.json in the results folder holds: enough to rebuild the report and rerun. */
export interface ExperimentRecord {
  name: string
  file: string
  target: 'local' | 'aws'
  startedAt: string
  finishedAt?: string
  interrupted: boolean
  seed: number
  confidence?: number
  repeat: number
  platform: Platform
  architecture: 'arm64' | 'x86_64'
  benchmark: {name: string; dir: string; function: string}
  load: Experiment['load']
  metrics: Experiment['metric']
  pairs: Array<[string, string]>
  variants: Array<{
    name: string
    function: string
    image: string
    imageId: string
    uri: string
    digest?: string
    memoryMb: number
    handler?: string
    env: Record<string, string>
    keepWarm?: {everyS: number; expression?: string; pings?: number; pingErrors?: number}
  }>
  runs: Array<RunSlot & {seed: number; dir: string}>
  machine: {host: string; cpus: number; node: string}
}

export interface VariantResult {
  name: string
  calls: number
  errors: number
  cold: number
  /** Per metric key ("latency:median"): the statistic and the distribution of the values, in the metric's unit. */
  metrics: Record<string, {statistic: number; values: number; distribution?: Distribution}>
  /** Local cold starts: medians (ms) of where the time went (see core/init-breakdown). */
  initBreakdownMs?: {coldCalls: number; image: number; create: number; start: number; init: number}
}
