import {UserError} from '../core/errors.js'
import type {Settings} from '../core/settings.js'
import type {Target} from './target.js'

/** Placeholder until the local Lambda service lands (its engineer replaces this file). */
export function createLocalTarget(_settings?: Settings): Target {
  throw new UserError('The local target is not available yet.', {code: 'NO_LOCAL_TARGET', fix: 'Use --target aws (or FAAS_TARGET=aws) for now.'})
}
