import { httpHandler, httpRouter } from '../../lib/http/handler';
import { json } from '../../lib/http/response';
import { renderDocsPage } from '../../lib/openapi/docs-page';
import { openApiDocument } from '../../lib/openapi/routes';

/** GET /openapi.json: the API's OpenAPI 3.1 document, generated from the validating schemas. */
export const document = httpHandler(async () => json(200, openApiDocument(), { 'cache-control': 'public, max-age=300' }));

/** GET /docs: a readable reference rendered from the same document. */
export const docs = httpHandler(async () => ({
  statusCode: 200,
  headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'public, max-age=300' },
  body: renderDocsPage(openApiDocument()),
}));

/** The docs function: the OpenAPI document and its page (no database, no Redis). */
export const handler = httpRouter({
  'GET /openapi.json': document,
  'GET /docs': docs,
});
