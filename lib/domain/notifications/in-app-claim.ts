import type { Tx } from '../../platform/db/transaction';
import { gateReason } from './consent-rule';
import { staleReason } from './stale';

/** One in-app notice under its row lock, with what the stale rule and the push need. */
export interface Claimed {
  id: string;
  kind: string;
  appointmentId: string | null;
  controlId: string | null;
  /** The appointment's professional, else the session package's, else null. */
  professionalId: string | null;
  /** What the notice recorded, and its subject now (null when gone), for the stale rule. */
  startsAt: Date | null;
  appointmentStatus: string | null;
  appointmentStartsAt: Date | null;
  controlStatus: string | null;
  /** The patient as of the lock: anonymised, blocked, in-app consent granted (see ./consent-rule). */
  patientAnonymized: boolean;
  patientBlocked: boolean;
  consentGranted: boolean;
}

/** Which notices one delivery may claim: each trigger narrows the clinic's set its own way. */
export interface Selection {
  clinicId: string;
  /** Only this appointment's notices (an event of that appointment, a reminder firing). */
  appointmentId?: string;
  /** Only this session package's notices (a control event, e.g. a renewal request). */
  controlId?: string;
  /** Only notices about this professional (a subscriber scoped to one agenda). */
  professionalId?: string;
}

/**
 * Locks the oldest deliverable notice of a selection (`pending`, or `failed` by an earlier push;
 * younger than the cutoff; not tried yet in this pass), with its appointment's or control's state as
 * of the lock. SKIP LOCKED: a notice another delivery holds is left to it, so two concurrent
 * deliveries never push the same notice, and neither waits.
 */
export async function claimNext(tx: Tx, sel: Selection, cutoff: Date, tried: string[]): Promise<Claimed | undefined> {
  const appointmentId = sel.appointmentId ?? null;
  const controlId = sel.controlId ?? null;
  const professionalId = sel.professionalId ?? null;
  const rows = await tx.$queryRaw<Claimed[]>`
    SELECT n.id::text AS id, n.kind, n.appointment_id::text AS "appointmentId", n.control_id::text AS "controlId",
           COALESCE(a.professional_id, c.professional_id)::text AS "professionalId",
           n.starts_at AS "startsAt", a.status AS "appointmentStatus", a.starts_at AS "appointmentStartsAt",
           c.status AS "controlStatus",
           p.anonymized_at IS NOT NULL AS "patientAnonymized", p.blocked_at IS NOT NULL AS "patientBlocked",
           COALESCE((SELECT pc.status = 'granted' FROM patient_consents pc
                     WHERE pc.patient_id = n.patient_id AND pc.channel = 'in_app' ORDER BY pc.id DESC LIMIT 1), false) AS "consentGranted"
    FROM notifications n
    JOIN patients p ON p.id = n.patient_id
    LEFT JOIN appointments a ON a.id = n.appointment_id
    LEFT JOIN appointment_controls c ON c.id = n.control_id
    WHERE n.clinic_id = ${sel.clinicId}::uuid AND n.channel = 'in_app' AND n.status IN ('pending', 'failed')
      AND n.created_at >= ${cutoff}
      AND (${appointmentId}::uuid IS NULL OR n.appointment_id = ${appointmentId}::uuid)
      AND (${controlId}::uuid IS NULL OR n.control_id = ${controlId}::uuid)
      AND (${professionalId}::uuid IS NULL OR COALESCE(a.professional_id, c.professional_id) = ${professionalId}::uuid)
      AND n.id <> ALL(${tried}::uuid[])
    ORDER BY n.created_at, n.id
    LIMIT 1
    FOR UPDATE OF n SKIP LOCKED`;
  return rows[0];
}

/**
 * Why a claimed notice must not go out: the patient's gate (./consent-rule: anonymised, blocked,
 * no in-app consent) first, then the e-mail channel's stale rule (./stale), applied to what the
 * claim read under the lock.
 */
export const staleness = (n: Claimed) =>
  gateReason({ anonymized: n.patientAnonymized, blocked: n.patientBlocked, consentGranted: n.consentGranted }) ??
  staleReason({
    kind: n.kind,
    startsAt: n.startsAt,
    appointment: n.appointmentStatus && n.appointmentStartsAt ? { status: n.appointmentStatus, startsAt: n.appointmentStartsAt } : null,
    control: n.controlStatus ? { status: n.controlStatus } : null,
  });
