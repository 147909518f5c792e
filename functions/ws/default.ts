import { z } from 'zod';
import { deliverBacklog } from '../../lib/domain/notifications/in-app-backlog';
import { socketPing } from '../../lib/domain/realtime/ping';
import { subscribe } from '../../lib/domain/realtime/subscribe';
import { followedBy, socketHandler } from '../../lib/socket/handler';
import { parseMessage } from '../../lib/socket/message';

const messageSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('ping') }),
  z.object({ action: z.literal('subscribe'), professionalId: z.string().uuid().optional() }),
]);

/** `$default`: every WebSocket message. Replies are pushed back through the Management API. */
export const handler = socketHandler(async (event, { invocation }, connection) => {
  const message = parseMessage(event, messageSchema);
  switch (message.action) {
    case 'ping':
      return socketPing(invocation);
    case 'subscribe': {
      const subscribed = await subscribe(connection, message.professionalId);
      // After the reply: the notices made while nobody in this scope listened.
      return followedBy({ type: 'subscribed', scope: subscribed.scope }, () => deliverBacklog(subscribed));
    }
  }
});
