/**
 * Architecture rules, checked with the TypeScript type checker on the product source:
 *
 * 1. Each connection-owning class is constructed in one home module only, BullMQ Workers only under
 *    worker/; everything else imports the getter (a connection per call is what exhausts PostgreSQL
 *    and leaks Redis clients in Lambda). Every `new X(...)` is resolved to the declaration of what
 *    it constructs, whatever X is called locally (aliases, namespaces, re-exports, re-assignments);
 *    a subclass of a forbidden class counts as that class.
 * 2. Nothing in lib/ imports from functions/ or worker/ (data flows one way).
 * 3. Layers and cycles (dependency-cruiser, rules in .dependency-cruiser.cjs): lib/platform imports
 *    only itself; lib/domain imports itself and platform; the edge (lib/http, lib/socket) and lib/jobs
 *    import the domain and platform, not each other; no import cycle between files, none between
 *    folders of lib/.
 *
 * bench/ is out of scope on purpose: it measures the forbidden pattern.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { brokenImportRules, removeTree, sampleTree } from '../support/import-rules';

const ROOT = path.resolve(__dirname, '..', '..').split(path.sep).join('/');
const rel = (file: string) => path.posix.relative(ROOT, file);
const GENERATED_PRISMA = 'lib/platform/db/generated';

/** What may be constructed only in `home` (a file, or a folder ending in '/'), by where it is declared. */
const RULES = [
  // The generated client exports a value typed PrismaClientConstructor, not a class.
  { cls: 'PrismaClient', pkg: GENERATED_PRISMA, names: ['PrismaClient', 'PrismaClientConstructor'], home: 'lib/platform/db/client.ts' },
  { cls: 'Pool', pkg: 'pg', names: ['Pool'], home: 'lib/platform/db/pool.ts' },
  { cls: 'Redis', pkg: 'ioredis', names: ['Redis'], home: 'lib/platform/redis/client.ts' },
  { cls: 'Cluster', pkg: 'ioredis', names: ['Cluster'], home: 'lib/platform/redis/client.ts' },
  { cls: 'Queue', pkg: 'bullmq', names: ['Queue'], home: 'lib/platform/queues/queues.ts' },
  { cls: 'LambdaClient', pkg: '@aws-sdk/client-lambda', names: ['LambdaClient'], home: 'lib/platform/aws/lambda.ts' },
  { cls: 'ApiGatewayManagementApiClient', pkg: '@aws-sdk/client-apigatewaymanagementapi', names: ['ApiGatewayManagementApiClient'], home: 'lib/platform/aws/apigateway.ts' },
  { cls: 'SSMClient', pkg: '@aws-sdk/client-ssm', names: ['SSMClient'], home: 'lib/platform/aws/secret-stores.ts' },
  { cls: 'SecretsManagerClient', pkg: '@aws-sdk/client-secrets-manager', names: ['SecretsManagerClient'], home: 'lib/platform/aws/secret-stores.ts' },
  { cls: 'KMSClient', pkg: '@aws-sdk/client-kms', names: ['KMSClient'], home: 'lib/platform/aws/kms.ts' },
  // Powertools' providers make their own client when given none.
  { cls: 'SSMProvider', pkg: '@aws-lambda-powertools/parameters', names: ['SSMProvider'], home: 'lib/platform/aws/secret-stores.ts' },
  { cls: 'SecretsProvider', pkg: '@aws-lambda-powertools/parameters', names: ['SecretsProvider'], home: 'lib/platform/aws/secret-stores.ts' },
  { cls: 'Worker', pkg: 'bullmq', names: ['Worker'], home: 'worker/' },
];
type Rule = (typeof RULES)[number];
const isHome = (rule: Rule, file: string) => (rule.home.endsWith('/') ? file.startsWith(rule.home) : file === rule.home);

/** The package a declaration file belongs to (`@types/pg` counts as `pg`), or the generated client. */
function packageOf(fileName: string): string | undefined {
  if (rel(fileName).startsWith(`${GENERATED_PRISMA}/`)) return GENERATED_PRISMA;
  return [...fileName.matchAll(/\/node_modules\/(?:@types\/)?((?:@[^/]+\/)?[^/]+)\//g)].at(-1)?.[1];
}

/** Product files: functions/, lib/, worker/, scripts/, prisma/*.ts and the root's *.ts. */
function productFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory() && e.name !== 'node_modules' && rel(p) !== GENERATED_PRISMA) walk(p);
      else if (e.isFile() && /\.[cm]?[tj]s$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const dir of ['functions', 'lib', 'worker', 'scripts']) if (existsSync(`${ROOT}/${dir}`)) walk(`${ROOT}/${dir}`);
  for (const dir of [ROOT, `${ROOT}/prisma`]) for (const e of readdirSync(dir)) if (/(?<!\.d)\.ts$/.test(e)) out.push(`${dir}/${e}`);
  return out;
}

const extendsOf = (node: ts.Node) =>
  ts.isClassLike(node) ? node.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression : undefined;

/** The module a node imports (import, export ... from, import(), require()), if any. */
function specifierOf(node: ts.Node): ts.StringLiteralLike | undefined {
  if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) return node.moduleSpecifier;
  if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) return node.moduleReference.expression as ts.StringLiteral;
  const isCall = ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'));
  return isCall && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0]) ? node.arguments[0] : undefined;
}

/** Type-checks `files` (plus `virtual` ones: absolute path under ROOT -> text) against both rules. */
function check(files: string[], virtual: Record<string, string> = {}) {
  const { config } = ts.readConfigFile(`${ROOT}/tsconfig.json`, ts.sys.readFile);
  const options = { ...ts.parseJsonConfigFileContent(config, ts.sys, ROOT).options, allowJs: true, noEmit: true };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile, directoryExists } = host;
  host.getSourceFile = (f, lang, ...rest) => (f in virtual ? ts.createSourceFile(f, virtual[f]!, lang, true) : getSourceFile.call(host, f, lang, ...rest));
  host.fileExists = (f) => f in virtual || fileExists.call(host, f);
  host.readFile = (f) => virtual[f] ?? readFile.call(host, f);
  host.directoryExists = (d) => Object.keys(virtual).some((f) => f.startsWith(`${d}/`)) || !!directoryExists?.call(host, d);
  const program = ts.createProgram([...files, ...Object.keys(virtual)], options, host);
  const checker = program.getTypeChecker();

  /** The rule for what `sym` declares, or for the class it extends (a subclass constructs its base). */
  const ruleOf = (sym: ts.Symbol | undefined, seen: Set<ts.Symbol>): Rule | undefined => {
    if (!sym || seen.has(sym)) return undefined;
    seen.add(sym);
    if (sym.flags & ts.SymbolFlags.Alias) return ruleOf(checker.getAliasedSymbol(sym), seen);
    for (const decl of sym.declarations ?? []) {
      const pkg = packageOf(decl.getSourceFile().fileName);
      const base = extendsOf(decl);
      const rule = RULES.find((r) => r.pkg === pkg && r.names.includes(sym.getName())) ?? (base && ruleOfExpression(base, seen));
      if (rule) return rule;
    }
    return undefined;
  };
  /** By the symbol the expression names, else by its type (`const R = Redis; new R()`). */
  const ruleOfExpression = (expr: ts.Expression, seen = new Set<ts.Symbol>()): Rule | undefined =>
    ruleOf(checker.getSymbolAtLocation(ts.isPropertyAccessExpression(expr) ? expr.name : expr), seen) ??
    ruleOf(checker.getTypeAtLocation(expr).getSymbol(), seen);

  const violations: string[] = [];
  const constructedIn = new Map(RULES.map((r) => [r.cls, new Set<string>()]));
  for (const sf of program.getSourceFiles().filter((s) => files.includes(s.fileName) || s.fileName in virtual)) {
    const file = rel(sf.fileName);
    const fail = (node: ts.Node, what: string) => violations.push(`${file}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1} ${what}`);
    const visit = (node: ts.Node) => {
      const target = ts.isNewExpression(node) ? node.expression : extendsOf(node);
      if (target) {
        const rule = ruleOfExpression(target);
        const how = `${ts.isNewExpression(node) ? 'new' : 'extends'} ${target.getText(sf)}`;
        if (rule) constructedIn.get(rule.cls)!.add(file);
        if (rule && !isHome(rule, file)) fail(node, `${how} constructs ${rule.cls}; only ${rule.home} may`);
        // Untyped (require() in a .ts file, a cast to any): it could be anything, so it is refused.
        if (!rule && checker.getTypeAtLocation(target).flags & ts.TypeFlags.Any) fail(node, `${how} cannot be resolved (any)`);
      }
      const spec = specifierOf(node);
      if (spec) {
        const moduleFile =
          checker.getSymbolAtLocation(spec)?.declarations?.[0]?.getSourceFile().fileName ??
          ts.resolveModuleName(spec.text, sf.fileName, options, host).resolvedModule?.resolvedFileName;
        const tsRequire = ts.isCallExpression(node) && node.expression.kind !== ts.SyntaxKind.ImportKeyword && /\.[cm]?ts$/.test(file);
        if (!moduleFile && !tsRequire) fail(node, `cannot resolve '${spec.text}'`); // would blind both rules
        if (moduleFile && file.startsWith('lib/') && /^(functions|worker)\//.test(rel(moduleFile))) {
          fail(node, `lib/ imports '${spec.text}' (${rel(moduleFile)})`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { violations, constructedIn };
}

describe('architecture: the checker itself (so this test can fail)', () => {
  const dir = `${ROOT}/lib/__architecture_selfcheck__`;
  const samples: Record<string, string> = {
    alias: `import { Redis as R } from 'ioredis';\nexport const c = new R();`,
    default: `import Conn from 'ioredis';\nexport const c = new Conn();`,
    namespace: `import * as pg from 'pg';\nexport const p = new pg.Pool();`,
    reassigned: `import { Queue } from 'bullmq';\nconst Make = Queue;\nexport const q = new Make('x');`,
    reexport: `export { LambdaClient as L } from '@aws-sdk/client-lambda';`,
    'via-reexport': `import { L } from './reexport';\nexport const l = new L({});`,
    subclass: `import { Pool } from 'pg';\nexport class Mine extends Pool {}\nexport const m = new Mine();`,
    prisma: `import { PrismaClient as Db } from '../platform/db/generated/client';\nexport const db = new Db({} as never);`,
    worker: `import { Worker } from 'bullmq';\nexport const w = new Worker('q');`,
    ssm: `import { SSMClient as S } from '@aws-sdk/client-ssm';\nexport const s = new S({});`,
    'secrets-manager': `import * as sm from '@aws-sdk/client-secrets-manager';\nexport const s = new sm.SecretsManagerClient({});`,
    kms: `import { KMSClient as K } from '@aws-sdk/client-kms';\nexport const k = new K({});`,
    'ssm-provider': `import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';\nexport const p = new SSMProvider();`,
    'required-in-ts': `const { Queue } = require('bullmq');\nexport const q = new Queue('x');`,
    missing: `import { Nope } from './not-there';\nexport const n = Nope;`,
    upward: `import { handler } from '../../functions/http/health';\nexport const h = handler;`,
    harmless: `import { Client } from 'pg';\nimport { Worker } from 'node:worker_threads';\nexport const x = [new Client(), new Map(), new Worker('f')];`,
  };
  const { violations } = check([], Object.fromEntries(Object.entries(samples).map(([k, text]) => [`${dir}/${k}.ts`, text])));
  const at = (name: string) => violations.filter((x) => x.startsWith(`${rel(dir)}/${name}.ts:`));

  it.each([
    ['alias', 'Redis'], ['default', 'Redis'], ['namespace', 'Pool'], ['reassigned', 'Queue'],
    ['via-reexport', 'LambdaClient'], ['prisma', 'PrismaClient'], ['worker', 'Worker'],
    ['ssm', 'SSMClient'], ['secrets-manager', 'SecretsManagerClient'], ['kms', 'KMSClient'], ['ssm-provider', 'SSMProvider'],
  ])('catches a construct through %s', (name, cls) => {
    expect(at(name)).toEqual([expect.stringContaining(` constructs ${cls}; `)]);
  });

  it('counts a subclass as its base, where it is declared and where it is constructed', () => {
    expect(at('subclass')).toEqual([expect.stringMatching(/:2 extends Pool constructs Pool/), expect.stringMatching(/:3 new Mine constructs Pool/)]);
  });

  it('refuses what it cannot see through: an untyped constructor, an import that resolves nowhere', () => {
    expect(at('required-in-ts')).toEqual([expect.stringMatching(/:2 new Queue cannot be resolved/)]);
    expect(at('missing')).toEqual([expect.stringContaining("cannot resolve './not-there'")]);
  });

  it('catches lib/ importing functions/, and leaves unrelated classes alone', () => {
    expect(at('upward')).toEqual([expect.stringContaining("lib/ imports '../../functions/http/health'")]);
    expect(at('harmless')).toEqual([]);
  });
});

describe('architecture: the product source', () => {
  const files = productFiles();
  const { violations, constructedIn } = check(files);

  it('checks the real tree (not vacuously)', () => {
    const paths = files.map(rel);
    expect(paths).toEqual(expect.arrayContaining(['lib/platform/db/client.ts', 'functions/http/health.ts', 'worker/main.ts', 'prisma/seed.ts']));
    expect(paths.filter((p) => /^(test|bench|node_modules|lib\/platform\/db\/generated)\//.test(p))).toEqual([]);
  });

  it.each(RULES)('$cls: its home ($home) exists and constructs it', (rule) => {
    expect({ home: rule.home, exists: existsSync(`${ROOT}/${rule.home}`) }).toEqual({ home: rule.home, exists: true });
    expect({ home: rule.home, constructedIn: [...constructedIn.get(rule.cls)!] }).toEqual({
      home: rule.home,
      constructedIn: expect.arrayContaining([rule.home.endsWith('/') ? expect.stringMatching(`^${rule.home}`) : rule.home]),
    });
  });

  it('constructs each connection-owning class only in its home, and lib/ never imports functions/ or worker/', () => {
    expect(violations).toEqual([]);
  });
});

describe('architecture: layers and cycles, the checker itself (so this test can fail)', () => {
  const dir = sampleTree({
    'lib/platform/config/up.ts': "import { b } from '../../domain/x/b';\nexport const up = b;",
    'lib/platform/db/fine.ts': 'export const fine = 1;',
    'lib/domain/x/b.ts': 'export const b = 1;',
    'lib/domain/y/ok.ts': "import { fine } from '../../platform/db/fine';\nimport { b } from '../x/b';\nexport const ok = fine + b;",
    'lib/domain/x/c.ts': "import { d } from './d';\nexport const c = () => d;",
    'lib/domain/x/d.ts': "import type { c } from './c';\nexport const d = (): typeof c | undefined => undefined;",
    'lib/domain/p/e.ts': "import { f } from '../q/f';\nexport const e = f;",
    'lib/domain/p/g.ts': 'export const g = 1;',
    'lib/domain/q/f.ts': "import { g } from '../p/g';\nexport const f = g;",
    'lib/domain/x/h.ts': "import { r } from '../../jobs/r';\nexport const h = r;",
    'lib/jobs/r.ts': "import { s } from '../http/s';\nexport const r = s;",
    'lib/http/s.ts': "import { t } from '../../functions/t';\nexport const s = t;",
    'functions/t.ts': 'export const t = 1;',
  });
  const broken = brokenImportRules(dir, ['lib', 'functions']);
  afterAll(() => removeTree(dir));

  it('names each broken rule with its edge, a type-only import included, and passes what is allowed', () => {
    expect(broken).toEqual([
      'domain-below-adapters: lib/domain/x/h.ts -> lib/jobs/r.ts',
      'jobs-are-not-edge: lib/jobs/r.ts -> lib/http/s.ts',
      'lib-below-entry-points: lib/http/s.ts -> functions/t.ts',
      'no-cycle: lib/domain/x/c.ts -> lib/domain/x/d.ts -> lib/domain/x/c.ts',
      'no-folder-cycle: lib/domain/p -> lib/domain/q -> lib/domain/p',
      'no-folder-cycle: lib/domain/q -> lib/domain/p -> lib/domain/q',
      'platform-is-the-floor: lib/platform/config/up.ts -> lib/domain/x/b.ts',
    ]);
  });
});

describe('architecture: layers and cycles in the product source', () => {
  it('has no import cycle, no folder cycle and no import up a layer', () => {
    expect(brokenImportRules(ROOT, ['lib', 'functions', 'worker'])).toEqual([]);
  });
});
