// Serverless Framework plugin: completes a deployed stage's CloudFormation template with what only
// code can derive from the rest of it (deploy/resources/ holds everything declarative):
// - the migration step runs before any other function or the worker is updated, and runs again
//   whenever prisma/migrations changes;
// - every function gets a Throttles alarm, so a new function cannot be left without one;
// - the worker's container gets the functions' environment, so the job processors read the same
//   settings in the container as in the job function.
// A local stage (deploy/resources/local.yml) has none of these resources; the plugin then does nothing.
'use strict';

const { createHash } = require('node:crypto');
const { readdirSync, readFileSync } = require('node:fs');
const path = require('node:path');

/** Variables of the functions' environment that mean nothing in the worker's container. */
const NOT_FOR_WORKER = new Set(['NODE_EXTRA_CA_CERTS', 'AGENDA_PROFILE']);

class AwsStack {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:aws:package:finalize:saveServiceState': () => this.complete() };
  }

  complete() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const resources = template.Resources;
    if (resources.MigrationsRun) migrationsFirst(resources, this.serverless.serviceDir);
    if (resources.AlarmTopic) throttleAlarms(resources);
    if (resources.WorkerTaskDefinition) shareEnvironment(resources.WorkerTaskDefinition, this.serverless.service.provider.environment ?? {});
  }
}

/** A hash of every migration, so the custom resource's properties change exactly when one is added. */
function migrationsHash(serviceDir) {
  const dir = path.join(serviceDir, 'prisma', 'migrations');
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).filter((n) => !n.includes('.')).sort()) {
    hash.update(name).update(readFileSync(path.join(dir, name, 'migration.sql')));
  }
  return hash.digest('hex');
}

function migrationsFirst(resources, serviceDir) {
  resources.MigrationsRun.Properties.MigrationsHash = migrationsHash(serviceDir);
  for (const [id, resource] of Object.entries(resources)) {
    const runsNewCode = resource.Type === 'AWS::Lambda::Function' || id === 'WorkerService' || id === 'WorkerTaskDefinition';
    if (!runsNewCode || id === 'MigrateLambdaFunction') continue;
    const dependsOn = [resource.DependsOn ?? []].flat();
    if (!dependsOn.includes('MigrationsRun')) resource.DependsOn = [...dependsOn, 'MigrationsRun'];
  }
}

function throttleAlarms(resources) {
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const name = id.replace(/LambdaFunction$/, '');
    resources[`${name}ThrottlesAlarm`] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmDescription: `${name}: invocations throttled (reserved concurrency reached)`,
        Namespace: 'AWS/Lambda',
        MetricName: 'Throttles',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: id } }],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'AlarmTopic' }],
        OKActions: [{ Ref: 'AlarmTopic' }],
      },
    };
  }
}

function shareEnvironment(taskDefinition, environment) {
  const container = taskDefinition.Properties.ContainerDefinitions.find((c) => c.Name === 'worker');
  const own = new Set(container.Environment.map((e) => e.Name));
  for (const [name, value] of Object.entries(environment)) {
    if (own.has(name) || NOT_FOR_WORKER.has(name)) continue;
    container.Environment.push({ Name: name, Value: value });
  }
}

module.exports = AwsStack;
