import {createServer, connect, type Server, type Socket} from 'node:net'

/**
 * A TCP proxy on 127.0.0.1 in front of a real peer (a registry, the Docker engine's unix socket),
 * for faults a real peer will not produce on demand: `cut()` resets every open connection, `close()`
 * makes the peer vanish, and `onData` may decide to reset a connection mid-stream.
 */
export interface Proxy {
  /** host:port, or the socket path when listening on a unix socket. */
  address: string
  port: number
  /** Bytes seen from clients so far. */
  bytesIn: number
  cut(): void
  close(): Promise<void>
  /** Holds client bytes (the peer seems to hang) until resume(). */
  pause(): void
  resume(): void
}

export async function startProxy(
  target: {host?: string; port?: number; path?: string},
  options: {listenPath?: string; onData?: (proxy: Proxy, chunk: Buffer, client: Socket) => 'pass' | 'reset'} = {},
): Promise<Proxy> {
  const sockets = new Set<Socket>()
  let paused = false
  const held: Array<() => void> = []
  const server: Server = createServer((client) => {
    const upstream = target.path ? connect(target.path) : connect(target.port!, target.host ?? '127.0.0.1')
    sockets.add(client).add(upstream)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('data', (chunk) => {
      proxy.bytesIn += chunk.length
      if (options.onData?.(proxy, chunk, client) === 'reset') {
        client.resetAndDestroy()
        upstream.destroy()
        return
      }
      if (paused) held.push(() => upstream.write(chunk))
      else upstream.write(chunk)
    })
    upstream.on('data', (chunk) => client.write(chunk))
    client.on('end', () => upstream.end())
    upstream.on('end', () => client.end())
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    if (options.listenPath) server.listen(options.listenPath, resolve)
    else server.listen(0, '127.0.0.1', resolve)
  })
  const port = options.listenPath ? 0 : (server.address() as {port: number}).port
  const proxy: Proxy = {
    address: options.listenPath ?? `127.0.0.1:${port}`,
    port,
    bytesIn: 0,
    cut: () => {
      for (const socket of sockets) socket.destroy()
      sockets.clear()
    },
    pause: () => void (paused = true),
    resume: () => {
      paused = false
      for (const write of held.splice(0)) write()
    },
    close: () =>
      new Promise<void>((resolve) => {
        proxy.cut()
        server.close(() => resolve())
      }),
  }
  return proxy
}
