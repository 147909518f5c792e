/**
 * The migrated database must be exactly what prisma/schema.prisma describes.
 *
 * Migrations are hand-written SQL (docs/MIGRATIONS.md), so nothing else stops schema.prisma (which
 * the client is generated from) and the SQL from drifting apart. This test reads the catalog of the
 * database global-setup migrated and compares it, object by object and in both directions, with the
 * shape test/support/prisma-schema.ts derives from the schema: tables, columns (format_type, NULL,
 * whether there is a DEFAULT), primary keys, unique and normal indexes (columns, order, method),
 * foreign keys (columns, target, ON DELETE / ON UPDATE) and enums. Anything else the database holds
 * in the schema (check or exclusion constraints, triggers, views, functions, extensions, ...) must
 * be listed in ALLOWED_EXTRAS below.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import { migrate } from '../../lib/platform/db/migrator';
import { TEST_DATABASE_URL } from '../setup/test-env';
import {
  flattenShape,
  loadExpectedShape,
  type ColumnDefault,
  type ReferentialAction,
  type SchemaShape,
  type TableShape,
} from '../support/prisma-schema';

/**
 * Database objects that schema.prisma cannot express and that a migration adds on purpose, matched
 * by their exact key (the text before the colon in this test's failure output). Each entry needs a
 * reason. An entry is accepted only if the object exists in the database and is absent from the
 * schema, so a stale entry fails the test as well.
 *
 * Expected here soon: the no-double-booking rule, e.g.
 *   { key: 'extension btree_gist', reason: 'lets the exclusion constraint mix = on uuid with && on ranges' },
 *   { key: 'exclusion constraint appointments.appointments_no_overlap', reason: 'PostgreSQL itself refuses double booking' },
 * and possibly partial indexes (`index <table>.<name>` / `unique index <table>.<name>`).
 */
const ALLOWED_EXTRAS: readonly { key: string; reason: string }[] = [
  { key: 'extension btree_gist', reason: 'lets the exclusion constraint mix = on uuid with && on ranges' },
  {
    key: 'exclusion constraint appointments.appointments_no_overlap',
    reason: 'PostgreSQL itself refuses double booking of a professional (buffers included)',
  },
  { key: 'check constraint appointments.appointments_time_order', reason: 'an appointment ends after it starts; its block covers it' },
  {
    key: 'check constraint appointment_controls.appointment_controls_sessions_in_range',
    reason: 'a session package never goes below zero nor past its quota',
  },
  {
    key: 'check constraint renewal_requests.renewal_requests_values',
    reason: 'a renewal request has a known status and reason, and resolved_at exactly when it is no longer pending',
  },
  { key: 'check constraint working_hours.working_hours_interval', reason: 'a weekday 0-6 and an interval inside one day' },
  { key: 'check constraint time_off.time_off_time_order', reason: 'time off ends after it starts' },
  {
    key: 'check constraint clinics.clinics_auto_no_show_after_minutes_range',
    reason: 'the automatic no-show delay is off (null) or between 0 and 3 days',
  },
  {
    key: 'index outbox_events.outbox_events_unprocessed_idx',
    reason: 'partial (WHERE processed_at IS NULL): the relay re-drive reads only unprocessed events, however large the outbox grows',
  },
  {
    key: 'index notifications.notifications_unsent_email_idx',
    reason: 'expression and partial (pending e-mail): the stranded-send sweep reads only unsent e-mail, oldest due first',
  },
  {
    key: 'index professionals.professionals_slot_cache_stale_idx',
    reason: 'partial (marked only): each relay pass looks for professionals whose slot cache an outage left stale, normally none',
  },
  {
    key: 'index webhook_deliveries.webhook_deliveries_pending_idx',
    reason: 'expression and partial (pending): the stranded-send sweep reads only pending deliveries, by when each is due for a look',
  },
  {
    key: 'unique index data_keys.data_keys_one_active_idx',
    reason: 'partial (active only): one active data key per purpose, however many retired ones stay to open old values',
  },
  {
    key: 'check constraint patient_consents.patient_consents_values',
    reason: 'known channel, status, source and actor; a grant names its basis, never legitimate interest (no basis for health data)',
  },
  { key: 'function patient_consents_append_only()', reason: 'raises on any update: consent history is append-only' },
  { key: 'trigger patient_consents.patient_consents_no_update', reason: 'runs patient_consents_append_only() before every update' },
  {
    key: 'function patients_flags_to_consents()',
    reason: 'appends a consent record when a patient row is written with notify flags that differ from the current consent',
  },
  {
    key: 'trigger patients.patients_flags_to_consents',
    reason: 'keeps notify_email / notify_in_app and the consent history in step for every writer (API, seed, scripts)',
  },
  { key: 'check constraint clinics.clinics_retention_object', reason: 'retention settings are a JSON object of days per kind of record' },
  { key: 'index outbox_events.outbox_events_processed_idx', reason: 'partial (processed): the retention purge reads only events it may delete, per clinic, oldest first' },
  { key: 'index webhook_deliveries.webhook_deliveries_finished_idx', reason: 'partial (not pending): the retention purge reads only finished deliveries, per endpoint, oldest first' },
  { key: 'index webhook_attempts.webhook_attempts_details_idx', reason: 'partial (text not yet stripped): the retention purge skips attempts it already stripped' },
  { key: 'index notifications.notifications_errors_idx', reason: 'partial (with an error text): the retention purge reads only notices it may strip, per clinic' },
  { key: 'check constraint api_keys.api_keys_scopes_known', reason: 'a key holds at least one scope (never NULL), and only read, write or admin' },
  { key: 'check constraint audit_events.audit_events_values', reason: 'an audit event has a known actor type, action and resource type' },
  { key: 'function audit_events_append_only()', reason: 'refuses updates, truncation and deletes other than the retention purge and the clinic cascade' },
  { key: 'trigger audit_events.audit_events_append_only', reason: 'runs audit_events_append_only() before every update or delete' },
  { key: 'trigger audit_events.audit_events_no_truncate', reason: 'runs audit_events_append_only() before a truncate' },
  { key: 'function purge_audit_events(bigint[])', reason: 'the one way the retention purge deletes audit events' },
  { key: 'function audit_row_change()', reason: 'records a change of a patient, appointment, session package or consent in the audit trail' },
  { key: 'trigger patients.patients_audit', reason: 'audits inserts and deletes of patients' },
  { key: 'trigger patients.patients_audit_update', reason: 'audits real changes of patients (anonymise, block, unblock named)' },
  { key: 'trigger appointments.appointments_audit', reason: 'audits inserts and deletes of appointments' },
  { key: 'trigger appointments.appointments_audit_update', reason: 'audits real changes of appointments' },
  { key: 'trigger appointment_controls.appointment_controls_audit', reason: 'audits inserts and deletes of session packages' },
  { key: 'trigger appointment_controls.appointment_controls_audit_update', reason: 'audits real changes of session packages' },
  { key: 'trigger patient_consents.patient_consents_audit', reason: 'audits each consent recorded' },
];

const MIGRATIONS_DIR = path.join(__dirname, '..', '..', 'prisma', 'migrations');

/** Tables that belong to the migration machinery, not to the data model. */
const IGNORED_TABLES = ['_prisma_migrations'];

// ---------------------------------------------------------------------------------------------
// Reading the catalog
// ---------------------------------------------------------------------------------------------

const ACTION_CODES: Record<string, ReferentialAction> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

/** Objects created by an extension (pg_depend 'e') belong to the extension, not to our migrations. */
const NOT_FROM_EXTENSION = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${catalog}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;

/** Reads the current schema (public) of the connected database into the shape schema.prisma implies. */
async function readDatabaseShape(client: Client): Promise<SchemaShape> {
  const shape: SchemaShape = { tables: {}, enums: {}, otherObjects: {} };
  const table = (name: string) => shape.tables[name] as TableShape;

  const tables = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c
      WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
        AND NOT c.relispartition AND c.relname <> ALL($1) AND ${NOT_FROM_EXTENSION('pg_class', 'c.oid')}`,
    [IGNORED_TABLES],
  );
  for (const { name } of tables.rows) {
    shape.tables[name] = { columns: {}, primaryKey: null, uniqueIndexes: {}, indexes: {}, foreignKeys: {} };
  }
  const oids = `(SELECT oid FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relname = ANY($1))`;
  const names = [Object.keys(shape.tables)];

  // Enums are compared by type name (what the schema calls them); everything else by format_type().
  const columns = await client.query<{ table: string; name: string; type: string; nullable: boolean; default: ColumnDefault }>(
    `SELECT c.relname AS table, a.attname AS name,
            CASE WHEN t.typtype = 'e' THEN t.typname::text
                 WHEN e.typtype = 'e' THEN e.typname::text || '[]'
                 ELSE format_type(a.atttypid, a.atttypmod) END AS type,
            NOT a.attnotnull AS nullable,
            CASE WHEN a.attgenerated <> '' THEN 'generated' WHEN a.attidentity <> '' THEN 'identity'
                 WHEN a.atthasdef THEN 'value' ELSE 'none' END AS default
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
      WHERE a.attrelid IN ${oids} AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY c.relname, a.attnum`,
    names,
  );
  for (const c of columns.rows) table(c.table).columns[c.name] = { type: c.type, nullable: c.nullable, default: c.default };

  // Key columns by name (expressions as PostgreSQL prints them), with non-default order options.
  const indexes = await client.query<{
    table: string; name: string; primary: boolean; unique: boolean; method: string;
    columns: string[]; included: string[]; predicate: string | null;
  }>(
    `SELECT c.relname AS table, i.relname AS name, x.indisprimary AS primary, x.indisunique AS unique, am.amname AS method,
            ARRAY(SELECT CASE WHEN x.indkey[k] = 0 THEN pg_get_indexdef(x.indexrelid, k + 1, true)
                              ELSE (SELECT attname::text FROM pg_attribute WHERE attrelid = x.indrelid AND attnum = x.indkey[k]) END
                         || CASE x.indoption[k] & 3 WHEN 1 THEN ' DESC NULLS LAST' WHEN 2 THEN ' NULLS FIRST'
                                                    WHEN 3 THEN ' DESC' ELSE '' END
                    FROM generate_series(0, x.indnkeyatts - 1) AS k ORDER BY k) AS columns,
            ARRAY(SELECT attname::text FROM pg_attribute, generate_series(x.indnkeyatts, x.indnatts - 1) AS k
                   WHERE attrelid = x.indrelid AND attnum = x.indkey[k] ORDER BY k) AS included,
            pg_get_expr(x.indpred, x.indrelid, true) AS predicate
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
       JOIN pg_am am ON am.oid = i.relam
      WHERE x.indrelid IN ${oids} AND NOT x.indisexclusion`, // exclusion constraints are listed below
    names,
  );
  for (const i of indexes.rows) {
    const t = table(i.table);
    if (i.primary) {
      t.primaryKey = { name: i.name, columns: i.columns };
      continue;
    }
    // INCLUDE columns cannot be written in schema.prisma; showing them makes such an index differ.
    const columns = i.included.length ? [...i.columns, `INCLUDE ${i.included.join(', ')}`] : i.columns;
    (i.unique ? t.uniqueIndexes : t.indexes)[i.name] = { columns, method: i.method, predicate: i.predicate };
  }

  const constraints = await client.query<{
    table: string; name: string; type: string; definition: string;
    columns: string[]; target: string | null; target_columns: string[]; on_delete: string; on_update: string;
  }>(
    `SELECT c.relname AS table, k.conname AS name, k.contype AS type, pg_get_constraintdef(k.oid, true) AS definition,
            ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, o)
                    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.o) AS columns,
            f.relname AS target,
            ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, o)
                    JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.o) AS target_columns,
            k.confdeltype AS on_delete, k.confupdtype AS on_update
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_class f ON f.oid = k.confrelid
      WHERE k.conrelid IN ${oids} AND k.contype IN ('f', 'c', 'x', 't')`,
    names,
  );
  const kinds: Record<string, string> = { c: 'check constraint', x: 'exclusion constraint', t: 'constraint trigger' };
  for (const k of constraints.rows) {
    if (k.type !== 'f') {
      shape.otherObjects[`${kinds[k.type]} ${k.table}.${k.name}`] = k.definition;
      continue;
    }
    table(k.table).foreignKeys[k.name] = {
      columns: k.columns,
      referencedTable: k.target ?? '?',
      referencedColumns: k.target_columns,
      onDelete: ACTION_CODES[k.on_delete] as ReferentialAction,
      onUpdate: ACTION_CODES[k.on_update] as ReferentialAction,
    };
  }

  const enums = await client.query<{ name: string; labels: string[] }>(
    `SELECT t.typname AS name, ARRAY(SELECT enumlabel::text FROM pg_enum WHERE enumtypid = t.oid ORDER BY enumsortorder) AS labels
       FROM pg_type t WHERE t.typnamespace = current_schema()::regnamespace AND t.typtype = 'e'
        AND ${NOT_FROM_EXTENSION('pg_type', 't.oid')}`,
  );
  for (const e of enums.rows) shape.enums[e.name] = e.labels;

  // Everything else that can live in the schema and that Prisma would not have created.
  const others = await client.query<{ key: string; description: string }>(
    `SELECT CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' WHEN 'S' THEN 'sequence '
                           WHEN 'f' THEN 'foreign table ' ELSE 'composite type ' END || c.relname AS key,
            CASE WHEN c.relkind IN ('v', 'm') THEN regexp_replace(trim(pg_get_viewdef(c.oid, true)), '\\s+', ' ', 'g')
                 ELSE '(exists)' END AS description
       FROM pg_class c
      WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('v', 'm', 'S', 'f', 'c')
        AND ${NOT_FROM_EXTENSION('pg_class', 'c.oid')}
        -- sequences behind serial/identity columns show up as the column's DEFAULT/IDENTITY instead
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i'))
     UNION ALL
     SELECT 'trigger ' || c.relname || '.' || g.tgname, pg_get_triggerdef(g.oid, true)
       FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
      WHERE c.relnamespace = current_schema()::regnamespace AND NOT g.tgisinternal
     UNION ALL
     SELECT 'function ' || p.oid::regprocedure::text, 'returns ' || pg_get_function_result(p.oid)
       FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace AND ${NOT_FROM_EXTENSION('pg_proc', 'p.oid')}
     UNION ALL
     SELECT CASE t.typtype WHEN 'd' THEN 'domain ' ELSE 'range type ' END || t.typname,
            CASE t.typtype WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod) ELSE '(exists)' END
       FROM pg_type t WHERE t.typnamespace = current_schema()::regnamespace AND t.typtype IN ('d', 'r')
        AND ${NOT_FROM_EXTENSION('pg_type', 't.oid')}
     UNION ALL
     SELECT 'extension ' || x.extname, 'version ' || x.extversion FROM pg_extension x WHERE x.extname <> 'plpgsql'`,
  );
  for (const o of others.rows) shape.otherObjects[o.key] = o.description;
  return shape;
}

// ---------------------------------------------------------------------------------------------
// Comparing
// ---------------------------------------------------------------------------------------------

/**
 * Every way the database differs from the schema, one readable line each (empty when they match),
 * after removing the allow-listed extras. An allow-list entry that matches nothing, or that names
 * an object the schema does declare, is a difference too.
 */
function compareShapes(
  expected: SchemaShape,
  actual: SchemaShape,
  allowed: readonly { key: string }[] = ALLOWED_EXTRAS,
): string[] {
  const want = flattenShape(expected);
  const have = flattenShape(actual);
  const problems: string[] = [];
  for (const { key } of allowed) {
    if (want.has(key)) problems.push(`allow-listed but declared in schema.prisma: ${key}`);
    else if (!have.delete(key)) problems.push(`allow-listed but not in the database:  ${key}`);
  }
  for (const [key, description] of want) {
    const found = have.get(key);
    if (found === undefined) problems.push(`missing from the database:  ${key}: ${description}`);
    else if (found !== description) {
      problems.push(`differs:                    ${key}\n    schema.prisma: ${description}\n    database:      ${found}`);
    }
  }
  for (const [key, description] of have) {
    if (!want.has(key)) problems.push(`not in schema.prisma:       ${key}: ${description}`);
  }
  return problems;
}

function report(problems: string[], databaseUrl: string): string {
  return (
    `The migrated database (${new URL(databaseUrl).pathname.slice(1)}) does not match prisma/schema.prisma:\n\n` +
    problems.map((p) => `  ${p}`).join('\n') +
    `\n\nFix the migration SQL or the schema (docs/MIGRATIONS.md). An object schema.prisma cannot express ` +
    `goes into ALLOWED_EXTRAS in test/integration/schema-match.test.ts, with a reason.`
  );
}

async function withClient<T>(databaseUrl: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('migrated database vs prisma/schema.prisma', () => {
  it('matches exactly, in both directions', async () => {
    const expected = loadExpectedShape();
    const actual = await withClient(TEST_DATABASE_URL, readDatabaseShape);
    const problems = compareShapes(expected, actual);
    if (problems.length) throw new Error(report(problems, TEST_DATABASE_URL));
    // Guard against a vacuous pass (e.g. an empty schema read from the wrong place).
    expect(Object.keys(expected.tables).length).toBeGreaterThan(0);
  });

  it('gives every allow-listed extra a reason and lists each once', () => {
    for (const entry of ALLOWED_EXTRAS) expect(entry.reason.trim()).not.toBe('');
    expect(new Set(ALLOWED_EXTRAS.map((e) => e.key)).size).toBe(ALLOWED_EXTRAS.length);
  });

  describe('detects drift (scratch database)', () => {
    const name = `agenda_scratch_schema_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const url = databaseUrl(name);

    beforeAll(async () => {
      await migrate({ databaseUrl: url, migrationsDir: MIGRATIONS_DIR, createDatabase: true });
    });

    afterAll(async () => {
      await withClient(databaseUrl('postgres'), (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    });

    it('starts from a match', async () => {
      expect(compareShapes(loadExpectedShape(), await withClient(url, readDatabaseShape))).toEqual([]);
    });

    it('reports each kind of difference, and allows exactly the allow-listed extras', async () => {
      const expected = loadExpectedShape();
      // Pick real objects from the schema so this keeps working as the model grows.
      // A NOT NULL column outside the primary key (PostgreSQL refuses DROP NOT NULL on a key column).
      const nullable = (tbl: TableShape) =>
        Object.entries(tbl.columns).find(([name, c]) => !c.nullable && !tbl.primaryKey?.columns.includes(name))?.[0];
      const [tableName, t] = Object.entries(expected.tables).find(
        ([, tbl]) => nullable(tbl) && Object.keys(tbl.indexes).length > 0,
      ) ?? fail('the schema needs a table with a NOT NULL non-key column and an index for this test');
      const column = nullable(t) as string;
      const [index] = Object.keys(t.indexes) as [string];
      const q = (id: string) => `"${id.replaceAll('"', '""')}"`;

      await withClient(url, async (c) => {
        await c.query(`ALTER TABLE ${q(tableName)} ALTER COLUMN ${q(column)} DROP NOT NULL`);
        await c.query(`ALTER TABLE ${q(tableName)} ADD COLUMN stray_column integer`);
        await c.query(`DROP INDEX ${q(index)}`);
        await c.query(`ALTER TABLE ${q(tableName)} ADD CONSTRAINT stray_check CHECK (stray_column > 0)`);
      });
      const actual = await withClient(url, readDatabaseShape);
      const problems = compareShapes(expected, actual, ALLOWED_EXTRAS);

      expect(problems).toHaveLength(4);
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(new RegExp(`^differs: +column ${tableName}\\.${column}\\n.*NOT NULL.*\\n.* NULL`)),
          `not in schema.prisma:       column ${tableName}.stray_column: integer NULL`,
          expect.stringMatching(new RegExp(`^missing from the database:  index ${tableName}\\.${index}: `)),
          `not in schema.prisma:       check constraint ${tableName}.stray_check: CHECK (stray_column > 0)`,
        ]),
      );
      // The failure message names every problem.
      expect(report(problems, url)).toContain(`column ${tableName}.stray_column`);

      // Allow-listing an extra accepts exactly that object...
      const allowCheck = [...ALLOWED_EXTRAS, { key: `check constraint ${tableName}.stray_check` }];
      expect(compareShapes(expected, actual, allowCheck)).toHaveLength(3);
      // ...and a stale entry, or one that hides a declared object, is reported.
      expect(compareShapes(expected, actual, [...allowCheck, { key: 'exclusion constraint nowhere.none' }])).toContain(
        'allow-listed but not in the database:  exclusion constraint nowhere.none',
      );
      expect(compareShapes(expected, actual, [{ key: `table ${tableName}` }])).toContain(
        `allow-listed but declared in schema.prisma: table ${tableName}`,
      );
    });
  });
});

function fail(message: string): never {
  throw new Error(message);
}
