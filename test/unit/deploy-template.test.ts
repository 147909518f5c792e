/**
 * The production template: `serverless package --stage prod` with the example stage file
 * (deploy/stages/example.yml), checked against CloudFormation's resource specification and read for
 * what issue #11 requires of a deployment that serves real clinics: the network, no secret in the
 * template, least-privilege roles, guard rails, the worker's service and the migration step first.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { load } from 'js-yaml';
import { SECRET_VARIABLES } from '../../lib/platform/config/references';
import { checkTemplate } from '../support/cfn-spec';

const ROOT = path.join(__dirname, '..', '..');
const REFERENCE = /^aws-(sm|ssm):/;

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[]; Condition?: string };
type Template = { Resources: Record<string, Resource>; Conditions?: Record<string, unknown>; Outputs?: Record<string, any> };

const stageFile = load(readFileSync(path.join(ROOT, 'deploy', 'stages', 'example.yml'), 'utf8')) as {
  network: { subnetIds: string[]; securityGroupIds: string[] };
  secretsPath: string;
};

/** Packages a stage into a scratch folder, with an environment that holds none of the test settings. */
async function packageStage(stage: string, stageFileName: string, work: string): Promise<Template> {
  const out = path.join(work, `package-${stage}`);
  await promisify(execFile)(path.join(ROOT, 'node_modules', '.bin', 'serverless'), ['package', '--stage', stage, '--package', out], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
      AGENDA_STAGE_FILE: `./deploy/stages/${stageFileName}.yml`,
      AGENDA_LAMBDA_DIR: path.join(work, 'lambda'),
      // The second stage reuses the first one's bundles.
      ...(stage === 'dev' ? { AGENDA_LAMBDA_PREBUILT: '1' } : {}),
    },
    timeout: 120_000,
  });
  return JSON.parse(readFileSync(path.join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
}

let work: string;
let prod: Template;
let dev: Template;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'agenda-template-'));
  prod = await packageStage('prod', 'example', work);
  dev = await packageStage('dev', 'dev', work);
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const ofType = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const functions = (t: Template) => ofType(t, 'AWS::Lambda::Function');
const worker = () => prod.Resources.WorkerTaskDefinition!.Properties.ContainerDefinitions[0];
const statementsOf = (id: string) => {
  const r = prod.Resources[id]!;
  const own = (r.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
  const managed = (r.Properties.ManagedPolicyArns ?? [])
    .filter((a: any) => a.Ref)
    .flatMap((a: any) => prod.Resources[a.Ref]!.Properties.PolicyDocument.Statement);
  return [...own, ...managed];
};
const actions = (id: string) => statementsOf(id).flatMap((s: any) => [s.Action].flat());

describe('the production template', () => {
  it('passes the CloudFormation resource specification', () => {
    expect(checkTemplate(prod)).toEqual([]);
  });

  it('stays well under CloudFormation’s 500 resources', () => {
    expect(Object.keys(prod.Resources).length).toBeLessThan(250);
  });

  it('puts every function in the stage’s private subnets', () => {
    for (const [id, fn] of functions(prod)) {
      expect({ id, vpc: fn.Properties.VpcConfig }).toEqual({
        id,
        vpc: { SubnetIds: stageFile.network.subnetIds, SecurityGroupIds: stageFile.network.securityGroupIds },
      });
    }
    expect(prod.Resources.WorkerService!.Properties.NetworkConfiguration.AwsvpcConfiguration).toMatchObject({
      Subnets: stageFile.network.subnetIds,
      AssignPublicIp: 'DISABLED',
    });
  });

  it('holds no secret: secret variables are references under the stage’s path, and no URL with a scheme appears', () => {
    const environments = [
      ...functions(prod).map(([id, fn]) => [id, fn.Properties.Environment.Variables as Record<string, unknown>] as const),
      ['worker', Object.fromEntries(worker().Environment.map((e: any) => [e.Name, e.Value]))] as const,
    ];
    for (const [id, vars] of environments) {
      for (const name of SECRET_VARIABLES.filter((n) => n in vars)) {
        const value = String(vars[name]);
        if (value === '') continue; // unset: that feature off (no admin routes, single-node Redis)
        expect({ id, name, reference: REFERENCE.test(value) }).toEqual({ id, name, reference: true });
        expect(value.replace(REFERENCE, '').replace(/^\//, '')).toMatch(new RegExp(`^${stageFile.secretsPath}/`));
      }
    }
    expect(JSON.stringify(prod)).not.toMatch(/(postgres(ql)?|rediss?|smtps?):\/\//);
  });

  it('gives each function group its own role, with ManageConnections and InvokeFunction only where needed', () => {
    const roleOf = (fn: string) => prod.Resources[`${fn}LambdaFunction`]!.Properties.Role['Fn::GetAtt'][0];
    expect(new Set(functions(prod).map(([id]) => roleOf(id.replace(/LambdaFunction$/, ''))))).toEqual(
      new Set(['ApiFunctionsRole', 'SocketFunctionRole', 'JobRunnerRole', 'MigrateFunctionRole']),
    );
    expect(roleOf('Socket')).toBe('SocketFunctionRole');
    expect(roleOf('JobRunner')).toBe('JobRunnerRole');
    expect(roleOf('Migrate')).toBe('MigrateFunctionRole');
    const roles = ofType(prod, 'AWS::IAM::Role').map(([id]) => id).filter((id) => id !== 'RdsProxyRole');
    const withManage = roles.filter((id) => actions(id).includes('execute-api:ManageConnections'));
    expect(withManage.sort()).toEqual(['JobRunnerRole', 'SocketFunctionRole', 'WorkerTaskRole']);
    const manage = prod.Resources.ManageConnectionsPolicy!.Properties.PolicyDocument.Statement[0].Resource['Fn::Sub'];
    expect(manage).toMatch(/:\$\{WebsocketsApi\}\/prod\/\*\/@connections\/\*$/);
    const withInvoke = roles.filter((id) => actions(id).some((a: string) => a.startsWith('lambda:')));
    expect(withInvoke).toEqual(['WorkerTaskRole']);
    const invoke = statementsOf('WorkerTaskRole').find((s: any) => s.Action === 'lambda:InvokeFunction');
    expect(invoke.Resource).toEqual({ 'Fn::GetAtt': ['JobRunnerLambdaFunction', 'Arn'] });
    // No wildcard action; a wildcard resource only for the network interfaces (no resource-level permissions).
    for (const id of roles) {
      for (const s of statementsOf(id)) {
        expect([s.Action].flat().some((a: string) => a.endsWith('*'))).toBe(false);
        if (s.Resource === '*') expect([s.Action].flat().every((a: string) => a.startsWith('ec2:'))).toBe(true);
      }
    }
  });

  it('sets reserved concurrency on every function and throttling on both API stages', () => {
    for (const [id, fn] of functions(prod)) {
      expect({ id, reserved: fn.Properties.ReservedConcurrentExecutions > 0 }).toEqual({ id, reserved: true });
    }
    for (const stage of ['HttpApiStage', 'WebsocketsDeploymentStage']) {
      const settings = prod.Resources[stage]!.Properties.DefaultRouteSettings;
      expect(settings.ThrottlingRateLimit).toBeGreaterThan(0);
      expect(settings.ThrottlingBurstLimit).toBeGreaterThan(0);
    }
  });

  it('alarms on 5xx, throttles of every function, job-function errors, failed and waiting jobs and database connections', () => {
    const alarms = Object.fromEntries(ofType(prod, 'AWS::CloudWatch::Alarm'));
    const metric = (id: string) => `${alarms[id]?.Properties.Namespace}/${alarms[id]?.Properties.MetricName}`;
    expect(metric('Http5xxAlarm')).toBe('AWS/ApiGateway/5xx');
    expect(metric('JobRunnerErrorsAlarm')).toBe('AWS/Lambda/Errors');
    expect(metric('JobsFailedAlarm')).toBe('Agenda/JobsFailed');
    expect(metric('JobsWaitingAlarm')).toBe('Agenda/JobsWaiting');
    expect(metric('DatabaseConnectionsAlarm')).toBe('AWS/RDS/DatabaseConnections');
    for (const [id] of functions(prod)) {
      const alarm = alarms[id.replace(/LambdaFunction$/, 'ThrottlesAlarm')];
      expect(alarm?.Properties).toMatchObject({ MetricName: 'Throttles', Dimensions: [{ Name: 'FunctionName', Value: { Ref: id } }] });
    }
    for (const [id, alarm] of Object.entries(alarms)) {
      expect({ id, actions: alarm.Properties.AlarmActions }).toEqual({ id, actions: [{ Ref: 'AlarmTopic' }] });
    }
    // The queue metrics the workers publish (worker metrics: namespace Agenda, dimensions service and stage).
    expect(alarms.JobsWaitingAlarm!.Properties.Dimensions).toEqual([
      { Name: 'service', Value: 'agenda' },
      { Name: 'stage', Value: 'prod' },
    ]);
  });

  it('runs the worker on ECS Fargate: limits, drain within the stop timeout, logs, its own role, liveness probe, scaling on the backlog', () => {
    const task = prod.Resources.WorkerTaskDefinition!.Properties;
    expect(task).toMatchObject({ RequiresCompatibilities: ['FARGATE'], NetworkMode: 'awsvpc', Cpu: '512', Memory: '1024' });
    expect(task.TaskRoleArn).toEqual({ 'Fn::GetAtt': ['WorkerTaskRole', 'Arn'] });
    const env = Object.fromEntries(worker().Environment.map((e: any) => [e.Name, e.Value]));
    // SIGTERM drains for WORKER_SHUTDOWN_TIMEOUT_MS, then closing takes up to 5 s: both inside StopTimeout.
    expect(Number(env.WORKER_SHUTDOWN_TIMEOUT_MS) / 1000 + 5).toBeLessThan(worker().StopTimeout);
    expect(worker().LogConfiguration.LogDriver).toBe('awslogs');
    expect(worker().HealthCheck.Command.join(' ')).toContain('/live');
    expect(env.AGENDA_PROFILE).toBe('worker');
    expect(prod.Resources.WorkerService!.Properties.TaskDefinition).toEqual({ Ref: 'WorkerTaskDefinition' });
    const policy = prod.Resources.WorkerScalingPolicy!.Properties.TargetTrackingScalingPolicyConfiguration;
    expect(policy.CustomizedMetricSpecification).toMatchObject({ Namespace: 'Agenda', MetricName: 'JobsWaiting' });
    // The processors read the same settings in the container as in the job function.
    const functionEnv = prod.Resources.JobRunnerLambdaFunction!.Properties.Environment.Variables;
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'QUEUE_PREFIX', 'DB_POOLER', 'SMTP_URL', 'WEBHOOK_TIMEOUT_MS', 'CONTROL_EXPIRING_DAYS']) {
      expect({ name, value: env[name] }).toEqual({ name, value: functionEnv[name] });
    }
  });

  it('applies migrations first: every other function and the worker wait for the migration step, which reruns when a migration changes', () => {
    expect(prod.Resources.MigrationsRun).toMatchObject({
      Type: 'Custom::Migrations',
      Properties: { ServiceToken: { 'Fn::GetAtt': ['MigrateLambdaFunction', 'Arn'] }, MigrationsHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    for (const [id, r] of [...functions(prod), ['WorkerService', prod.Resources.WorkerService!] as const]) {
      if (id === 'MigrateLambdaFunction') continue;
      expect({ id, waits: [r.DependsOn ?? []].flat().includes('MigrationsRun') }).toEqual({ id, waits: true });
    }
    const migrate = prod.Resources.MigrateLambdaFunction!.Properties;
    expect(REFERENCE.test(migrate.Environment.Variables.DIRECT_DATABASE_URL)).toBe(true);
    expect(migrate.VpcConfig).toBeDefined();
  });

  it('offers an RDS Proxy behind a condition', () => {
    expect(prod.Resources.RdsProxy).toMatchObject({ Condition: 'UseRdsProxy', Properties: { EngineFamily: 'POSTGRESQL', RequireTLS: true } });
    expect(prod.Conditions?.UseRdsProxy).toBeDefined();
  });
});

describe('the local (dev) template', () => {
  it('is valid too, with no network, worker service or alarms', () => {
    expect(checkTemplate(dev)).toEqual([]);
    expect(functions(dev).every(([, fn]) => fn.Properties.VpcConfig === undefined)).toBe(true);
    expect(dev.Resources.WorkerService).toBeUndefined();
    expect(ofType(dev, 'AWS::CloudWatch::Alarm')).toEqual([]);
  });
});

describe('the specification check itself', () => {
  it('finds unknown types and properties, missing required properties, wrong shapes and dangling references', () => {
    const errors = checkTemplate({
      Resources: {
        A: { Type: 'AWS::SNS::Topicc', Properties: {} },
        B: { Type: 'AWS::CloudWatch::Alarm', Properties: { EvaluationPeriods: 'often', Colour: 'red', AlarmActions: [{ Ref: 'Nowhere' }] } },
        C: { Type: 'AWS::Lambda::Function', Properties: { Code: {}, Role: { 'Fn::GetAtt': ['B', 'Nope'] } }, DependsOn: ['Ghost'] },
      },
    } as never);
    expect(errors).toEqual(
      expect.arrayContaining([
        'Resources.A: unknown resource type AWS::SNS::Topicc',
        'Resources.B.Properties: required property ComparisonOperator missing',
        'Resources.B.Properties.EvaluationPeriods: expected Integer, got "often"',
        'Resources.B.Properties: unknown property Colour',
        'Resources.B.Properties.AlarmActions[0]: Ref to unknown Nowhere',
        'Resources.C.Properties.Role: AWS::CloudWatch::Alarm has no attribute Nope',
        'Resources.C.DependsOn: no resource Ghost',
      ]),
    );
  });
});
