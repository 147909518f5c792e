import { z } from 'zod';
import { limit } from '../../platform/pagination/cursor';
import { isoDateTime } from '../../platform/validation/time';

/** An audit page's position: the last event's (at, id), opaque to clients. */
export interface AuditPosition {
  at: Date;
  id: bigint;
}

/** The opaque `nextCursor` of an audit page. */
export const encodeAuditCursor = (p: AuditPosition) => Buffer.from(JSON.stringify([p.at.toISOString(), p.id.toString()])).toString('base64url');

function decodeAuditCursor(raw: string): AuditPosition | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 2) return undefined;
    const [iso, id] = parsed as unknown[];
    if (typeof iso !== 'string' || typeof id !== 'string' || !/^\d{1,19}$/.test(id)) return undefined;
    const at = new Date(iso);
    return Number.isNaN(at.getTime()) ? undefined : { at, id: BigInt(id) };
  } catch {
    return undefined;
  }
}

/** GET /v1/audit-events?patientId=&from=&to=&limit=&cursor= */
export const listAuditEventsQuery = z
  .object({
    patientId: z.uuid().optional(),
    from: isoDateTime.optional(),
    to: isoDateTime.optional(),
    limit: limit(50),
    cursor: z
      .string()
      .max(200)
      .transform((raw, ctx) => decodeAuditCursor(raw) ?? (ctx.addIssue({ code: 'custom', message: 'invalid cursor' }), z.NEVER))
      .optional(),
  })
  .refine((q) => !q.from || !q.to || new Date(q.from) < new Date(q.to), { message: 'from must be before to', path: ['to'] });
export type ListAuditEventsQuery = z.infer<typeof listAuditEventsQuery>;
