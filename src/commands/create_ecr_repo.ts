import {Flags} from '@oclif/core'

import {createAwsClients} from '../aws/clients.js'
import {ensureRepository} from '../aws/ecr.js'
import {FaasCommand} from '../cli/faas-command.js'
import {loadSettings} from '../core/settings.js'

export default class CreateEcrRepo extends FaasCommand {
  static override summary = 'Create an ECR repository unless it exists (aws_actions.py create_ecr_repo).'
  static override examples = ['<%= config.bin %> create_ecr_repo --repo_name map-reduce-driver']

  static override flags = {
    repo_name: Flags.string({description: 'Repository name.', required: true, aliases: ['repo-name']}),
  }

  async run() {
    const {flags} = await this.parse(CreateEcrRepo)
    const repository = await ensureRepository(createAwsClients(loadSettings()).ecr, flags.repo_name)
    this.log(`${repository.uri}\t${repository.created ? 'created' : 'already exists'}`)
    return repository
  }
}
