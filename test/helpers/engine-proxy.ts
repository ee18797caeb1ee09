import {rmSync} from 'node:fs'
import {createConnection, createServer, type Server, type Socket} from 'node:net'
import {join} from 'node:path'

/** A socket of our own in front of the real engine: closing it is the engine going away, for this service only. */
export class EngineProxy {
  readonly path: string
  #server?: Server
  #sockets = new Set<Socket>()
  constructor(dir: string) {
    this.path = join(dir, 'engine.sock')
  }
  async up(): Promise<void> {
    if (this.#server) return
    rmSync(this.path, {force: true})
    this.#server = createServer((downstream) => {
      const upstream = createConnection('/var/run/docker.sock')
      for (const s of [downstream, upstream]) {
        this.#sockets.add(s)
        s.on('close', () => this.#sockets.delete(s))
        s.on('error', () => {})
      }
      downstream.pipe(upstream).pipe(downstream)
    })
    await new Promise<void>((resolve) => this.#server!.listen(this.path, resolve))
  }
  async down(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    for (const s of this.#sockets) s.destroy()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
