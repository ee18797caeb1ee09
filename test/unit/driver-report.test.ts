import {execa} from 'execa'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {formatReport, formatReportJson} from '../../src/core/report.js'

/** The map-reduce driver reads its mappers' and reducers' figures from either log format, as faas does. */
async function driverParse(log: string): Promise<Record<string, unknown>> {
  // The driver's module with its imports stubbed (no boto3 needed to read a log).
  const script = `
import json, sys, types
for name in ["boto3", "botocore", "botocore.config", "common", "common.mapreduce"]:
    sys.modules[name] = types.ModuleType(name)
sys.modules["botocore.config"].Config = object
sys.modules["common.mapreduce"].list_keys = sys.modules["common.mapreduce"].s3_client = None
sys.path.insert(0, "benchmarks/map-reduce/driver")
import handler
print(json.dumps(handler.parse_report(sys.stdin.read())))
`
  const {stdout} = await execa('python3', ['-c', script], {input: log})
  return JSON.parse(stdout)
}

const figures = {
  durationMs: 12.5,
  billedDurationMs: 13,
  memorySizeMb: 1024,
  maxMemoryUsedMb: 80,
  initDurationMs: 950.25,
}
const expected = {
  duration_ms: 12.5,
  billed_duration_ms: 13,
  memory_size_mb: 1024,
  max_memory_used_mb: 80,
  init_duration_ms: 950.25,
}

test('the driver reads a Text REPORT line and a JSON platform.report record alike', async () => {
  assert.equal(
    await driverParse(`START RequestId: r\nhello\nEND RequestId: r\n${formatReport('r', figures)}\n`),
    expected,
  )
  assert.equal(
    await driverParse(
      `{"time":"t","type":"platform.start","record":{"requestId":"r","version":"$LATEST"}}` +
        `\n${formatReportJson('r', figures)}\n`,
    ),
    expected,
  )
  assert.equal(await driverParse('no report'), {})
})

test('the driver keeps the emulated mark of either format', async () => {
  const emulated = {...figures, emulated: {image: 'arm64', host: 'amd64'}}
  assert.equal(await driverParse(formatReport('r', emulated)), {...expected, emulated: true})
  assert.equal(await driverParse(formatReportJson('r', emulated)), {...expected, emulated: true})
})

test.run()
