// Deploy wall times against the moto emulator: map-reduce's three new functions (roles, bundles,
// create, wait for Active), then the no-op redeploy, concurrent (default) and one at a time; and hotel-reservation
// with its API Gateway HTTP API (tables, function, API, integration, route, stage, permission), then its no-op.
// Run: node --import tsx scripts/perf/deploy.ts   (starts and stops its own moto server)
import {DescribeRepositoriesCommand} from '@aws-sdk/client-ecr'

import {createAwsClients} from '../../src/aws/clients.js'
import {loadSettings} from '../../src/core/settings.js'
import {deploy} from '../../src/services/deploy.js'
import {AwsTarget} from '../../src/targets/aws.js'
import {seedImages, seedMapReduceImages, startMoto} from './lib/moto.js'

const moto = await startMoto()
const url = moto.url
Object.assign(process.env, moto.env)
delete process.env.FAAS_REGISTRY
const settings = loadSettings(process.env)

try {
  await seedMapReduceImages(moto, 'v1')
  const calls: string[] = []
  const clients = createAwsClients(settings)
  for (const c of [clients.ecr, clients.iam, clients.lambda])
    c.middlewareStack.add((next, ctx) => (args) => (calls.push(String(ctx.commandName)), next(args)), {
      step: 'initialize',
    })
  clients.apigateway.middlewareStack.add((next, ctx) => (args) => (calls.push(String(ctx.commandName)), next(args)), {
    step: 'initialize',
  })
  const target = new AwsTarget({clients, settings})
  // Warm the clients (credentials, connections, moto's lazy backends) so the first figure is the deploy's own.
  await target.destroy(['warm-up'], {roles: true}, () => {})
  await clients.ecr.send(new DescribeRepositoriesCommand({}))
  const time = async (label: string, concurrency: number, benchmark = 'map-reduce') => {
    calls.length = 0
    const t0 = performance.now()
    const result = await deploy(target, settings, {benchmark, tag: 'v1', concurrency}, () => {})
    const ms = performance.now() - t0
    const writes = calls.filter((c) => !/^(Get|List|Describe|BatchGet)/.test(c)).length
    console.log(
      `${label.padEnd(46)} ${ms.toFixed(0).padStart(6)} ms  ${String(calls.length).padStart(3)} API calls ` +
        `(${writes} writes)  ${result.functions.map((f) => f.action).join(',')}` +
        (result.api ? `  api ${result.api.action}` : ''),
    )
  }
  console.log(`deploy map-reduce (3 functions) against moto at ${url}, node ${process.version}`)
  await time('first deploy, concurrent (create roles+functions)', 4)
  await time('no-op redeploy, concurrent', 4)
  await time('no-op redeploy, one at a time', 1)
  // The same creates one at a time, after a destroy, to show what concurrency buys.
  await target.destroy(
    ['driver', 'mapper', 'reducer'].map((f) => `map-reduce-${f}`),
    {roles: true},
    () => {},
  )
  await time('first deploy, one at a time', 1)
  await seedImages(moto, ['hotel-reservation-frontend'], 'v1')
  console.log('deploy hotel-reservation (1 function, 2 tables, its HTTP API with 1 route)')
  await time('hotel-reservation + HTTP API, first deploy', 4, 'hotel-reservation')
  await time('hotel-reservation + HTTP API, no-op redeploy', 4, 'hotel-reservation')
  const seed = 3 * (5 + 2 * (5 + 5) + 30)
  console.log(
    `aws_actions.py would spend at least ${seed} s in fixed sleeps for the same 3 creates (5 s role + 2×(5 s create ` +
      `+ 5 s attach) + 30 s after create, per function)`,
  )
} finally {
  await moto.stop()
}
