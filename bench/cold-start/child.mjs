// One cold start, in a fresh Node process: imports a built function's index.mjs and, when given an
// event, calls its handler once. Plain JavaScript run by `node` itself, so nothing but the function
// is loaded. Prints one JSON line; exits at once (open sockets would otherwise keep it alive).
import { pathToFileURL } from 'node:url';

const started = process.hrtime.bigint();
const [dir, eventJson] = process.argv.slice(2);
const mod = await import(pathToFileURL(`${dir}/index.mjs`).href);
const imported = process.hrtime.bigint();
let status;
if (eventJson) {
  const context = {
    functionName: 'cold-start-bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:0:function:cold-start-bench',
    memoryLimitInMB: '1024',
    awsRequestId: 'cold-start',
    logGroupName: 'bench',
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 28_000,
  };
  const result = await mod.handler(JSON.parse(eventJson), context);
  status = result?.statusCode;
}
const answered = process.hrtime.bigint();
const cpu = process.cpuUsage();
const ms = (ns) => Number(ns) / 1e6;
process.stdout.write(`${JSON.stringify({ importMs: ms(imported - started), answerMs: ms(answered - imported), status, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
process.exit(0);
