import type { Tx } from '../../platform/db/transaction';
import { CONSENT_CHANNELS, type ConsentChannel, type ConsentSource, type ConsentStatus } from './bases';

/** Anything that runs raw SQL: the client or a transaction. */
export type SqlRunner = Pick<Tx, '$queryRaw'>;

/** One row of a patient's consent history, as the API and the export show it. */
export interface ConsentRecord {
  id: string;
  channel: ConsentChannel;
  status: ConsentStatus;
  basis: string | null;
  actorType: string;
  actorId: string | null;
  source: ConsentSource;
  at: string;
}

/** The latest record of each channel; null for a channel never recorded. */
export type CurrentConsents = Record<ConsentChannel, ConsentRecord | null>;

interface Row {
  id: string;
  channel: ConsentChannel;
  status: ConsentStatus;
  basis: string | null;
  actor_type: string;
  actor_id: string | null;
  source: ConsentSource;
  created_at: Date;
}

const toRecord = (r: Row): ConsentRecord => ({
  id: r.id,
  channel: r.channel,
  status: r.status,
  basis: r.basis,
  actorType: r.actor_type,
  actorId: r.actor_id,
  source: r.source,
  at: r.created_at.toISOString(),
});

/** Every record of a patient, oldest first (the history is append-only). */
export async function consentHistory(db: SqlRunner, patientId: string): Promise<ConsentRecord[]> {
  const rows = await db.$queryRaw<Row[]>`
    SELECT id::text, channel, status, basis, actor_type, actor_id, source, created_at
    FROM patient_consents WHERE patient_id = ${patientId}::uuid ORDER BY id`;
  return rows.map(toRecord);
}

/** The current state of every channel: the latest row per channel, by id (ties impossible). */
export async function currentConsents(db: SqlRunner, patientId: string): Promise<CurrentConsents> {
  const rows = await db.$queryRaw<Row[]>`
    SELECT DISTINCT ON (channel) id::text, channel, status, basis, actor_type, actor_id, source, created_at
    FROM patient_consents WHERE patient_id = ${patientId}::uuid ORDER BY channel, id DESC`;
  const out = Object.fromEntries(CONSENT_CHANNELS.map((c) => [c, null])) as CurrentConsents;
  for (const r of rows) out[r.channel] = toRecord(r);
  return out;
}

/** Whether notices may go out on a channel now: its latest record is a grant. */
export async function hasGrantedConsent(db: SqlRunner, patientId: string, channel: ConsentChannel): Promise<boolean> {
  const rows = await db.$queryRaw<{ status: string }[]>`
    SELECT status FROM patient_consents WHERE patient_id = ${patientId}::uuid AND channel = ${channel}
    ORDER BY id DESC LIMIT 1`;
  return rows[0]?.status === 'granted';
}

/** Who records a consent change: the trigger on patients reads the same settings. */
export interface ConsentActor {
  type: 'api_key' | 'admin' | 'patient' | 'migration' | 'system';
  id: string | null;
}

/**
 * Names the actor (and, for grants written by the patients trigger, the basis) for the rest of the
 * transaction: `set_config(..., true)` ends with it, so pooled connections carry nothing over.
 */
export async function actAs(tx: SqlRunner, actor: ConsentActor, basis: string | null = null): Promise<void> {
  await tx.$queryRaw`SELECT set_config('agenda.consent_actor_type', ${actor.type}, true),
                            set_config('agenda.consent_actor_id', ${actor.id ?? ''}, true),
                            set_config('agenda.consent_basis', ${basis ?? ''}, true)`;
}

/** Appends one record; returns it. */
export async function appendConsent(
  tx: SqlRunner,
  row: { clinicId: string; patientId: string; channel: ConsentChannel; status: ConsentStatus; basis: string | null; actor: ConsentActor; source: ConsentSource },
): Promise<ConsentRecord> {
  const [inserted] = await tx.$queryRaw<Row[]>`
    INSERT INTO patient_consents (clinic_id, patient_id, channel, status, basis, actor_type, actor_id, source)
    VALUES (${row.clinicId}::uuid, ${row.patientId}::uuid, ${row.channel}, ${row.status}, ${row.basis},
            ${row.actor.type}, ${row.actor.id}, ${row.source})
    RETURNING id::text, channel, status, basis, actor_type, actor_id, source, created_at`;
  return toRecord(inserted!);
}
