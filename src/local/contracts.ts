import {readFileSync, readlinkSync} from 'node:fs'
import {join} from 'node:path'

import {faasHome} from '../core/paths.js'

/**
 * What the local service promises beyond its own process, defined once: the labels on its
 * containers (the leftover sweep, tests and `docker ps` filters read them), the PID namespace a
 * pid label means something in, and where its state lives under FAAS_HOME. Changing any of these
 * strands containers or state of services already running.
 */

/** Marks every container of a service: dev.faas.local=<instance id>. */
export const LABEL = 'dev.faas.local'
/** The service's pid, its PID namespace and its port: together they prove a service gone. */
export const PID_LABEL = 'dev.faas.local.pid'
export const PIDNS_LABEL = 'dev.faas.local.pidns'
export const PORT_LABEL = 'dev.faas.local.port'
export const FUNCTION_LABEL = 'dev.faas.local.function'

/** This process's PID namespace (`pid:[4026531836]`): a pid label means something only within it. */
export function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid')
  } catch {
    return 'unknown'
  }
}

/** Does the process exist? EPERM means it does (another user's): only ESRCH proves it gone. */
export function processGone(
  pid: number,
  kill: (pid: number, signal: 0) => void = (p, sig) => process.kill(p, sig),
): boolean {
  try {
    kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
  // A killed service whose parent has not reaped it yet still answers kill 0: a zombie is gone too.
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** $FAAS_HOME/local: the service's state, log, key pair and functions. */
export const stateDir = (env: NodeJS.ProcessEnv = process.env): string => join(faasHome(env), 'local')
/** The running service's pid, port and id (service.json). */
export const stateFile = (env: NodeJS.ProcessEnv = process.env): string => join(stateDir(env), 'service.json')
/** The service's functions, kept so a restarted service on the same FAAS_HOME still knows them. */
export const functionsFile = (env: NodeJS.ProcessEnv = process.env): string => join(stateDir(env), 'functions.json')
