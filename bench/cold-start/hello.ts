/** The cold-start baseline: a handler that loads nothing, built exactly as the functions are. */
export const handler = async () => ({ statusCode: 200, body: 'hello' });
