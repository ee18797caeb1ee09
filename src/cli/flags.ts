import {Flags} from '@oclif/core'

/** Flags several commands share, defined once so their names and help stay the same everywhere. */
export const sharedFlags = {
  function: Flags.string({char: 'f', description: 'Only this function (repeatable).', multiple: true}),
  tag: Flags.string({description: 'Image tag.', default: 'latest'}),
  registry: Flags.string({
    description: "Registry host[:port] instead of the account's ECR (env FAAS_REGISTRY), e.g. 127.0.0.1:5000.",
  }),
}

/** Where functions run: AWS Lambda or the local Lambda service (env FAAS_TARGET, default local). */
export const targetFlag = Flags.option({
  options: ['local', 'aws'] as const,
  description: 'Where the functions run: the local Lambda service or AWS Lambda.',
  env: 'FAAS_TARGET',
  default: 'local' as const,
})
