import { z } from 'zod';
import { validate } from '../../lib/validation/validate';
import { NotFoundError, ValidationError } from '../../lib/errors/app-error';
import { getDb } from '../../lib/db/client';
import { deliverBacklog } from '../../lib/notifications/in-app';
import { socketPing } from '../../lib/realtime/ping';
import { followedBy, socketHandler } from '../../lib/realtime/socket-handler';

const messageSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('ping') }),
  z.object({ action: z.literal('subscribe'), professionalId: z.string().uuid().optional() }),
]);

/** `$default`: every WebSocket message. Replies are pushed back through the Management API. */
export const handler = socketHandler(async (event, { invocation }, connection) => {
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
    case 'subscribe': {
      // Scope: the whole clinic, or one of the clinic's professionals (another clinic's is not found).
      const db = await getDb();
      let scope = 'clinic';
      if (message.professionalId) {
        const professional = await db.professional.findFirst({
          where: { id: message.professionalId, clinicId: connection.clinicId },
          select: { id: true },
        });
        if (!professional) throw new NotFoundError('Professional not found');
        scope = professional.id;
      }
      await db.socketConnection.update({ where: { connectionId: connection.connectionId }, data: { scope } });
      // After the reply: the notices made while nobody in this scope listened.
      return followedBy({ type: 'subscribed', scope }, () => deliverBacklog({ ...connection, scope }));
    }
  }
});
