import {execa} from 'execa'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {loadSettings} from '../../src/core/settings.js'
import {findContainersByLabel, removeContainer} from '../../src/docker/containers.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {FUNCTION_NETWORK, onFunctionNetwork} from '../../src/docker/networks.js'
import {LABEL} from '../../src/local/contracts.js'
import {pidNamespace, processGone} from '../../src/local/contracts.js'
import {health} from '../../src/local/service-process.js'
import {LocalService} from '../../src/local/service.js'
import {LocalTarget} from '../../src/targets/local.js'
import {fixtureImage} from '../fixtures/local/fixture.js'
import {freePort} from '../helpers/net.js'
import {waitFor} from '../helpers/wait.js'

/** Start-up cleanup removes a leftover only when its service is proven gone. */
const engine = new DockerEngine()
const mark = `leftover-test-${process.pid}`

async function leftover(name: string, labels: Record<string, string>): Promise<string> {
  const container = await engine.docker.createContainer({
    Image: 'faas/lambda-python:3.11-amd64',
    Labels: {[LABEL]: `${mark}-${name}`, 'dev.faas.test': mark, ...labels},
  })
  return container.id
}

test("EPERM from kill(pid, 0) means alive (another user's process); only ESRCH means gone", () => {
  const failing = (code: string) => () => {
    throw Object.assign(new Error(code), {code})
  }
  assert.is(processGone(1234, failing('EPERM')), false)
  assert.is(processGone(1234, failing('ESRCH')), true)
  assert.is(
    processGone(1234, () => {}),
    false,
  )
})

test('only containers of a service proven gone are removed: dead pid, same PID namespace, port free', async () => {
  const dead = (await execa('sh', ['-c', 'echo $$'])).stdout.trim()
  const answering = createServer((_req, res) => res.end('{}')).listen(0, '127.0.0.1')
  await new Promise((r) => answering.once('listening', r))
  const answeringPort = String((answering.address() as AddressInfo).port)
  const ids = {
    gone: await leftover('gone', {
      'dev.faas.local.pid': dead,
      'dev.faas.local.pidns': pidNamespace(),
      'dev.faas.local.port': String(await freePort()),
    }),
    alive: await leftover('alive', {
      'dev.faas.local.pid': String(process.ppid),
      'dev.faas.local.pidns': pidNamespace(),
      'dev.faas.local.port': String(await freePort()),
    }),
    otherNamespace: await leftover('ns', {
      'dev.faas.local.pid': dead,
      'dev.faas.local.pidns': 'pid:[1]',
      'dev.faas.local.port': String(await freePort()),
    }),
    portAnswers: await leftover('port', {
      'dev.faas.local.pid': dead,
      'dev.faas.local.pidns': pidNamespace(),
      'dev.faas.local.port': answeringPort,
    }),
  }
  try {
    await new LocalService(engine, {port: 0}).removeLeftovers()
    const left = new Set((await findContainersByLabel(engine, `dev.faas.test=${mark}`)).map((c) => c.id))
    assert.not.ok(left.has(ids.gone), 'dead pid, nothing on its port: removed')
    assert.ok(left.has(ids.alive), 'a live process keeps its containers')
    assert.ok(left.has(ids.otherNamespace), 'a pid from another PID namespace proves nothing: kept')
    assert.ok(left.has(ids.portAnswers), "something still answers on the service's port: kept")
  } finally {
    answering.close()
    for (const c of await findContainersByLabel(engine, `dev.faas.test=${mark}`)) await removeContainer(engine, c.id)
  }
})

/** The loop device a /tmp volume was bound to still holds an image file (sysfs: readable without privileges). */
const loopBound = (device: string) => {
  const file = `/sys/block/${device.replace('/dev/', '')}/loop/backing_file`
  return existsSync(file) && readFileSync(file, 'utf8').includes('faas-tmp-')
}

test("a killed service's environments and /tmp disks are swept by the next start, loop devices freed", async () => {
  const home = mkdtempSync(join(tmpdir(), 'faas-leftover-tmp-'))
  const port = await freePort()
  const child = execa('node', ['--import', 'tsx', 'src/local/main.ts', '--port', String(port)], {
    env: {FAAS_HOME: home},
    reject: false,
  })
  const ownHome = process.env.FAAS_HOME
  process.env.FAAS_HOME = home // the client proves the service by the key in its home
  try {
    const url = `http://127.0.0.1:${port}`
    await waitFor(`the service on ${url}`, async () => Boolean(await health(url)), {
      intervalMs: 100,
      giveUp: () => (child.exitCode !== null ? `the service exited with ${child.exitCode}` : undefined),
    })
    const target = new LocalTarget(loadSettings(), {endpoint: url})
    const spec = {name: 'tmp', handler: 'handler.trivial', memoryMb: 128, timeoutS: 5, env: {}, policies: []}
    await target.deploy({...spec, image: {uri: await fixtureImage(engine), architecture: 'x86_64'}}, () => {})
    await target.invoke({name: 'tmp', payload: '{}'})
    // The call took the prepared sandbox and its disk; both are made again in the background. A create in flight
    // at the kill would be finished by the engine after the sweep (swept only by the start after): wait for quiet.
    await waitFor('the sandbox and disk made after the call', async () => {
      const state = await health(url)
      const pools = Object.values(state?.environments ?? {})
      return state?.tmpDisksMaking === 0 && pools.length > 0 && pools.every((p) => p.preparing === false)
    })
    const volumes = (await engine.docker.listVolumes({filters: {label: [`dev.faas.local.pid=${child.pid}`]}})).Volumes
    // The environment's, the prepared sandbox's, and one made ahead for the next cold start of that size.
    assert.is(volumes.length, 3, JSON.stringify(volumes))
    const devices = volumes.map((v) => v.Options?.device ?? '')
    for (const device of devices) assert.ok(loopBound(device), `${device} holds a /tmp image`)
    child.kill('SIGKILL')
    await child
    await new LocalService(engine, {port: 0}).removeLeftovers()
    assert.equal(await findContainersByLabel(engine, `dev.faas.local.pid=${child.pid}`), [])
    const left = await engine.docker.listVolumes({filters: {label: [`dev.faas.local.pid=${child.pid}`]}})
    assert.equal(left.Volumes, [], 'its volumes (the one in use and the one in stock) are removed')
    for (const device of devices) assert.not.ok(loopBound(device), `${device} is free again`)
  } finally {
    child.kill('SIGKILL')
    for (const c of await findContainersByLabel(engine, `dev.faas.local.pid=${child.pid}`))
      await removeContainer(engine, c.id)
    process.env.FAAS_HOME = ownHome
    rmSync(home, {recursive: true, force: true})
  }
})

test('a cold start after another service removed the unused function network makes it again', async () => {
  let attempts = 0
  const created = await onFunctionNetwork(engine, async () => {
    attempts++
    // What the engine answers when the network went away between a service's start and this container.
    if (attempts === 1) throw new Error(`(HTTP code 404) no such container - network ${FUNCTION_NETWORK} not found`)
    return 'container'
  })
  assert.is(created, 'container')
  assert.is(attempts, 2)
  assert.ok(await engine.docker.getNetwork(FUNCTION_NETWORK).inspect(), 'the network exists again')
  let other = 0
  try {
    await onFunctionNetwork(engine, async () => {
      other++
      throw new Error('no space left on device')
    })
  } catch (error) {
    assert.match((error as Error).message, /no space/)
  }
  assert.is(other, 1, 'other failures are not retried')
})

test.run()
