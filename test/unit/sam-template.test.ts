import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {UserError} from '../../src/core/errors.js'
import {parseSamTemplate} from '../../src/core/sam-template.js'

const where = {region: 'eu-west-1', accountId: '123456789012', stackName: 'app'}
const parse = (text: string, parameters?: Record<string, string>) =>
  parseSamTemplate(text, 'template.yaml', {...where, parameters})

const throwsUser = (fn: () => unknown, pattern: RegExp) => {
  try {
    fn()
  } catch (error) {
    assert.instance(error, UserError)
    assert.match((error as UserError).paragraph, pattern)
    return
  }
  assert.unreachable('expected a UserError')
}

const fn = (props: string) => `Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: hello:latest
${props}`

test('defaults as SAM has them; long-form intrinsics; JSON templates too', () => {
  const t = parse(fn('      Environment:\n        Variables:\n          R: {"Fn::Sub": "${AWS::AccountId}"}\n'))
  assert.equal(t.functions, [
    {
      logicalId: 'Hello',
      name: 'Hello',
      imageUri: 'hello:latest',
      memoryMb: 128,
      timeoutS: 3,
      env: {R: '123456789012'},
      architecture: 'x86_64',
    },
  ])
  const json = parse(
    JSON.stringify({
      Resources: {
        F: {
          Type: 'AWS::Serverless::Function',
          Properties: {PackageType: 'Image', ImageUri: {'Fn::Join': ['', ['a', ':b']]}},
        },
      },
    }),
  )
  assert.is(json.functions[0]!.imageUri, 'a:b')
})

test('bad templates: one paragraph each, naming the fix', () => {
  throwsUser(() => parse('Resources: [\n'), /template\.yaml: is not valid YAML/)
  throwsUser(() => parse('Description: x\n'), /has no Resources/)
  throwsUser(
    () => parse('Resources:\n  Z:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.12\n'),
    /has no AWS::Serverless::Function with PackageType: Image/,
  )
  throwsUser(() => parse(fn(''), {Nope: '1'}), /--parameter-overrides names Nope, which is not one of its Parameters/)
  throwsUser(() => parse(fn('      ImageConfig:\n        Command: [a, b]\n')), /Command must be one handler/)
  throwsUser(() => parse(fn('      MemorySize: 64\n')), /from 128 to 10240/)
  throwsUser(
    () => parse(fn('      FunctionUrlConfig:\n        AuthType: PUBLIC\n')),
    /AuthType must be NONE or AWS_IAM/,
  )
  throwsUser(
    () =>
      parse(
        fn('      FunctionUrlConfig:\n        AuthType: NONE\n        Cors:\n          AllowOrigins: [example.com]\n'),
      ),
    /"example\.com", which is not an origin/,
  )
  const events = `      Events:
        A:
          Type: Api
          Properties: {Path: '/items/{id}', Method: get}
        B:
          Type: Api
          Properties: {Path: '/items/{name}', Method: get}
`
  throwsUser(
    () => parse(fn(events)),
    /routes "GET \/items\/\{id\}" and "GET \/items\/\{name\}" match the same requests/,
  )
  throwsUser(() => parse(fn('      Timeout: !If [C, 1, 2]\n')), /line 7: !If \["C",1,2\]/)
})

test.run()
