/**
 * `npm run deploy -- <stage>` (scripts/deploy.sh) against recording stand-ins for what cannot run
 * here: the AWS CLI, Docker and `serverless deploy`. It must push the image before the stack is
 * deployed, hand the stack that exact image and stage file, and refuse a stage without its file.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.join(__dirname, '..', '..');
let bin: string;
let calls: string;

/** A command that appends its name, arguments and the variables the deploy passes to one log. */
function standIn(name: string, body: string) {
  const file = path.join(bin, name);
  writeFileSync(file, `#!/usr/bin/env bash\necho "${name} $* | WORKER_IMAGE=\${WORKER_IMAGE:-} STAGE_FILE=\${AGENDA_STAGE_FILE:-}" >> "${calls}"\n${body}\n`);
  chmodSync(file, 0o755);
}

function deploy(stage: string, env: Record<string, string> = {}) {
  return promisify(execFile)('bash', [path.join(ROOT, 'scripts', 'deploy.sh'), stage], {
    cwd: ROOT,
    env: { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME, AGENDA_SERVERLESS: path.join(bin, 'serverless'), ...env },
  });
}

beforeEach(() => {
  bin = mkdtempSync(path.join(tmpdir(), 'agenda-deploy-'));
  calls = path.join(bin, 'calls.log');
  writeFileSync(calls, '');
  standIn(
    'aws',
    `case "$1 $2" in
  "sts get-caller-identity") echo 123456789012 ;;
  "ecr get-login-password") echo token ;;
  "ecr describe-repositories"|"ecr describe-images") exit 254 ;;
esac`,
  );
  standIn('docker', '[ "$1" = login ] && cat >/dev/null; true');
  standIn('serverless', '');
});

afterEach(() => rmSync(bin, { recursive: true, force: true }));

it('pushes the worker image, then deploys the stack with that image and the stage file', async () => {
  await deploy('prod', { AGENDA_STAGE_FILE: './deploy/stages/example.yml' });
  const lines = readFileSync(calls, 'utf8').trim().split('\n');
  const commands = lines.map((l) => l.split(' | ')[0]!.split(' ').slice(0, 3).join(' '));
  // The two sides of `aws ecr get-login-password | docker login` run at once: either order.
  const login = ['aws ecr get-login-password', 'docker login --username'];
  expect(commands.slice(3, 5).sort()).toEqual(login);
  expect(commands.filter((c) => !login.includes(c)).map((c) => c.split(':')[0])).toEqual([
    'aws sts get-caller-identity',
    'aws ecr describe-repositories',
    'aws ecr create-repository',
    'aws ecr describe-images',
    'docker build --platform',
    'docker push 123456789012.dkr.ecr.sa-east-1.amazonaws.com/agenda-worker',
    'serverless deploy --stage',
  ]);
  const image = lines[7]!.split(' | ')[0]!.split(' ')[2]!;
  expect(image).toMatch(/^123456789012\.dkr\.ecr\.sa-east-1\.amazonaws\.com\/agenda-worker:[0-9a-f]{12}(-dirty)?$/);
  expect(lines[8]).toBe(`serverless deploy --stage prod --region sa-east-1 | WORKER_IMAGE=${image} STAGE_FILE=./deploy/stages/example.yml`);
});

it('refuses a stage that has no stage file, before touching AWS', async () => {
  await expect(deploy('nowhere')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('deploy/stages/example.yml') });
  expect(readFileSync(calls, 'utf8')).toBe('');
});
