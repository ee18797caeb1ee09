import {availableParallelism} from 'node:os'

import {UserError} from '../core/errors.js'
import {DEFAULT_ACCOUNT_CONCURRENCY} from './account.js'
import type {ServiceOptions} from './types.js'

/**
 * The local service's settings: defaults and the checks that refuse settings that would make every
 * call hang or fail. Light on purpose (no engine, no HTTP): the CLI checks flags with it before it
 * starts anything.
 */

/** The engine's name for this host's architecture. */
export const hostArchitecture = (): string => (process.arch === 'arm64' ? 'arm64' : 'amd64')

export const serviceDefaults = (): Omit<ServiceOptions, 'instanceId' | 'secrets'> => ({
  port: 9001,
  region: 'us-east-1',
  accountId: '000000000000',
  maxEnvironmentsPerFunction: 16,
  idleTimeoutMs: 10 * 60_000,
  // One sandbox ready per function, eight in all: each holds only a waiting helper (a few MB), and they are made one
  // at a time in the background, so two cores keep serving calls meanwhile.
  preparedPerFunction: 1,
  preparedTotal: 8,
  initTimeoutMs: 10_000,
  maxQueuedPerFunction: 1000,
  accountConcurrency: DEFAULT_ACCOUNT_CONCURRENCY,
  queueTimeoutMs: 60_000,
  maxEventAgeMs: 6 * 3600_000,
  asyncRetryDelaysMs: [60_000, 120_000],
  cpuFloor: 0.25,
  hostCpus: availableParallelism(),
  hostArchitecture: hostArchitecture(),
  emulationCpuFactor: 4,
})

/** Overrides without their undefined values (an absent flag keeps the default). */
export const defined = <T extends object>(overrides: T): Partial<T> =>
  Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<T>

/** Ranges of the settings `faas local start` takes as flags (seconds for the timeouts). */
export const SERVICE_FLAG_RANGES = {
  'max-environments': {min: 1, max: 1000},
  'idle-timeout': {min: 1, max: 7 * 24 * 3600},
  'max-queue': {min: 0, max: 100_000},
  'queue-timeout': {min: 0, max: 3600},
  prepared: {min: 0, max: 64},
  'prepared-total': {min: 0, max: 256},
} as const

/** Refuses settings that would make every call hang or fail, naming the setting and its range. */
export function checkServiceOptions<T extends Omit<ServiceOptions, 'instanceId' | 'secrets'>>(options: T): T {
  const flag = SERVICE_FLAG_RANGES
  const checks: Array<[string, number, {min: number; max: number}, string]> = [
    // [name, value, range, how to set it]
    ['The environment limit', options.maxEnvironmentsPerFunction, flag['max-environments'], '--max-environments'],
    ['The idle timeout', options.idleTimeoutMs / 1000, flag['idle-timeout'], '--idle-timeout (seconds)'],
    ['The init limit', options.initTimeoutMs / 1000, {min: 0.1, max: 900}, 'FAAS_LOCAL_INIT_TIMEOUT (seconds)'],
    ['The queue length', options.maxQueuedPerFunction, flag['max-queue'], '--max-queue'],
    ['The queue timeout', options.queueTimeoutMs / 1000, flag['queue-timeout'], '--queue-timeout (seconds)'],
    [
      'The maximum event age',
      options.maxEventAgeMs / 1000,
      {min: 60, max: 6 * 3600},
      'FAAS_LOCAL_MAX_EVENT_AGE (seconds)',
    ],
    [
      'The account concurrency',
      options.accountConcurrency,
      {min: 10, max: 1_000_000},
      'FAAS_LOCAL_ACCOUNT_CONCURRENCY',
    ],
    ['The emulation CPU factor', options.emulationCpuFactor, {min: 1, max: 64}, 'FAAS_LOCAL_EMULATION_CPU_FACTOR'],
    [
      'The prepared sandboxes per function',
      options.preparedPerFunction,
      flag.prepared,
      '--prepared or FAAS_LOCAL_PREPARED',
    ],
    [
      'The prepared sandboxes in all',
      options.preparedTotal,
      flag['prepared-total'],
      '--prepared-total or FAAS_LOCAL_PREPARED_TOTAL',
    ],
  ]
  for (const [name, value, {min, max}, how] of checks) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw new UserError(
        `${name} ${Number.isFinite(value) ? value : JSON.stringify(value)} is not usable: the local service needs ` +
          `it from ${min} to ${max}.`,
        {
          code: 'BAD_LOCAL_SETTING',
          fix: `Give ${how} a number from ${min} to ${max}, or leave it out for the default.`,
        },
      )
    }
  }
  const counts = [
    options.maxEnvironmentsPerFunction,
    options.maxQueuedPerFunction,
    options.preparedPerFunction,
    options.preparedTotal,
  ]
  if (!counts.every(Number.isInteger)) {
    throw new UserError('The environment limit, the queue length and the prepared sandboxes must be whole numbers.', {
      code: 'BAD_LOCAL_SETTING',
      fix: 'Give --max-environments, --max-queue, --prepared and --prepared-total whole numbers.',
    })
  }
  if (options.preparedPerFunction > options.preparedTotal) {
    throw new UserError(
      `${options.preparedPerFunction} prepared sandboxes per function cannot be kept with ${options.preparedTotal} ` +
        `in all.`,
      {
        code: 'BAD_LOCAL_SETTING',
        fix:
          `Give --prepared-total at least ${options.preparedPerFunction}, or lower --prepared (0, or --no-prepare, ` +
          `for none).`,
      },
    )
  }
  return options
}
