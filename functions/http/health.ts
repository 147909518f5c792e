import { hasAdminBearer } from '../../lib/http/admin-bearer';
import { json } from '../../lib/http/response';
import { publicRoute } from '../../lib/http/routes/public';
import { checkHealth } from '../../lib/platform/health/check';

/**
 * GET /health (no auth): `{status}` and the status code (503 when a dependency is down) to anyone;
 * with `Authorization: Bearer <ADMIN_SECRET>`, the full report (checks and their errors, pool
 * totals, budget share, this container's warm state), which would show an outsider the topology.
 */
export const handler = publicRoute(async ({ event }, { invocation }) => {
  const report = await checkHealth();
  const code = report.status === 'unavailable' ? 503 : 200;
  return json(code, hasAdminBearer(event) ? { ...report, invocation } : { status: report.status });
});
