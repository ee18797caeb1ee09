import type {Emit} from '../core/events.js'

/** Deletes the named resources of one kind at once, each said as it goes; what was not there is 'absent'. */
export function destroyEach<K extends string>(
  kind: K,
  names: string[],
  remove: (name: string) => Promise<'deleted' | 'absent'>,
  emit: Emit,
) {
  return Promise.all(
    names.map(async (name) => {
      const action = await remove(name)
      emit({kind: 'done', subject: `${kind} ${name}`, message: `${kind} ${name} ${action}`})
      return {name, kind, action}
    }),
  )
}
