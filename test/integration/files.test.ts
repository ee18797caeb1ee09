import {mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {assertUserError, faas, faasJson, stack} from '../helpers/cli.js'
import {startProxy, type Proxy} from '../helpers/proxy.js'

const [user, password] = readFileSync(stack.authFile, 'utf8').trim().split('\n')
const [authHost, authPort] = stack.authRegistry.split(':')
const proxies: Proxy[] = []

test.after(async () => {
  await Promise.all(proxies.map((p) => p.close()))
})

test('20 parallel logins to 20 registries all stay saved in one 0600 registries.json', async () => {
  const home = mkdtempSync(join(tmpdir(), 'faas-logins-'))
  // Twenty registries: the htpasswd registry behind twenty loopback ports, each its own saved login.
  for (let i = 0; i < 20; i++) proxies.push(await startProxy({host: authHost, port: Number(authPort)}))
  const runs = await Promise.all(
    proxies.map((p) =>
      faasJson(['login', '--registry', p.address, '--username', user!, '--password-stdin'], {
        env: {FAAS_HOME: home},
        input: password,
      }),
    ),
  )
  for (const run of runs) assert.is(run.exitCode, 0, run.stderr)
  const file = join(home, 'registries.json')
  const saved = JSON.parse(readFileSync(file, 'utf8'))
  assert.equal(Object.keys(saved).sort(), proxies.map((p) => p.address).sort())
  assert.is(statSync(file).mode & 0o777, 0o600)
  assert.is(statSync(home).mode & 0o777, 0o700)
})

test('a truncated registries.json is reported by name and left as it was, not wiped', async () => {
  const home = mkdtempSync(join(tmpdir(), 'faas-logins-'))
  const file = join(home, 'registries.json')
  const cut = `{"${stack.authRegistry}": {"registry": "${stack.authRegistry}", "username": "faas", "pass`
  writeFileSync(file, cut, {mode: 0o600})
  const run = await faas(['login', '--registry', stack.authRegistry, '--username', user!, '--password-stdin'], {
    env: {FAAS_HOME: home},
    input: password,
  })
  assertUserError(run, new RegExp(`${file}.*saved registry logins.*not valid JSON.*faas login`, 's'))
  assert.is(readFileSync(file, 'utf8'), cut)
})

test.run()
