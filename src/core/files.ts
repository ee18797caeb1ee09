import {closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync} from 'node:fs'
import {mkdir, readFile} from 'node:fs/promises'
import {dirname} from 'node:path'

import lockfile from 'proper-lockfile'
import writeFileAtomic from 'write-file-atomic'

import {UserError, messageOf} from './errors.js'

/**
 * faas's own files (logins, the local service's state, run and bench records, logs): written
 * atomically (temp file, fsync, rename) so a crash or a full disk never leaves half a file, readable
 * only by their owner (files 0600, folders 0700) since they hold logins and every function's output,
 * and changed under a lock where two faas processes may write the same file at once.
 */

export const PRIVATE_FILE = 0o600
export const PRIVATE_DIR = 0o700

/** A file-system failure as one paragraph naming the file and what to do about it. */
export function fileError(error: unknown, path: string, doing: string): Error {
  const code = (error as NodeJS.ErrnoException)?.code
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new UserError(`No space left on the device to ${doing} ${path}.`, {
      code: 'DISK_FULL',
      fix:
        `Free some space on the file system that holds ${dirname(path)} (or point FAAS_HOME elsewhere) and run ` +
        `the command again; nothing was half-written.`,
      cause: error,
    })
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new UserError(`faas may not ${doing} ${path} (${code}).`, {
      code: 'NOT_WRITABLE',
      fix:
        `Make ${dirname(path)} writable by this user (or set FAAS_HOME to a folder that is) and run the ` +
        `command again.`,
      cause: error,
    })
  }
  if (error instanceof UserError) return error
  return new UserError(`Could not ${doing} ${path}: ${messageOf(error)}.`, {
    code: 'FILE_FAILED',
    fix: `Check ${dirname(path)} and run the command again.`,
    cause: error,
  })
}

/** Creates `dir` (and missing parents) readable only by the user. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, {recursive: true, mode: PRIVATE_DIR})
  } catch (error) {
    throw fileError(await explainMkdir(error, dir), dir, 'create the folder')
  }
}

export function ensurePrivateDirSync(dir: string): void {
  try {
    mkdirSync(dir, {recursive: true, mode: PRIVATE_DIR})
  } catch (error) {
    throw fileError(explainMkdirSync(error, dir), dir, 'create the folder')
  }
}

// A recursive mkdir on a read-only file system reports ENOENT; the plain mkdir says why (EROFS, EACCES).
async function explainMkdir(error: unknown, dir: string): Promise<unknown> {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return error
  return mkdir(dir).then(
    () => error,
    (plain: unknown) => plain,
  )
}

function explainMkdirSync(error: unknown, dir: string): unknown {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return error
  try {
    mkdirSync(dir)
    return error
  } catch (plain) {
    return plain
  }
}

/** Writes `data` to `path` atomically with mode 0600, creating its folder (0700) when missing. */
export async function writePrivateFile(path: string, data: string | Buffer): Promise<void> {
  await ensurePrivateDir(dirname(path))
  try {
    await writeFileAtomic(path, data, {mode: PRIVATE_FILE, fsync: true})
  } catch (error) {
    throw fileError(error, path, 'write')
  }
}

export function writePrivateFileSync(path: string, data: string | Buffer): void {
  ensurePrivateDirSync(dirname(path))
  try {
    writeFileAtomic.sync(path, data, {mode: PRIVATE_FILE, fsync: true})
  } catch (error) {
    throw fileError(error, path, 'write')
  }
}

export const writeJsonFile = (path: string, value: unknown): Promise<void> =>
  writePrivateFile(path, JSON.stringify(value, null, 2) + '\n')
export const writeJsonFileSync = (path: string, value: unknown): void =>
  writePrivateFileSync(path, JSON.stringify(value, null, 2) + '\n')

/** What a JSON file's reader says when the file is unreadable: what it holds and how to recover. */
export interface JsonFileInfo {
  /** What the file holds, e.g. "faas's saved registry logins". */
  what: string
  /** The fix, e.g. "Repair it or remove it and log in again (faas login)." */
  fix: string
}

function parseJson<T>(path: string, text: string, info: JsonFileInfo): T {
  try {
    return JSON.parse(text) as T
  } catch (error) {
    throw new UserError(
      `${path} (${info.what}) is not valid JSON (${messageOf(error)}); faas leaves it as it is rather than lose ` +
        `what it holds.`,
      {code: 'CORRUPT_FILE', fix: info.fix, cause: error},
    )
  }
}

/** A JSON file's content, or undefined when it does not exist; a corrupt file is a UserError naming it. */
export async function readJsonFile<T>(path: string, info: JsonFileInfo): Promise<T | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw fileError(error, path, 'read')
  }
  return parseJson<T>(path, text, info)
}

export function readJsonFileSync<T>(path: string, info: JsonFileInfo): T | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw fileError(error, path, 'read')
  }
  return parseJson<T>(path, text, info)
}

/**
 * Runs `fn` holding an exclusive lock on `path` (a `path.lock` folder beside it, so the file itself
 * need not exist). A lock left by a crashed process goes stale after 10 s; waiting gives up after
 * about 30 s with an error naming the lock.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  await ensurePrivateDir(dirname(path))
  let release: () => Promise<void>
  try {
    release = await lockfile.lock(path, {
      realpath: false,
      stale: 10_000,
      update: 2_000,
      retries: {retries: 120, factor: 1.3, minTimeout: 10, maxTimeout: 300, randomize: true},
    })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new UserError(`Another faas process holds the lock on ${path} and did not let go of it.`, {
        code: 'FILE_LOCKED',
        fix: `Wait for the other faas command to finish; if none is running, remove ${path}.lock.`,
        cause: error,
      })
    }
    throw fileError(error, `${path}.lock`, 'create the lock')
  }
  try {
    return await fn()
  } finally {
    await release().catch(() => undefined)
  }
}

/** Reads, changes and atomically rewrites a JSON file under its lock, so concurrent updates all survive. */
export async function updateJsonFile<T>(
  path: string,
  info: JsonFileInfo,
  update: (current: T | undefined) => T | Promise<T>,
): Promise<T> {
  return withFileLock(path, async () => {
    const next = await update(await readJsonFile<T>(path, info))
    await writeJsonFile(path, next)
    return next
  })
}

/**
 * Opens a log file for appending (0600), first rotating it when it has grown past `maxBytes`:
 * path → path.1 → … → path.<keep>, the oldest dropped. Returns the file descriptor.
 */
export function openRotatedLog(path: string, options: {maxBytes?: number; keep?: number} = {}): number {
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024
  const keep = options.keep ?? 2
  ensurePrivateDirSync(dirname(path))
  try {
    if ((statSync(path, {throwIfNoEntry: false})?.size ?? 0) > maxBytes) rotate(path, keep)
    return openSync(path, 'a', PRIVATE_FILE)
  } catch (error) {
    throw fileError(error, path, 'open the log')
  }
}

export function rotate(path: string, keep: number): void {
  for (let n = keep - 1; n >= 1; n--) {
    try {
      renameSync(`${path}.${n}`, `${path}.${n + 1}`)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }
  if (keep >= 1) renameSync(path, `${path}.1`)
  else closeSync(openSync(path, 'w'))
}

/**
 * A long-lived log (the local service's): appends lines, and once the file passes `maxBytes`
 * rotates it and carries on in a fresh one, so it never grows without bound. Writing never throws:
 * a full disk loses log lines, not the process.
 */
export class RotatingLog {
  private fd: number
  private size: number
  private readonly maxBytes: number
  private readonly keep: number

  constructor(
    readonly path: string,
    options: {maxBytes?: number; keep?: number} = {},
  ) {
    this.maxBytes = options.maxBytes ?? 10 * 1024 * 1024
    this.keep = options.keep ?? 2
    this.fd = openRotatedLog(path, options)
    this.size = fstatSync(this.fd).size
  }

  write(text: string): void {
    try {
      if (this.size > 0 && this.size + Buffer.byteLength(text) > this.maxBytes) {
        closeSync(this.fd)
        rotate(this.path, this.keep)
        this.fd = openSync(this.path, 'a', PRIVATE_FILE)
        this.size = 0
      }
      this.size += writeSync(this.fd, text)
    } catch {
      // Nowhere left to report it: the log itself is what failed.
    }
  }
}
