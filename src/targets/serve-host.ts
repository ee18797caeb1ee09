import {availableParallelism} from 'node:os'
import {join} from 'node:path'

import type {Emit} from '../core/events.js'
import {faasHome} from '../core/paths.js'
import {DockerEngine} from '../docker/engine.js'
import {cpuShare} from '../local/container-spec.js'
import {ensureDetachedForwarder, isLoopbackEndpoint, stopDetachedForwarder} from '../local/loopback-forwarder.js'
import {ensureLocalS3} from '../storage/local-s3.js'
import type {ServeHost} from './target.js'

/** The record of this FAAS_HOME's serve S3 forwarder. */
const forwarderState = (): string => join(faasHome(), 'serve', 's3-forwarder.json')

/**
 * `faas serve` on the local engine. Served benchmarks read S3 (image-rotate, cnn_serving) from the local S3 store,
 * which listens on the host's loopback: as for local functions, a forwarder on the serve network's gateway (and only
 * there) carries it to the containers, which get the store's endpoint as they see it and dummy keys it accepts.
 */
export function createServeHost(engine = new DockerEngine()): ServeHost {
  return {
    engine,
    async storageEnv(gateway: string, options: {baseImage: string; region: string}, emit: Emit) {
      const endpoint = await ensureLocalS3(engine, {baseImage: options.baseImage}, emit)
      let reachable = endpoint
      if (isLoopbackEndpoint(endpoint)) {
        const port = Number(new URL(endpoint).port || 80)
        await ensureDetachedForwarder(forwarderState(), gateway, port, port)
        reachable = `http://${gateway}:${port}`
      }
      return {
        AWS_ENDPOINT_URL_S3: reachable,
        AWS_ACCESS_KEY_ID: 'faas-local',
        AWS_SECRET_ACCESS_KEY: 'faas-local',
        AWS_REGION: options.region,
        AWS_DEFAULT_REGION: options.region,
      }
    },
    async releaseStorage() {
      await stopDetachedForwarder(forwarderState())
    },
    // The function's Lambda CPU share, so servers and functions compare like for like.
    nanoCpus: (memoryMb: number) => cpuShare(memoryMb, 0.25, availableParallelism()) * 1e9,
  }
}
