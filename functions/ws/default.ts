import { z } from 'zod';
import { validate } from '../../lib/validation/validate';
import { ValidationError } from '../../lib/errors/app-error';
import { socketPing } from '../../lib/realtime/ping';
import { socketHandler } from '../../lib/realtime/socket-handler';

const messageSchema = z.discriminatedUnion('action', [z.object({ action: z.literal('ping') })]);

/** `$default`: every WebSocket message. Replies are pushed back through the Management API. */
export const handler = socketHandler(async (event, { invocation }) => {
  let input: unknown;
  try {
    input = JSON.parse(event.body ?? '');
  } catch {
    throw new ValidationError('Messages must be JSON objects with an "action"', [{ field: 'body', problem: 'malformed JSON' }]);
  }
  const message = validate(messageSchema, input, 'message');
  switch (message.action) {
    case 'ping':
      return socketPing(invocation);
  }
});
