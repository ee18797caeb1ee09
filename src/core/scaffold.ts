import {mkdir, stat, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {UserError} from './errors.js'
import {checkFunctionName, checkRepositoryName} from './names.js'

/** The files of a new benchmark: one Python function that builds and runs locally at once. */
export function scaffoldFiles(benchmark: string, fn: string): Record<string, string> {
  return {
    'benchmark.json': `${JSON.stringify(
      {
        name: benchmark,
        description: `${benchmark}: describe what it measures.`,
        entry: fn,
        payload: {name: 'faas'},
        defaults: {memory: 512, timeout: 30},
        functions: {[fn]: {policies: [], env: {GREETING: 'Hello'}}},
      },
      null,
      2,
    )}\n`,
    [`${fn}/handler.py`]: `"""${fn}: the function's entry point (CMD handler.lambda_handler)."""
import os
import platform
import time


def lambda_handler(event, context):
    started = time.time()
    name = event.get("name", "world")
    return {
        "message": f"{os.environ.get('GREETING', 'Hello')}, {name}!",
        "function": context.function_name,
        "machine": platform.machine(),
        "seconds": round(time.time() - started, 6),
    }
`,
    'docker/Dockerfile.Lambda': `# Image for AWS Lambda and faas's local Lambda service; one per function (--build-arg \
FUNCTION=…).
ARG BASE_IMAGE=public.ecr.aws/lambda/python:3.12
FROM \${BASE_IMAGE}
ARG FUNCTION
RUN test -n "\${FUNCTION}" || (echo "build with --build-arg FUNCTION=<function folder>" >&2; exit 1)
COPY requirements/aws.txt /tmp/requirements.txt
RUN if grep -qvE '^\\s*(#|$)' /tmp/requirements.txt; then python3 -m pip install --no-cache-dir -r \
/tmp/requirements.txt; fi \\
 && rm /tmp/requirements.txt
COPY \${FUNCTION}/ \${LAMBDA_TASK_ROOT}/
CMD ["handler.lambda_handler"]
`,
    'docker/Dockerfile': `# Image for local or Knative-style use: runs the handler once per container (replace with a \
server as needed).
ARG BASE_IMAGE=python:3.12-slim
FROM \${BASE_IMAGE}
ARG FUNCTION
WORKDIR /app
COPY requirements/local.txt /tmp/requirements.txt
RUN if grep -qvE '^\\s*(#|$)' /tmp/requirements.txt; then python3 -m pip install --no-cache-dir -r \
/tmp/requirements.txt; fi
COPY \${FUNCTION}/ /app/
`,
    'requirements/aws.txt': '# Packages the Lambda image needs beyond the base (boto3 is already there).\n',
    'requirements/local.txt': '# Packages the local/Knative image needs.\n',
  }
}

/** Writes a new benchmark folder; an existing one is left alone (running twice converges). */
export async function scaffoldBenchmark(
  root: string,
  benchmark: string,
  fn: string,
): Promise<{dir: string; files: string[]; created: boolean}> {
  checkRepositoryName(benchmark)
  checkFunctionName(fn)
  const dir = join(root, benchmark)
  const files = scaffoldFiles(benchmark, fn)
  if (await stat(dir).catch(() => undefined)) {
    if (await stat(join(dir, 'benchmark.json')).catch(() => undefined))
      return {dir, files: Object.keys(files), created: false}
    throw new UserError(`${dir} exists and is not a benchmark (it has no benchmark.json).`, {
      code: 'EXISTS',
      fix: 'Choose another name or remove the folder.',
    })
  }
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), {recursive: true})
    await writeFile(join(dir, path), text)
  }
  return {dir, files: Object.keys(files), created: true}
}
