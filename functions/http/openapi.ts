import { renderDocsPage } from '../../lib/http/openapi/docs-page';
import { openApiDocument } from '../../lib/http/openapi/routes';
import { json } from '../../lib/http/response';
import { httpRouter } from '../../lib/http/routes/function';
import { publicRoute } from '../../lib/http/routes/public';

/** GET /openapi.json: the API's OpenAPI 3.1 document, generated from the validating schemas. */
export const document = publicRoute(async () => json(200, openApiDocument(), { 'cache-control': 'public, max-age=300' }));

/** GET /docs: a readable reference rendered from the same document. */
export const docs = publicRoute(async () => ({
  statusCode: 200,
  headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'public, max-age=300' },
  body: renderDocsPage(openApiDocument()),
}));

/** The docs function: the OpenAPI document and its page (no database, no Redis). */
export const handler = httpRouter({
  'GET /openapi.json': document,
  'GET /docs': docs,
});
