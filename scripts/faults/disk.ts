// Fault scenarios: a full disk and an unwritable FAAS_HOME (root: tmpfs mounts).
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {errorLine, faas, hasStack, type Scenario, SERVICE_PORT} from './harness.js'

function tinyMount(options: {readOnly?: boolean; fill?: boolean} = {}): {dir: string; done: () => void} {
  const dir = mkdtempSync(join(tmpdir(), 'faas-faults-mnt-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=64k,mode=0700${options.readOnly ? ',ro' : ''}`, 'tmpfs', dir])
  if (options.fill) {
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=4k'], {stdio: 'ignore'})
    } catch {
      // dd stops with ENOSPC: the file system is now full, which is the point.
    }
  }
  return {dir, done: () => execFileSync('umount', ['-l', dir])}
}

export const scenarios: Scenario[] = [
  {
    name: 'disk full writing the run record',
    expected: 'one paragraph saying no space is left and naming the file; no partial record',
    run: async () => {
      const mount = tinyMount({fill: true})
      try {
        const record = join(mount.dir, 'runs', 'run.json')
        const r = await faas(['run', 'fz', '--record', record])
        const leftovers = existsSync(join(mount.dir, 'runs')) ? readdirSync(join(mount.dir, 'runs')) : []
        const message = errorLine(r.err)
        return {
          pass: r.code !== 0 && /No space left/.test(message) && !hasStack(r.err) && leftovers.length === 0,
          observed: `exit ${r.code}, "${message.slice(0, 120)}", ${leftovers.length} files left`,
        }
      } finally {
        mount.done()
      }
    },
  },
  {
    name: 'disk full writing bench records',
    expected: 'one paragraph saying no space is left, no stack',
    run: async () => {
      const mount = tinyMount({fill: true})
      try {
        const r = await faas(['bench', '-f', 'fz-fn', '--rps', '2', '--time', '1', '--out', join(mount.dir, 'bench')])
        const message = errorLine(r.err)
        return {
          pass: r.code !== 0 && /No space left/.test(message) && !hasStack(r.err),
          observed: `exit ${r.code}, "${message.slice(0, 120)}"`,
        }
      } finally {
        mount.done()
      }
    },
  },
  {
    name: 'disk full in FAAS_HOME during login',
    expected: 'one paragraph saying no space is left; the saved logins are intact',
    run: async () => {
      const mount = tinyMount()
      try {
        const file = join(mount.dir, 'registries.json')
        writeFileSync(
          file,
          JSON.stringify({'example.test:5000': {registry: 'example.test:5000', username: 'u', password: 'p'}}),
        )
        try {
          execFileSync('dd', ['if=/dev/zero', `of=${join(mount.dir, 'filler')}`, 'bs=4k'], {stdio: 'ignore'})
        } catch {}
        const [user, password] = readFileSync(
          process.env.FAAS_TEST_AUTH_FILE ?? '/var/lib/faas-stack/auth-registry.credentials',
          'utf8',
        )
          .trim()
          .split('\n')
        const r = await faas(
          [
            'login',
            '--registry',
            process.env.FAAS_TEST_AUTH_REGISTRY ?? '127.0.0.1:5001',
            '--username',
            user!,
            '--password-stdin',
          ],
          {FAAS_HOME: mount.dir},
          password,
        )
        const intact = Object.keys(JSON.parse(readFileSync(file, 'utf8'))).join(',') === 'example.test:5000'
        const message = errorLine(r.err)
        return {
          pass: r.code !== 0 && /No space left/.test(message) && intact && !hasStack(r.err),
          observed: `exit ${r.code}, "${message.slice(0, 110)}", logins intact ${intact}`,
        }
      } finally {
        mount.done()
      }
    },
  },
  {
    name: 'FAAS_HOME not writable',
    expected: 'one paragraph naming the folder and the fix (EROFS/EACCES), no stack',
    run: async () => {
      const mount = tinyMount({readOnly: true})
      try {
        const r = await faas(['local', 'start', '--detach'], {
          FAAS_HOME: mount.dir,
          FAAS_LOCAL_PORT: String(Number(SERVICE_PORT) + 10),
        })
        const message = errorLine(r.err)
        return {
          pass: r.code !== 0 && message.includes(mount.dir) && /writable/.test(message) && !hasStack(r.err),
          observed: `exit ${r.code}, "${message.slice(0, 120)}"`,
        }
      } finally {
        mount.done()
      }
    },
  },
]
