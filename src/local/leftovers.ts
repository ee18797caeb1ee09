import {findContainersByLabel, removeContainer} from '../docker/containers.js'
import type {DockerEngine} from '../docker/engine.js'
import {LABEL, PID_LABEL, PIDNS_LABEL, PORT_LABEL, pidNamespace, processGone} from './contracts.js'
import {removeVolumes} from './tmp-disk.js'

/** A leftover's service is gone only when all of these hold; any doubt keeps its containers. */
export async function provenGone(
  labels: Record<string, string>,
  kill?: (pid: number, signal: 0) => void,
): Promise<boolean> {
  const pid = Number(labels[PID_LABEL])
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false
  if ((labels[PIDNS_LABEL] ?? pidNamespace()) !== pidNamespace()) return false
  if (!processGone(pid, kill)) return false
  const port = Number(labels[PORT_LABEL])
  if (port > 0) {
    const answers = await fetch(`http://127.0.0.1:${port}/faas/identity`, {signal: AbortSignal.timeout(1000)}).then(
      () => true,
      (error: {cause?: {code?: string}}) => error?.cause?.code !== 'ECONNREFUSED',
    )
    if (answers) return false
  }
  return true
}

/**
 * Removes containers left by services proven gone (a crash, a kill -9): same PID namespace, the
 * process no longer exists, and nothing answers on the port it served. Anything unproven stays.
 * Then their /tmp volumes (tmp-disk.ts), free once those containers are gone; the count is of containers.
 */
export async function removeLeftovers(engine: DockerEngine, instanceId: string): Promise<number> {
  let removed = 0
  for (const container of await findContainersByLabel(engine, LABEL)) {
    if (container.labels[LABEL] === instanceId) continue
    if (!(await provenGone(container.labels))) continue
    await removeContainer(engine, container.id)
    removed++
  }
  await removeVolumes(engine, async (labels) => labels[LABEL] !== instanceId && (await provenGone(labels)))
  return removed
}
