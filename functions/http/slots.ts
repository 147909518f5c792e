import { slotsQuery } from '../../lib/availability/query';
import { getSlots } from '../../lib/availability/service';
import { clinicHandler } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { idParam } from '../../lib/validation/common';
import { validate } from '../../lib/validation/validate';

/**
 * GET /v1/professionals/{id}/slots?from=&to=&duration=: the professional's free slots in the
 * clinic's time zone. `X-Cache` says whether Redis answered (hit), stored the answer (miss) or was
 * unavailable (bypass; the slots are computed all the same).
 */
export const handler = clinicHandler(async (event, auth) => {
  const { id } = validate(idParam, event.pathParameters ?? {}, 'path');
  const query = validate(slotsQuery(auth.timeZone), event.queryStringParameters ?? {}, 'query');
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
