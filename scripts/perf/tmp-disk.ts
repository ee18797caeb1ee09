/**
 * What a disk-backed /tmp costs at cold start (issue 22; figures printed, never asserted):
 *   node --import tsx scripts/perf/tmp-disk.ts [--cold 7]            (FAAS_PERF_SMOKE=1: 2)
 * Median client-side time to the first response of a trivial Python function's cold start, with /tmp a tmpfs (the
 * old way) and with /tmp an ext4 disk (tmp-disk.ts), the two services run one after the other on the same image;
 * plus the first cold start of a disk service (the loop keeper starts, the first image is formatted).
 */
import {CreateFunctionCommand, InvokeCommand, LambdaClient} from '@aws-sdk/client-lambda'
import {parseArgs} from 'node:util'

import {DockerEngine} from '../../src/docker/engine.js'
import {LocalService} from '../../src/local/service.js'
import type {TmpDiskProvider} from '../../src/local/types.js'
import {fixtureImage} from '../../test/fixtures/local/fixture.js'

const smoke = process.env.FAAS_PERF_SMOKE === '1'
const {values} = parseArgs({options: {cold: {type: 'string', default: smoke ? '2' : '7'}}})
const COLD = Number(values.cold)
const engine = new DockerEngine()
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!

/** No disks: every environment keeps the tmpfs /tmp. */
const tmpfsOnly: TmpDiskProvider = {
  reason: 'measuring the tmpfs',
  take: async () => undefined,
  warm: async () => {},
  making: 0,
  close: async () => {},
}

async function coldStarts(image: string, disks: boolean): Promise<{first: number; cold: number[]; tmp: unknown}> {
  const service = await new LocalService(engine, {port: 0, ...(disks ? {} : {tmpDisks: tmpfsOnly})}).start()
  try {
    const lambda = new LambdaClient({
      endpoint: service.url,
      region: 'us-east-1',
      credentials: service.credentials,
      maxAttempts: 1,
    })
    const once = async (name: string) => {
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Role: 'r',
          PackageType: 'Image',
          Code: {ImageUri: image},
          ImageConfig: {Command: ['handler.trivial']},
          MemorySize: 512,
        }),
      )
      const started = performance.now()
      const out = await lambda.send(new InvokeCommand({FunctionName: name, Payload: Buffer.from('{}')}))
      if (out.FunctionError) throw new Error(`${name} failed: ${Buffer.from(out.Payload ?? []).toString()}`)
      return performance.now() - started
    }
    const first = await once('first')
    const cold: number[] = []
    for (let i = 0; i < COLD; i++) cold.push(await once(`cold-${i}`))
    return {first, cold, tmp: service.health().tmp}
  } finally {
    await service.close()
  }
}

const image = await fixtureImage(engine)
const tmpfs = await coldStarts(image, false)
const disk = await coldStarts(image, true)
if (disk.tmp !== 'disk') throw new Error(`the engine gave no disk-backed /tmp (${String(disk.tmp)})`)
const [a, b] = [median(tmpfs.cold), median(disk.cold)]
console.log(`cold first response, /tmp tmpfs  median ${a.toFixed(1)} ms (${COLD} cold starts)`)
console.log(`cold first response, /tmp disk   median ${b.toFixed(1)} ms (${(((b - a) / a) * 100).toFixed(1)} %)`)
const firsts = `${disk.first.toFixed(1)} ms (tmpfs service: ${tmpfs.first.toFixed(1)} ms)`
console.log(`first cold start of a disk service ${firsts}`)
