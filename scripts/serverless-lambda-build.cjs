// Serverless Framework plugin: builds the functions (scripts/build-lambda.ts) before
// `serverless offline start` runs them and before `serverless package` / `deploy` zips them, and
// caps how many containers serverless-offline runs per function at once.
'use strict';

const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { register } = require('esbuild-register/dist/node');

class LambdaBuild {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options;
    this.built = undefined;
    const offline = async () => {
      await this.capOfflineContainers();
      await this.build(process.env.NODE_OPTIONS?.includes('--enable-source-maps') ? 'linked' : 'none');
    };
    const deploy = () => this.build('external');
    this.hooks = {
      'before:offline:start': offline,
      'before:offline:start:init': offline,
      'before:package:createDeploymentArtifacts': deploy,
      'before:deploy:function:packageFunction': deploy,
    };
  }

  /** Once per command; AGENDA_LAMBDA_PREBUILT=1 uses what an earlier build left in the folder. */
  build(sourcemap) {
    if (process.env.AGENDA_LAMBDA_PREBUILT === '1') return Promise.resolve();
    this.built ??= (async () => {
      const { unregister } = register({ target: 'node20' });
      const { buildLambda } = require('./build-lambda.ts');
      unregister();
      const outDir = this.serverless.service.custom.lambda.dir;
      const started = Date.now();
      const built = await buildLambda({ outDir, sourcemap });
      const kib = built.reduce((sum, fn) => sum + fn.files.reduce((s, f) => s + f.bytes, 0), 0) / 1024;
      this.serverless.cli.log(`Built ${built.length} functions into ${path.normalize(outDir)} (${kib.toFixed(0)} KiB, maps: ${sourcemap}) in ${Date.now() - started} ms`);
    })();
    return this.built;
  }

  /**
   * serverless-offline starts a new container (a worker thread) for every request that finds none
   * idle, so a burst of 100 requests loads 100 copies of a function on a laptop's few cores, where
   * AWS would give each its own CPU. `custom.lambda.offlineContainers` caps them per function: a
   * request beyond the cap waits for a container to be free, as on a warm Lambda fleet. It also
   * retires a container that timed out (serverless-offline terminates its thread but would hand
   * it the next request, which then never answers).
   */
  async capOfflineContainers() {
    const cap = Number(this.serverless.service.custom.lambda.offlineContainers);
    if (!Number.isInteger(cap) || cap < 1) throw new Error('custom.lambda.offlineContainers must be a positive integer');
    const offlineDir = path.dirname(require.resolve('serverless-offline', { paths: [this.serverless.serviceDir] }));
    const { default: Pool } = await import(pathToFileURL(path.join(offlineDir, 'lambda', 'LambdaFunctionPool.js')).href);
    const { default: LambdaTimeoutError } = await import(pathToFileURL(path.join(offlineDir, 'errors', 'LambdaTimeoutError.js')).href);
    if (Pool.prototype.get.capped) return;
    const get = Pool.prototype.get;
    const permits = new Map();
    const permitFor = (key) => {
      if (!permits.has(key)) permits.set(key, { free: cap, waiting: [] });
      return permits.get(key);
    };
    const acquire = (p) => (p.free > 0 ? (p.free--, Promise.resolve()) : new Promise((resolve) => p.waiting.push(resolve)));
    const release = (p) => (p.waiting.length > 0 ? p.waiting.shift()() : p.free++);
    function capped(functionKey, definition) {
      const pool = this;
      let event;
      let clientContext;
      let hasClientContext = false;
      // What every caller does with a function: setEvent, maybe setClientContext, then runHandler.
      return {
        setEvent(e) {
          event = e;
        },
        setClientContext(c) {
          clientContext = c;
          hasClientContext = true;
        },
        async runHandler() {
          const permit = permitFor(functionKey);
          await acquire(permit);
          const fn = get.call(pool, functionKey, definition);
          try {
            fn.setEvent(event);
            if (hasClientContext) fn.setClientContext(clientContext);
            return await fn.runHandler();
          } catch (err) {
            if (err instanceof LambdaTimeoutError) Object.defineProperty(fn, 'status', { get: () => 'TERMINATED' });
            throw err;
          } finally {
            release(permit);
          }
        },
      };
    }
    capped.capped = true;
    Pool.prototype.get = capped;
  }
}

module.exports = LambdaBuild;
