import {UserError, isUserError, messageOf} from '../core/errors.js'
import type {Invoke} from './runner.js'

/** Fails early, before any load, on a function the target does not know (a DryRun invocation). */
export async function checkFunctionsExist(invoke: Invoke, functions: string[]): Promise<void> {
  for (const name of new Set(functions)) {
    try {
      const outcome = await invoke({name, payload: '{}', invocationType: 'DryRun'})
      if (outcome.statusCode === 404) throw new Error('ResourceNotFoundException')
    } catch (error) {
      const text = messageOf(error)
      if (
        /not ?found|ResourceNotFound|no (such )?function|unknown function|does not exist/i.test(text) ||
        (isUserError(error) && /^(NO_FUNCTION|UNKNOWN_FUNCTION|NOT_FOUND)$/.test(error.code))
      ) {
        throw new UserError(`Function "${name}" is not deployed on this target (${text.replace(/\.$/, '')}).`, {
          code: 'UNKNOWN_FUNCTION',
          fix:
            'Deploy it first (faas deploy), or check the name in --function_name / the endpoints file and the ' +
            '--target.',
        })
      }
      if (isUserError(error)) throw error
      // Anything else (e.g. a target without DryRun) is left for the run itself to record.
    }
  }
}
