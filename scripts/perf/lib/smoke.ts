// FAAS_PERF_SMOKE=1 runs a perf script at tiny sizes, through the same code paths and printing the same figure
// lines, in a few seconds: test/integration/perf-smoke.test.ts runs every script so, and a change that breaks one
// fails the suite. The figures of a smoke run mean nothing.
export const SMOKE = process.env.FAAS_PERF_SMOKE === '1'

/** `full` normally, `smoke` in smoke mode. */
export const sized = <T>(full: T, smoke: T): T => (SMOKE ? smoke : full)

/** A peer tool (vegeta, hyperfine, …) left out of a smoke run, said in one line. */
export const skipInSmoke = (peer: string, why: string): void => console.log(`smoke: ${peer} left out (${why})`)
