import { getDb } from '../../platform/db/client';
import { inTransaction } from '../../platform/db/transaction';
import { NotFoundError } from '../../platform/errors/app-error';
import { requestKeySocketsClose } from '../realtime/key-sockets';
import { publishEvents, recordEvent } from '../events/outbox';
import { effectiveRetention, mergeRetention } from '../retention/policy';
import { createApiKey } from './api-keys';
import { BOOTSTRAP_SCOPES } from './scopes';
import type { UpdateClinicInput } from './schemas';

export interface NewClinic {
  name: string;
  timeZone: string;
  reminderOffsetsMinutes?: number[];
}

/**
 * Creates a clinic and its first API key in one transaction; the key is returned once. It is the
 * operator's bootstrap, so the key holds every scope (admin included): it mints the clinic's others.
 */
export async function createClinic(input: NewClinic, keyName = 'default') {
  return inTransaction(async (tx) => {
    const clinic = await tx.clinic.create({ data: input });
    const apiKey = await createApiKey(tx, clinic.id, keyName, BOOTSTRAP_SCOPES);
    return { clinic, apiKey };
  });
}

const sortedKey = (offsets: number[]) => [...new Set(offsets)].sort((x, y) => x - y).join();
const sameOffsets = (a: number[], b: number[]) => sortedKey(a) === sortedKey(b);

/**
 * Changes the clinic's settings, with a `clinic.updated` event in the same transaction. Changed
 * reminder offsets apply to every upcoming appointment: the worker re-syncs their reminders when it
 * processes the event, and a reminder already queued for an offset no longer listed is skipped when
 * it comes due (lib/domain/reminders).
 */
export async function updateClinic(clinicId: string, input: UpdateClinicInput) {
  const eventId = await inTransaction(async (tx) => {
    // Locked, so two concurrent changes each compare with what the other committed.
    const [before] = await tx.$queryRaw<{ reminderOffsetsMinutes: number[]; retention: unknown }[]>`
      SELECT reminder_offsets_minutes AS "reminderOffsetsMinutes", retention FROM clinics WHERE id = ${clinicId}::uuid FOR UPDATE`;
    if (!before) throw new NotFoundError('Clinic not found');
    // Retention settings merge into the stored ones: a PATCH names only those it changes.
    const { retention, ...settings } = input;
    const data = { ...settings, ...(retention && { retention: mergeRetention(before.retention, retention) }) };
    const after = await tx.clinic.update({ where: { id: clinicId }, data, select: { reminderOffsetsMinutes: true } });
    return recordEvent(tx, {
      clinicId,
      type: 'clinic.updated',
      aggregateId: clinicId,
      payload: {
        fields: Object.keys(input).sort().join(','),
        reminderOffsetsChanged: !sameOffsets(before.reminderOffsetsMinutes, after.reminderOffsetsMinutes),
      },
    });
  });
  await publishEvents([eventId]);
  return getClinic(clinicId);
}

/** The clinic, with every retention setting resolved (its own choice, else the default). */
export async function getClinic(clinicId: string) {
  const db = await getDb();
  const clinic = await db.clinic.findUnique({ where: { id: clinicId } });
  if (!clinic) throw new NotFoundError('Clinic not found');
  return { ...clinic, retention: effectiveRetention(clinic.retention) };
}

/** The clinic's keys, without secrets. */
export async function listApiKeys(clinicId: string) {
  const db = await getDb();
  return db.apiKey.findMany({
    where: { clinicId },
    select: { id: true, name: true, prefix: true, scopes: true, createdAt: true, lastUsedAt: true, revokedAt: true },
    orderBy: { createdAt: 'asc' },
  });
}

/**
 * Revokes one of the clinic's keys (another clinic's key id is "not found"; revoking twice is
 * fine). It takes effect at once everywhere, sockets included: `$connect` and every socket message
 * check the key, and pushes skip its sockets. Closing those sockets is queued for the worker
 * (`sockets.close_for_key`) rather than done here, so the request stays fast and a failed close is
 * retried; if even the enqueue fails (Redis down) the revoke still succeeds and the socket sweep
 * closes them.
 */
export async function revokeApiKey(clinicId: string, keyId: string): Promise<void> {
  const db = await getDb();
  const { count } = await db.apiKey.updateMany({
    where: { id: keyId, clinicId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  if (count === 0) {
    const exists = await db.apiKey.count({ where: { id: keyId, clinicId } });
    if (!exists) throw new NotFoundError('API key not found');
  }
  await requestKeySocketsClose(keyId);
}
