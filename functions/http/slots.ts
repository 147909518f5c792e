import { slotsQuery } from '../../lib/availability/query';
import { getSlots } from '../../lib/availability/service';
import { clinicHandler } from '../../lib/http/clinic-handler';
import { pathId, queryParams } from '../../lib/http/params';
import { json } from '../../lib/http/response';

/**
 * GET /v1/professionals/{id}/slots?from=&to=&duration=: the professional's free slots in the
 * clinic's time zone. `X-Cache` says whether Redis answered (hit), stored the answer (miss) or was
 * passed by (bypass: Redis unavailable, or a change of this professional's agenda not yet
 * published; the slots are computed from PostgreSQL all the same).
 */
export const handler = clinicHandler(async (event, auth) => {
  const id = pathId(event);
  const query = queryParams(slotsQuery(auth.timeZone), event);
  const { result, cache } = await getSlots({
    clinicId: auth.clinicId,
    timeZone: auth.timeZone,
    professionalId: id,
    from: query.from,
    to: query.to,
    durationMinutes: query.duration,
  });
  return json(200, result, { 'X-Cache': cache });
});
