/**
 * Nothing in the product relies on session state, so DATABASE_URL may be a transaction pooler
 * (PgBouncer pool_mode=transaction, RDS Proxy), where consecutive statements of one client can run
 * on different server connections: a session `SET`, a session advisory lock, `LISTEN`, a named
 * prepared statement, a temporary table or a held cursor would silently apply to someone else's
 * connection, or vanish. Every SQL string in the product source (string literals and templates, read
 * with the TypeScript parser, so comments do not count) is checked, as is every interactive
 * transaction of the running product (lib/, functions/, worker/): `$transaction` is called in
 * lib/platform/db/transaction.ts alone, which sets the timeouts per transaction through a pooler. The pass through a real PgBouncer (jest.pooler.config.ts) checks the
 * same at run time.
 *
 * The migrator needs a session and gets one: it connects to DIRECT_DATABASE_URL and refuses a pooler.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');
/** The running product; scripts/ and prisma/seed.ts are tools (the seed's transaction is fine unbounded). */
const RUNTIME = /^(lib|functions|worker)\//;
const GENERATED = 'lib/platform/db/generated';

/** What a pooler would break, as it shows in SQL text. */
const SQL_RULES: { what: string; re: RegExp }[] = [
  { what: 'session SET/RESET', re: /(^|;)\s*(SET|set|RESET|reset)\s+(?!LOCAL\b|local\b)(SESSION\s+|session\s+)?("?[A-Za-z_][\w.]*"?)\s*(=|TO\b|to\b|;|$)/ },
  { what: 'session-level set_config', re: /set_config\s*\([^()]*,\s*false\s*\)/i },
  { what: 'session advisory lock', re: /\bpg_(try_)?advisory_(un)?lock(_shared|_all)?\s*\(/i },
  { what: 'LISTEN', re: /(^|;)\s*(UN)?LISTEN\s/i },
  { what: 'named prepared statement (SQL)', re: /(^|;)\s*(PREPARE|DEALLOCATE)\s/i },
  { what: 'temporary table', re: /\bCREATE\s+((GLOBAL|LOCAL)\s+)?TEMP(ORARY)?\s+TABLE\b/i },
  { what: 'cursor held past its transaction', re: /\bWITH\s+HOLD\b/i },
];

/** Where a rule may be broken, and why. */
const ALLOWED: Record<string, string[]> = {
  // The migrator's own connection (DIRECT_DATABASE_URL, proved a session of its own) marks itself.
  'lib/platform/db/session-probe.ts': ['session-level set_config'],
};

/** Product files: lib/, functions/, worker/, scripts/, prisma/*.ts. */
function productFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory() && p !== GENERATED) walk(p);
      else if (e.isFile() && /\.[cm]?[tj]s$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const dir of ['lib', 'functions', 'worker', 'scripts']) if (existsSync(path.join(ROOT, dir))) walk(dir);
  for (const e of readdirSync(path.join(ROOT, 'prisma'))) if (/(?<!\.d)\.ts$/.test(e)) out.push(`prisma/${e}`);
  return out;
}

/** Every violation in one source text: `file:line what`. */
function scan(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const at = (node: ts.Node, what: string) => {
    if (ALLOWED[file]?.includes(what)) return;
    found.push(`${file}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1} ${what}`);
  };
  const checkSql = (node: ts.Node, sql: string) => {
    for (const rule of SQL_RULES) if (rule.re.test(sql)) at(node, rule.what);
  };
  const visit = (node: ts.Node) => {
    if (ts.isTypeNode(node)) return; // Db['$transaction'] and the like name types, not SQL
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) checkSql(node, node.text);
    if (ts.isTemplateExpression(node)) {
      // Placeholders become parameters, so a statement split by ${...} is read whole.
      checkSql(node, node.head.text + node.templateSpans.map((s, i) => `$${i + 1}${s.literal.text}`).join(''));
    }
    // pg's `query({ name, text })` prepares a named statement on one server connection.
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'query') {
      const [config] = node.arguments;
      if (config && ts.isObjectLiteralExpression(config) && config.properties.some((p) => p.name && ts.isIdentifier(p.name) && p.name.text === 'name')) {
        at(node, 'named prepared statement (pg)');
      }
    }
    if (ts.isPropertyAccessExpression(node) && node.name.text === '$transaction' && RUNTIME.test(file) && file !== 'lib/platform/db/transaction.ts') {
      at(node, '$transaction outside lib/platform/db/transaction.ts (inTransaction sets the timeouts through a pooler)');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('session state: the scanner itself (so this test can fail)', () => {
  const samples: Record<string, string> = {
    set: "db.$executeRawUnsafe('SET statement_timeout = 5000');",
    setTo: 'q(`SELECT 1; set search_path TO app`);',
    setSession: "q('SET SESSION lock_timeout = 100');",
    reset: "q('RESET statement_timeout');",
    setConfig: "q(`SELECT set_config('app.tenant', ${id}, false)`);",
    advisory: 'tx.$queryRaw`SELECT pg_try_advisory_lock(${key})`;',
    unlock: "q('SELECT pg_advisory_unlock(1)');",
    listen: "q('LISTEN appointment_changes');",
    prepare: "q('PREPARE slots AS SELECT 1');",
    named: "client.query({ name: 'slots', text: 'SELECT 1', values: [] });",
    temp: "q('CREATE TEMP TABLE t (id int)');",
    hold: "q('DECLARE c CURSOR WITH HOLD FOR SELECT 1');",
    transaction: 'await db.$transaction(async (tx) => tx.clinic.findMany());',
  };
  const harmless = [
    "q('UPDATE clinics SET name = $1 WHERE id = $2');",
    'q(`INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE\n  SET status = ${s}`);',
    "q(`SELECT set_config('statement_timeout', ${ms}, true)`);",
    "q('SELECT pg_advisory_xact_lock(1)'); q('SELECT pg_try_advisory_xact_lock(1, 2)');",
    "throw new Error('Set DIRECT_DATABASE_URL to the database itself');",
    "// SET statement_timeout = 1 in a comment\nconst x = 1;",
    "type T = Parameters<Db['$transaction']>[0];",
    "client.query({ text: 'SELECT 1', values: [] });",
  ];

  it.each(Object.entries(samples))('catches %s', (name, text) => {
    expect(scan(`lib/sample-${name}.ts`, text)).toHaveLength(1);
  });

  it('leaves transaction-scoped settings, row updates, prose and types alone', () => {
    expect(harmless.flatMap((text, i) => scan(`lib/harmless-${i}.ts`, text))).toEqual([]);
  });
});

describe('session state: the product source', () => {
  const files = productFiles();

  it('reads the real tree, the transaction helper and the migrator included', () => {
    expect(files).toEqual(expect.arrayContaining(['lib/platform/db/transaction.ts', 'lib/platform/db/migrator.ts', 'lib/platform/db/session-probe.ts', 'functions/http/health.ts', 'worker/main.ts', 'scripts/migrate.ts']));
    expect(files.filter((f) => f.startsWith(`${GENERATED}/`))).toEqual([]);
  });

  it('relies on no session state and opens every interactive transaction through inTransaction', () => {
    expect(files.flatMap((f) => scan(f, readFileSync(path.join(ROOT, f), 'utf8')))).toEqual([]);
  });

  it('lists no allowance that is not used', () => {
    for (const [file, whats] of Object.entries(ALLOWED)) {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      for (const what of whats) expect({ file, what, used: scanWithout(file, text).some((v) => v.endsWith(` ${what}`)) }).toEqual({ file, what, used: true });
    }
  });
});

/** `scan` with `file`'s allowance lifted. */
function scanWithout(file: string, text: string): string[] {
  const kept = ALLOWED[file];
  delete ALLOWED[file];
  try {
    return scan(file, text);
  } finally {
    if (kept) ALLOWED[file] = kept;
  }
}
