import type {Emit} from '../core/events.js'
import {loadBenchmark} from '../core/manifest.js'
import type {Settings} from '../core/settings.js'
import {DockerEngine} from '../docker/engine.js'
import {ensureBucket, getText} from '../storage/s3.js'
import type {RunTarget} from '../targets/target.js'
import {deploy} from './deploy.js'

/** The load-generator image bench --workers deploys its workers from (faas build load-generator). */
export const WORKER_IMAGE = 'load-generator-generate'
export const workerName = (i: number) => `faas-loadgen-${i}`

/**
 * The run's bucket as workers need it: where the target's functions can write (locally, the S3 store and a service
 * that gives functions its endpoint, started if need be), made if absent.
 */
export async function workersStorage(target: RunTarget, settings: Settings, emit: Emit) {
  const manifest = await loadBenchmark('load-generator')
  const quiet: Emit = (event) => (event.kind === 'warn' ? emit(event) : undefined)
  await target.prepare(
    {
      manifest,
      engine: new DockerEngine(),
      builds: [],
      baseImage: target.kind === 'local' ? 'local' : undefined,
      service: {experiment: 'bench --workers', needsS3: true},
    },
    quiet,
  )
  const {s3, bucket} = await target.storage({})
  await ensureBucket(s3, bucket, settings.region ?? 'us-east-1')
  return {bucket, getText: (key: string) => getText(s3, bucket, key)}
}

/** One function per worker from the load-generator image (idempotent, as deploy is), a few at a time. */
export async function deployWorkers(target: RunTarget, settings: Settings, n: number, emit: Emit): Promise<string[]> {
  const names = Array.from({length: n}, (_, i) => workerName(i))
  const quiet: Emit = (event) => (event.kind === 'warn' ? emit(event) : undefined)
  let next = 0
  const one = async () => {
    while (next < names.length) {
      const functionName = names[next++]!
      await deploy(
        target,
        settings,
        {
          repository: WORKER_IMAGE,
          functionName,
          memoryMb: 1769, // one full vCPU on Lambda: the sender's timing needs it
          timeoutS: 900,
          tag: 'latest',
          policies: ['access_s3', 'invoke_function'],
          env: {},
        },
        quiet,
      )
    }
  }
  await Promise.all(Array.from({length: Math.min(4, n)}, one))
  emit({kind: 'done', subject: 'bench', message: `${n} load-generator workers deployed`})
  return names
}
