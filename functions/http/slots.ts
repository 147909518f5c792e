import { slotsQuery } from '../../lib/domain/availability/query';
import { getSlots } from '../../lib/domain/availability/service';
import { queryParams } from '../../lib/http/params';
import { json } from '../../lib/http/response';
import { clinicRoute } from '../../lib/http/routes/clinic';
import { idParam } from '../../lib/platform/validation/common';

/**
 * GET /v1/professionals/{id}/slots?from=&to=&duration=: the professional's free slots in the
 * clinic's time zone. `X-Cache` says whether Redis answered (hit), stored the answer (miss) or was
 * passed by (bypass: Redis unavailable, or a change of this professional's agenda not yet
 * published; the slots are computed from PostgreSQL all the same).
 */
export const handler = clinicRoute('read', { path: idParam }, async ({ auth, path, event }) => {
  // Read here, not by the middleware: dates without an offset are local times of the caller's clinic.
  const { from, to, duration } = queryParams(slotsQuery(auth.timeZone), event);
  const { result, cache } = await getSlots({
    clinicId: auth.clinicId,
    timeZone: auth.timeZone,
    professionalId: path.id,
    from,
    to,
    durationMinutes: duration,
  });
  return json(200, result, { 'X-Cache': cache });
});
