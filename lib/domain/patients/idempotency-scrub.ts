import type { Tx } from '../../platform/db/transaction';

/** The name an anonymised patient keeps, so lists and exports still read as a person's record. */
export const ANONYMOUS_NAME = 'Paciente anonimizado';

/** Fields of any answer that hold a patient's personal data or free text about them. */
const ERASED_KEYS = new Set(['email', 'phone', 'birthDate', 'notes', 'cancelReason']);

/**
 * A stored answer with the patient's personal data erased: contact fields, birth date and free text
 * become null, the patient's own name the placeholder; ids, statuses and times stay, so a replay
 * still tells the client what happened. A body that is not JSON is emptied.
 */
export function scrubResponseBody(body: string, patientId: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return '';
  }
  // `inHistory`: an appointment's history entries, whose `reason` is free text (elsewhere a code).
  const walk = (v: unknown, inHistory = false): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, inHistory));
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
      if (ERASED_KEYS.has(k) || (inHistory && k === 'reason')) out[k] = null;
      else if (k === 'name' && o.id === patientId) out[k] = ANONYMOUS_NAME;
      else out[k] = walk(x, k === 'history');
    }
    return out;
  };
  return JSON.stringify(walk(parsed));
}

/**
 * Rewrites the stored answers (idempotency_keys.response_body) of the clinic's requests that concern
 * the patient: a path or an answer naming the patient's id (the patient's own routes, bookings,
 * packages, consents). The rows stay, so a retry with the same key still replays instead of running
 * the request again (a second booking). Returns how many were rewritten.
 */
export async function scrubIdempotencyBodies(tx: Tx, clinicId: string, patientId: string): Promise<number> {
  const pattern = `%${patientId}%`;
  const rows = await tx.$queryRaw<{ id: string; response_body: { body?: string; headers?: Record<string, string> } }[]>`
    SELECT id::text, response_body FROM idempotency_keys
    WHERE clinic_id = ${clinicId}::uuid AND response_body IS NOT NULL
      AND (path LIKE ${pattern} OR response_body::text LIKE ${pattern})
    FOR UPDATE`;
  for (const row of rows) {
    const stored = { ...row.response_body, body: scrubResponseBody(row.response_body.body ?? '', patientId) };
    await tx.$executeRaw`UPDATE idempotency_keys SET response_body = ${JSON.stringify(stored)}::jsonb WHERE id = ${row.id}::uuid`;
  }
  return rows.length;
}
