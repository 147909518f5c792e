/**
 * The PostgreSQL shape that `prisma/schema.prisma` implies, derived from Prisma's own parser.
 *
 * Migrations here are hand-written SQL (docs/MIGRATIONS.md says why), so nothing but a test keeps
 * them in step with the schema the Prisma client is generated from. This module computes what
 * `prisma migrate dev` would have created; test/integration/schema-match.test.ts reads the migrated
 * catalog into the same {@link SchemaShape} and compares the two with {@link flattenShape}.
 *
 * The schema is parsed by `@prisma/prisma-schema-wasm` (the parser the Prisma CLI itself uses), never
 * by regular expressions, so the test sees the same `@map`s, native types and defaults the client
 * does. The one exception is `@relation(map: ...)`, which the DMMF does not carry (see
 * {@link relationConstraintNames}).
 *
 * Scope: models in the default schema, scalar and enum fields, ids, `@unique`/`@@unique`,
 * `@@index` (columns, sort order, index method), foreign keys with their referential actions, enums.
 * Not compared: default *expressions* (only whether the column has a database default), operator
 * classes, comments. Features this module cannot map (implicit many-to-many, `@@schema`, an unknown
 * native type) throw instead of being skipped, so an unsupported schema fails loudly.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { get_dmmf } from '@prisma/prisma-schema-wasm';

/** Where the schema lives, relative to this file. */
export const SCHEMA_PATH = path.join(__dirname, '..', '..', 'prisma', 'schema.prisma');

/** PostgreSQL's NAMEDATALEN - 1: identifiers longer than this are truncated by the server. */
const PG_MAX_IDENTIFIER = 63;

// ---------------------------------------------------------------------------------------------
// The shape both sides are reduced to
// ---------------------------------------------------------------------------------------------

/** How a column gets a value when an INSERT omits it. */
export type ColumnDefault = 'none' | 'value' | 'identity' | 'generated';

export interface ColumnShape {
  /** Exactly what PostgreSQL's `format_type()` prints, e.g. `timestamp(3) with time zone`; enums by type name. */
  type: string;
  nullable: boolean;
  default: ColumnDefault;
}

export interface IndexShape {
  /** Key columns in order; `col DESC` for descending ones; expressions as PostgreSQL prints them. */
  columns: string[];
  /** Access method: btree, hash, gist, gin, spgist, brin. */
  method: string;
  /** WHERE clause of a partial index, as `pg_get_expr` prints it; null when the index is total. */
  predicate: string | null;
}

/** ON DELETE / ON UPDATE actions, spelled as in SQL. */
export type ReferentialAction = 'CASCADE' | 'RESTRICT' | 'NO ACTION' | 'SET NULL' | 'SET DEFAULT';

export interface ForeignKeyShape {
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: ReferentialAction;
  onUpdate: ReferentialAction;
}

export interface TableShape {
  columns: Record<string, ColumnShape>;
  primaryKey: { name: string; columns: string[] } | null;
  /** Unique indexes and UNIQUE constraints alike (Prisma creates indexes), keyed by name. */
  uniqueIndexes: Record<string, IndexShape>;
  /** Non-unique indexes, keyed by name. */
  indexes: Record<string, IndexShape>;
  foreignKeys: Record<string, ForeignKeyShape>;
}

export interface SchemaShape {
  tables: Record<string, TableShape>;
  /** Enum type name -> labels (compared as a set, see flattenShape). */
  enums: Record<string, string[]>;
  /**
   * Objects Prisma cannot express (check and exclusion constraints, triggers, views, functions,
   * extensions...), already flattened to `key -> description`. Always empty on the schema side;
   * the database side fills it so that such objects must be allow-listed explicitly.
   */
  otherObjects: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// The subset of Prisma's DMMF read here (checked against prisma-schema-wasm 7.10)
// ---------------------------------------------------------------------------------------------

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  type: string;
  nativeType: [string, string[]] | null;
  isList: boolean;
  isRequired: boolean;
  hasDefaultValue: boolean;
  /** A literal (enum value, number, string...) or a function call such as `now()`. */
  default?: unknown;
  relationName?: string;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}

interface DmmfModel {
  name: string;
  dbName: string | null;
  schema: string | null;
  fields: DmmfField[];
}

interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string | null;
  algorithm?: string;
  fields: { name: string; sortOrder?: 'asc' | 'desc'; operatorClass?: string }[];
}

interface DmmfEnum {
  name: string;
  dbName: string | null;
  values: { name: string; dbName: string | null }[];
}

export interface Datamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  indexes: DmmfIndex[];
}

/** Parses schema text with Prisma's own parser (throws Prisma's validation errors verbatim). */
export function parseDatamodel(schemaText: string): Datamodel {
  const dmmf = JSON.parse(get_dmmf(JSON.stringify({ prismaSchema: schemaText }))) as { datamodel: Datamodel };
  return dmmf.datamodel;
}

// ---------------------------------------------------------------------------------------------
// Types: Prisma scalar (+ @db native type) -> PostgreSQL format_type() text
// ---------------------------------------------------------------------------------------------

/** What Prisma creates for a scalar without `@db.*` on PostgreSQL. */
const DEFAULT_TYPES: Record<string, string> = {
  String: 'text',
  Boolean: 'boolean',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

/** `@db.X(args)` -> format_type() text. Arguments are the DMMF's strings, e.g. ["10", "2"]. */
const NATIVE_TYPES: Record<string, (args: string[]) => string> = {
  SmallInt: () => 'smallint',
  Integer: () => 'integer',
  BigInt: () => 'bigint',
  Oid: () => 'oid',
  Real: () => 'real',
  DoublePrecision: () => 'double precision',
  Decimal: (a) => (a.length ? `numeric(${a.join(',')})` : 'numeric'),
  Money: () => 'money',
  Text: () => 'text',
  // `CHAR` without a length is CHAR(1) in PostgreSQL.
  Char: (a) => `character(${a[0] ?? '1'})`,
  VarChar: (a) => (a.length ? `character varying(${a[0]})` : 'character varying'),
  Citext: () => 'citext',
  Uuid: () => 'uuid',
  Inet: () => 'inet',
  Xml: () => 'xml',
  Json: () => 'json',
  JsonB: () => 'jsonb',
  ByteA: () => 'bytea',
  Boolean: () => 'boolean',
  Bit: (a) => `bit(${a[0] ?? '1'})`,
  VarBit: (a) => (a.length ? `bit varying(${a[0]})` : 'bit varying'),
  Date: () => 'date',
  // Without a precision PostgreSQL keeps 6 digits and format_type omits the "(p)".
  Timestamp: (a) => timeType('timestamp', a, false),
  Timestamptz: (a) => timeType('timestamp', a, true),
  Time: (a) => timeType('time', a, false),
  Timetz: (a) => timeType('time', a, true),
};

function timeType(base: string, args: string[], withTz: boolean): string {
  return `${base}${args.length ? `(${args[0]})` : ''} ${withTz ? 'with' : 'without'} time zone`;
}

function columnType(model: DmmfModel, field: DmmfField, enums: Map<string, string>): string {
  let base: string;
  if (field.kind === 'enum') {
    base = enums.get(field.type) ?? fail(`${model.name}.${field.name}: unknown enum ${field.type}`);
  } else if (field.nativeType) {
    const [native, args] = field.nativeType;
    const render = NATIVE_TYPES[native] ?? fail(`${model.name}.${field.name}: no mapping for @db.${native}; add it to NATIVE_TYPES`);
    base = render(args);
  } else {
    base = DEFAULT_TYPES[field.type] ?? fail(`${model.name}.${field.name}: no mapping for scalar type ${field.type}`);
  }
  return field.isList ? `${base}[]` : base;
}

/**
 * Whether Prisma gives the column a database DEFAULT. `uuid()`, `cuid()`, `nanoid()` and `ulid()`
 * are generated by the client, and `@updatedAt` alone sets no default; `dbgenerated()` without an
 * expression means "the database does something Prisma does not describe", which we treat as none.
 */
function columnDefault(field: DmmfField): ColumnDefault {
  if (!field.hasDefaultValue) return 'none';
  const d = field.default;
  if (d && typeof d === 'object' && !Array.isArray(d) && 'name' in d) {
    const call = d as { name: string; args: unknown[] };
    if (['uuid', 'cuid', 'nanoid', 'ulid'].includes(call.name)) return 'none';
    if (call.name === 'dbgenerated' && call.args.length === 0) return 'none';
  }
  return 'value';
}

// ---------------------------------------------------------------------------------------------
// Names: Prisma's defaults when no `map:` is given
// ---------------------------------------------------------------------------------------------

/**
 * Prisma's default constraint names (psl-core `ConstraintNames`): `<table>_pkey`,
 * `<table>_<cols>_key`, `<table>_<cols>_idx`, `<table>_<cols>_fkey`, always built from database
 * names, with the `<table>[_<cols>]` part cut so the result fits PostgreSQL's 63 bytes.
 */
export function defaultConstraintName(table: string, columns: string[], suffix: 'pkey' | 'key' | 'idx' | 'fkey'): string {
  const stem = suffix === 'pkey' ? table : `${table}_${columns.join('_')}`;
  const room = PG_MAX_IDENTIFIER - (suffix.length + 1);
  return `${truncateUtf8(stem, room)}_${suffix}`;
}

/** Cuts to at most `maxBytes` UTF-8 bytes without splitting a character (Prisma's floor_char_boundary). */
function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > maxBytes) break;
    out += ch;
  }
  return out;
}

/**
 * `@relation(..., map: "name")` per `Model.field`. The DMMF drops this argument, so it is read from
 * the schema text: one field per line is Prisma's grammar, and `map:` inside `@relation(...)` can
 * only be the constraint name.
 */
function relationConstraintNames(schemaText: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const block of schemaText.matchAll(/^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm)) {
    for (const line of (block[2] ?? '').split('\n')) {
      const m = /^\s*(\w+)\s.*@relation\(([^)]*)\)/.exec(line);
      const map = m && /\bmap\s*:\s*"([^"]+)"/.exec(m[2] ?? '');
      if (m && map) names.set(`${block[1]}.${m[1]}`, map[1] as string);
    }
  }
  return names;
}

const ACTIONS: Record<string, ReferentialAction> = {
  Cascade: 'CASCADE',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetNull: 'SET NULL',
  SetDefault: 'SET DEFAULT',
};

// ---------------------------------------------------------------------------------------------
// Datamodel -> SchemaShape
// ---------------------------------------------------------------------------------------------

/** Loads `schema.prisma` (or the given file) and returns the shape its migrations must produce. */
export function loadExpectedShape(schemaPath: string = SCHEMA_PATH): SchemaShape {
  const text = readFileSync(schemaPath, 'utf8');
  return expectedShape(parseDatamodel(text), relationConstraintNames(text));
}

export function expectedShape(dm: Datamodel, relationMaps: Map<string, string> = new Map()): SchemaShape {
  const tableOf = (model: DmmfModel) => model.dbName ?? model.name;
  const models = new Map(dm.models.map((m) => [m.name, m]));
  const columnOf = (model: DmmfModel, fieldName: string) => {
    const field = model.fields.find((f) => f.name === fieldName) ?? fail(`${model.name}: no field ${fieldName}`);
    return field.dbName ?? field.name;
  };
  const enumTypes = new Map(dm.enums.map((e) => [e.name, e.dbName ?? e.name]));

  const shape: SchemaShape = { tables: {}, enums: {}, otherObjects: {} };
  for (const e of dm.enums) shape.enums[e.dbName ?? e.name] = e.values.map((v) => v.dbName ?? v.name);

  for (const model of dm.models) {
    if (model.schema) fail(`${model.name}: @@schema is not supported by test/support/prisma-schema.ts`);
    const table = tableOf(model);
    const t: TableShape = { columns: {}, primaryKey: null, uniqueIndexes: {}, indexes: {}, foreignKeys: {} };
    shape.tables[table] = t;

    for (const field of model.fields) {
      if (field.kind === 'object') {
        if (field.relationFromFields?.length) t.foreignKeys[fkName(model, field)] = foreignKey(model, field);
        else if (field.isList && isImplicitManyToMany(field)) {
          fail(`${model.name}.${field.name}: implicit many-to-many is not supported here; use an explicit join model`);
        }
        continue;
      }
      // Lists are nullable arrays in Prisma's DDL (`"tags" TEXT[]`), whatever isRequired says.
      t.columns[field.dbName ?? field.name] = {
        type: columnType(model, field, enumTypes),
        nullable: field.isList || !field.isRequired,
        default: columnDefault(field),
      };
    }
  }

  for (const index of dm.indexes) {
    const model = models.get(index.model) ?? fail(`index on unknown model ${index.model}`);
    const table = tableOf(model);
    const t = shape.tables[table] as TableShape;
    const cols = index.fields.map((f) => columnOf(model, f.name));
    if (index.type === 'id') {
      t.primaryKey = { name: index.dbName ?? defaultConstraintName(table, cols, 'pkey'), columns: cols };
      continue;
    }
    if (index.type === 'fulltext') fail(`${model.name}: @@fulltext does not exist on PostgreSQL`);
    const shapeOf: IndexShape = {
      columns: index.fields.map((f, i) => (f.sortOrder === 'desc' ? `${cols[i]} DESC` : (cols[i] as string))),
      method: (index.algorithm ?? 'BTree').toLowerCase(),
      predicate: null,
    };
    if (index.type === 'unique') t.uniqueIndexes[index.dbName ?? defaultConstraintName(table, cols, 'key')] = shapeOf;
    else t.indexes[index.dbName ?? defaultConstraintName(table, cols, 'idx')] = shapeOf;
  }
  return shape;

  function fkName(model: DmmfModel, field: DmmfField): string {
    const cols = (field.relationFromFields ?? []).map((f) => columnOf(model, f));
    return relationMaps.get(`${model.name}.${field.name}`) ?? defaultConstraintName(tableOf(model), cols, 'fkey');
  }

  function foreignKey(model: DmmfModel, field: DmmfField): ForeignKeyShape {
    const target = models.get(field.type) ?? fail(`${model.name}.${field.name}: unknown model ${field.type}`);
    // Prisma's defaults: onDelete Restrict for a required relation, SetNull for an optional one;
    // onUpdate Cascade. The DMMF only lists actions that were written in the schema.
    return {
      columns: (field.relationFromFields ?? []).map((f) => columnOf(model, f)),
      referencedTable: tableOf(target),
      referencedColumns: (field.relationToFields ?? []).map((f) => columnOf(target, f)),
      onDelete: ACTIONS[field.relationOnDelete ?? (field.isRequired ? 'Restrict' : 'SetNull')] as ReferentialAction,
      onUpdate: ACTIONS[field.relationOnUpdate ?? 'Cascade'] as ReferentialAction,
    };
  }

  function isImplicitManyToMany(field: DmmfField): boolean {
    const other = models.get(field.type)?.fields.find((f) => f.relationName === field.relationName && f !== field);
    return !!other?.isList;
  }
}

// ---------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------

/**
 * Reduces a shape to `key -> description`, one entry per database object, so two shapes compare
 * entry by entry and a difference reads as one line. Keys name the object and its table, e.g.
 * `column clinics.time_zone` or `index api_keys.api_keys_clinic_id_idx`; these are also the names
 * an allow-list uses.
 */
export function flattenShape(shape: SchemaShape): Map<string, string> {
  const out = new Map<string, string>();
  const idx = (i: IndexShape) => `${i.method} (${i.columns.join(', ')})${i.predicate ? ` WHERE ${i.predicate}` : ''}`;
  for (const [table, t] of Object.entries(shape.tables)) {
    out.set(`table ${table}`, 'table');
    for (const [name, c] of Object.entries(t.columns)) {
      const dflt = c.default === 'none' ? '' : c.default === 'value' ? ' DEFAULT' : ` ${c.default.toUpperCase()}`;
      out.set(`column ${table}.${name}`, `${c.type} ${c.nullable ? 'NULL' : 'NOT NULL'}${dflt}`);
    }
    if (t.primaryKey) out.set(`primary key ${table}.${t.primaryKey.name}`, `(${t.primaryKey.columns.join(', ')})`);
    for (const [name, i] of Object.entries(t.uniqueIndexes)) out.set(`unique index ${table}.${name}`, idx(i));
    for (const [name, i] of Object.entries(t.indexes)) out.set(`index ${table}.${name}`, idx(i));
    for (const [name, fk] of Object.entries(t.foreignKeys)) {
      out.set(
        `foreign key ${table}.${name}`,
        `(${fk.columns.join(', ')}) -> ${fk.referencedTable}(${fk.referencedColumns.join(', ')}) ` +
          `ON DELETE ${fk.onDelete} ON UPDATE ${fk.onUpdate}`,
      );
    }
  }
  // Labels as a set: Prisma's own SQL appends a new value (`ALTER TYPE ... ADD VALUE`) wherever the
  // schema lists it, so the database order legitimately differs from the schema's.
  for (const [name, labels] of Object.entries(shape.enums)) out.set(`enum ${name}`, [...labels].sort().join(', '));
  for (const [key, description] of Object.entries(shape.otherObjects)) out.set(key, description);
  return out;
}

function fail(message: string): never {
  throw new Error(`prisma-schema: ${message}`);
}
