import {execa} from 'execa'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {findContainersByLabel, removeContainer} from '../../src/docker/containers.js'
import {DockerEngine} from '../../src/docker/engine.js'
import {FUNCTION_NETWORK, onFunctionNetwork} from '../../src/docker/networks.js'
import {LABEL} from '../../src/local/contracts.js'
import {pidNamespace, processGone} from '../../src/local/contracts.js'
import {LocalService} from '../../src/local/service.js'
import {freePort} from '../helpers/net.js'

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
