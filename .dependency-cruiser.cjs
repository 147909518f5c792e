/**
 * The import rules of lib/, checked by test/unit/architecture.test.ts (and `npm run arch`).
 * Layers, from the bottom: platform (connections, config, errors) <- domain (the clinic) <- the edge
 * (lib/http, lib/socket) and lib/jobs <- functions/, worker/, scripts/. A layer imports only below it;
 * no file imports itself back through others, and no two folders of lib/ import each other.
 */
const upward = (name, from, to, comment) => ({ name, severity: 'error', comment, from: { path: from }, to: { path: to } });

module.exports = {
  forbidden: [
    { name: 'no-cycle', severity: 'error', comment: 'a cycle ties its files into one unit that cannot be read, tested or loaded apart', from: { path: '^(lib|functions|worker)/' }, to: { circular: true } },
    { name: 'no-folder-cycle', severity: 'error', scope: 'folder', comment: 'two folders that import each other are one part in two places', from: { path: '^lib/' }, to: { circular: true } },
    upward('platform-is-the-floor', '^lib/platform/', '^lib/(domain|http|socket|jobs)/', 'platform knows nothing of the clinic, the edge or the jobs'),
    upward('domain-below-adapters', '^lib/domain/', '^lib/(http|socket|jobs)/', 'the domain is called by the edge and the jobs, never the other way'),
    upward('edge-is-not-jobs', '^lib/(http|socket)/', '^lib/jobs/', 'a request enqueues through the domain; it does not run processors'),
    upward('jobs-are-not-edge', '^lib/jobs/', '^lib/(http|socket)/', 'a processor does not depend on HTTP or socket plumbing'),
    upward('lib-below-entry-points', '^lib/', '^(functions|worker|scripts|bench|test)/', 'data flows one way: entry points import lib/, never back'),
    upward('functions-are-not-the-worker', '^functions/', '^worker/', 'a function ships without the worker container'),
    upward('worker-is-not-functions', '^worker/', '^functions/', 'the worker runs jobs through lib/jobs, not through handlers'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^lib/platform/db/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.cjs', '.mjs', '.json'] },
  },
};
