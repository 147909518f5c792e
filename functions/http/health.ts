import { checkHealth } from '../../lib/health/check';
import { httpHandler } from '../../lib/http/handler';
import { json } from '../../lib/http/response';

/** GET /health (no auth): dependency status, pool totals, and this container's warm state. */
export const handler = httpHandler(async (_event, { invocation }) => {
  const report = await checkHealth();
  const body = { ...report, invocation };
  return json(report.status === 'unavailable' ? 503 : 200, body);
});
