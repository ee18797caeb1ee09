import {mkdir, stat, writeFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {UserError} from './errors.js'
import {checkFunctionName, checkRepositoryName} from './names.js'

/**
 * A benchmark name prefixes its functions' deployed names and image repositories (`<benchmark>-<function>`), so it
 * must suit both: lowercase letters and digits, separated by single "-" or "_".
 */
const BENCHMARK_NAME = /^[a-z0-9]+(?:[_-][a-z0-9]+)*$/

function checkBenchmarkName(name: string): string {
  if (!BENCHMARK_NAME.test(name) || name.length > 40) {
    throw new UserError(`"${name}" is not a valid benchmark name.`, {
      code: 'BAD_REPOSITORY_NAME',
      fix:
        'Use up to 40 lowercase letters and digits, separated by single "-" or "_" (e.g. thumbnailer): the name ' +
        "starts its functions' and images' names.",
    })
  }
  return checkRepositoryName(name)
}

const manifest = (benchmark: string, fn: string) =>
  `${JSON.stringify(
    {
      name: benchmark,
      description: `${benchmark}: describe what it measures.`,
      entry: fn,
      check: {dockerfile: 'check/Dockerfile'},
      payload: {count: 1000},
      defaults: {memory: 512, timeout: 30},
      functions: {[fn]: {policies: [], env: {GREETING: 'Hello'}}},
    },
    null,
    2,
  )}\n`

const handler = (fn: string) => `"""${fn}: the function's entry point (CMD handler.lambda_handler).

Event: {"numbers": [...]} (the checker's seeded input). It sorts them and answers with their count,
sum and the sorted list, which check/checker.py compares with its own. Replace the work with yours.
"""
import os
import platform
import time


def lambda_handler(event, context):
    started = time.time()
    numbers = sorted(event.get("numbers", []))
    return {
        "message": f"{os.environ.get('GREETING', 'Hello')}, faas!",
        "function": context.function_name,
        "machine": platform.machine(),
        "count": len(numbers),
        "sum": sum(numbers),
        "sorted": numbers,
        "seconds": round(time.time() - started, 6),
    }
`

const checker = (
  benchmark: string,
) => `"""Checks ${benchmark}: faas runs this for the host, with no network and no credentials
(docs/benchmarks.md). It generates the seeded input, has faas invoke the entry function, and compares
the answer with a reference computed here, independently of the handler."""
import faas_check


def validate(payload, params, seed):
    """Refuse what cannot be run or checked; faas says so before building anything."""
    count = payload.get("count") if isinstance(payload, dict) else None
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 100_000:
        raise faas_check.Refuse(
            "The ${benchmark} payload needs count, a whole number from 1 to 100000.",
            "Give --payload like '{\\"count\\": 1000}', or fix \\"payload\\" in benchmark.json.",
        )
    return params


def check(run):
    next_ = faas_check.rng(run.seed)  # the same seed, the same input, on every machine
    numbers = [int(next_() * 1_000_000) for _ in range(run.payload["count"])]
    answer = run.invoke({"numbers": numbers}) or {}
    with run.timed("verify"):
        expected = sorted(numbers)
        differences = []
        if answer.get("count") != len(numbers):
            differences.append(f"count {answer.get('count')}, expected {len(numbers)}")
        if answer.get("sum") != sum(numbers):
            differences.append(f"sum {answer.get('sum')}, expected {sum(numbers)}")
        if answer.get("sorted") != expected:
            differences.append("the numbers are not sorted as expected")
    return {
        "differences": differences,
        "verified": f"{len(numbers)} seeded numbers sorted and summed as expected",
        "output": {k: v for k, v in answer.items() if k != "sorted"},
        "config": {"seed": run.seed, "count": len(numbers)},
    }


if __name__ == "__main__":
    faas_check.main(check, validate)
`

const DOCKERFILE_LAMBDA = `# Image for AWS Lambda and faas's local Lambda service,
# one per function (--build-arg FUNCTION=<function folder>).
ARG BASE_IMAGE=public.ecr.aws/lambda/python:3.12
FROM \${BASE_IMAGE}
ARG FUNCTION
RUN test -n "\${FUNCTION}" || (echo "build with --build-arg FUNCTION=<function folder>" >&2; exit 1)
COPY requirements/aws.txt /tmp/requirements.txt
RUN if grep -qvE '^\\s*(#|$)' /tmp/requirements.txt; then python3 -m pip install --no-cache-dir -r \\
/tmp/requirements.txt; fi \\
 && rm /tmp/requirements.txt
COPY \${FUNCTION}/ \${LAMBDA_TASK_ROOT}/
CMD ["handler.lambda_handler"]
`

const DOCKERFILE_LOCAL = `# Image for local or Knative-style use: runs the handler once per container
# (replace with a server as needed).
ARG BASE_IMAGE=python:3.12-slim
FROM \${BASE_IMAGE}
ARG FUNCTION
WORKDIR /app
COPY requirements/local.txt /tmp/requirements.txt
RUN if grep -qvE '^\\s*(#|$)' /tmp/requirements.txt; then python3 -m pip install --no-cache-dir -r \\
/tmp/requirements.txt; fi
COPY \${FUNCTION}/ /app/
`

const DOCKERFILE_CHECK = `# The checker's image: built for the host on the functions' base,
# run without network or credentials.
# faas puts its protocol module in the build context as .faas/check/faas_check.py.
ARG BASE_IMAGE=public.ecr.aws/lambda/python:3.12
FROM \${BASE_IMAGE}
COPY check/ /check/
COPY .faas/check/faas_check.py /check/
WORKDIR /check
ENTRYPOINT ["python3", "-u", "checker.py"]
`

/** The files of a new benchmark: one Python function and its checker, verified by `faas run` as generated. */
export function scaffoldFiles(benchmark: string, fn: string): Record<string, string> {
  return {
    'benchmark.json': manifest(benchmark, fn),
    [`${fn}/handler.py`]: handler(fn),
    'check/checker.py': checker(benchmark),
    'check/Dockerfile': DOCKERFILE_CHECK,
    'docker/Dockerfile.Lambda': DOCKERFILE_LAMBDA,
    'docker/Dockerfile': DOCKERFILE_LOCAL,
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
  checkBenchmarkName(benchmark)
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
