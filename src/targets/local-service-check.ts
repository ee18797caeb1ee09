import {UserError} from '../core/errors.js'
import {health} from '../local/service-process.js'
import type {PrepareRequest} from './target.js'

/**
 * A running service that lacks what an experiment needs (the local S3 store, its idle timeout) is reported, not
 * restarted under someone's feet.
 */
export async function checkService(
  url: string,
  s3Endpoint: string,
  needs: NonNullable<PrepareRequest['service']>,
): Promise<void> {
  const running = await health(url)
  const stopIt = (needed: string) =>
    `Stop it (faas local stop) so the experiment starts one ${needed}, or run on another FAAS_LOCAL_PORT.`
  if (needs.needsS3 && running?.s3Endpoint !== s3Endpoint) {
    throw new UserError(
      `Experiment ${needs.experiment}'s functions use S3, but the local service running at ${url} gives ` +
        `functions ${running?.s3Endpoint ? `S3 at ${running.s3Endpoint}` : 'no S3 endpoint'}, not the local store ` +
        `at ${s3Endpoint}.`,
      {code: 'NO_LOCAL_S3', fix: stopIt('with the local S3 store')},
    )
  }
  const {idleTimeoutS} = needs
  if (idleTimeoutS === undefined) return
  const runningS = typeof running?.idleTimeoutMs === 'number' ? running.idleTimeoutMs / 1000 : undefined
  if (runningS !== idleTimeoutS) {
    throw new UserError(
      `Experiment ${needs.experiment} needs the local service to reclaim idle environments after ${idleTimeoutS} ` +
        `s, but the one running ` +
        `at ${url} ${runningS === undefined ? 'does not say its idle timeout' : `keeps them ${runningS} s`}.`,
      {code: 'IDLE_TIMEOUT_MISMATCH', fix: stopIt(`with --idle-timeout ${idleTimeoutS}`)},
    )
  }
}
