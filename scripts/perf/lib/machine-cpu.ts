import {availableParallelism, cpus} from 'node:os'

/** This machine's cores: what CPU-bound work is divided by to bound its wall time. */
export const CORES = availableParallelism()

/**
 * CPU time the whole machine has spent busy since boot, in seconds: every process's (the engine's, the containers',
 * the kernel's for them), not only this one's. The difference over a stretch is the work that stretch cost.
 */
export function machineBusySeconds(): number {
  return cpus().reduce((sum, {times}) => sum + times.user + times.nice + times.sys + times.irq, 0) / 1000
}
