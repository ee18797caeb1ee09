import {execa, type ResultPromise} from 'execa'

import {pollUntil} from '../../src/core/wait.js'
import {freePort} from './net.js'

const MOTO = process.env.FAAS_MOTO_SERVER ?? '/var/lib/faas-stack/venv/bin/moto_server'

/** A moto server of our own (a clean account) with AWS's managed policies loaded; stop() ends it. */
export async function startMoto(): Promise<{url: string; stop: () => Promise<void>}> {
  const port = await freePort()
  const child: ResultPromise = execa(MOTO, ['-H', '127.0.0.1', '-p', String(port)], {
    env: {MOTO_IAM_LOAD_MANAGED_POLICIES: 'true'},
    reject: false,
    stdio: 'ignore',
  })
  const url = `http://127.0.0.1:${port}`
  const up = await pollUntil(
    () =>
      fetch(`${url}/moto-api/data.json`).then(
        (r) => r.ok,
        () => false,
      ),
    {timeoutMs: 60_000, giveUp: () => child.exitCode !== null},
  )
  if (!up) throw new Error(`moto did not start on ${url}`)
  process.once('exit', () => child.kill())
  return {url, stop: async () => void (child.kill(), await child)}
}
