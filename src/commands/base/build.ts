import {Flags} from '@oclif/core'

import {FaasCommand} from '../../cli/faas-command.js'
import {parsePlatforms} from '../../core/platform.js'
import {DockerEngine} from '../../docker/engine.js'
import {buildBaseImages} from '../../images/base.js'

export default class BaseBuild extends FaasCommand {
  static override summary = 'Make the offline Lambda-compatible Python base images (Debian + awslambdaric + boto3).'
  static override description =
    'No base image can be pulled on an offline machine, so faas makes one with debootstrap and caches it: the ' +
    'rootfs tar under ~/.cache/faas/base, the image by its tag (faas/lambda-python:3.11-<arch>). Function builds ' +
    'use it when --base-image is local.'

  static override examples = ['<%= config.bin %> base build --platform linux/arm64,linux/amd64']

  static override flags = {
    platform: Flags.string({description: 'Comma-separated platforms.', default: 'linux/arm64'}),
    force: Flags.boolean({description: 'Rebuild even when the image exists.', default: false}),
  }

  async run() {
    const {flags} = await this.parse(BaseBuild)
    const images = await buildBaseImages(
      new DockerEngine(),
      {platforms: parsePlatforms(flags.platform), force: flags.force},
      this.emit,
    )
    for (const image of images)
      this.log(
        `${image.ref}\t${image.architecture}\t${(image.sizeBytes / 1e6).toFixed(0)} ` +
          `MB\t${image.cached ? 'cached' : 'built'}`,
      )
    return {images}
  }
}
