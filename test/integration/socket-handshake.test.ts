/**
 * The socket function's routes, invoked in process as API Gateway calls them: `$connect` stores a
 * socket whose `?ticket=` checks out (minted for a key with `read`, unused, unexpired, its key not
 * revoked) and refuses the rest with 401, an API key as `?token=` or as a header included, and a key
 * revoked while its row was being stored; `$disconnect` forgets the row; `$default`
 * answers malformed messages with a validation error and scopes a `subscribe` to the clinic or to
 * one of its professionals, never another clinic's. The Management API is a local stand-in (AWS is
 * the one thing faked).
 */
import { randomUUID } from 'node:crypto';
import type { SocketEvent } from '../../lib/socket/types';
import { newClinic } from '../support/clinic';
import { buildContext } from '../support/invoke';
import { startFakeManagementApi, type FakeManagementApi } from '../support/management-api';
import { newProfessional } from '../support/scheduling-fixtures';
import { newRevokedApiKey } from '../support/socket-rows';

type Lib = {
  socket: typeof import('../../functions/ws/socket');
  lifecycle: typeof import('../../lib/socket/lifecycle');
  connect: typeof import('../../lib/domain/realtime/connect');
  tickets: typeof import('../../lib/domain/realtime/tickets');
  errors: typeof import('../../lib/platform/errors/app-error');
  db: typeof import('../../lib/platform/db/client');
  closeAll: typeof import('../../lib/platform/lifecycle/close-all').closeAll;
};
let lib: Lib;
let api: FakeManagementApi;

beforeAll(async () => {
  api = await startFakeManagementApi();
  process.env.WEBSOCKET_ENDPOINT = api.endpoint;
  jest.resetModules();
  lib = {
    socket: await import('../../functions/ws/socket'),
    lifecycle: await import('../../lib/socket/lifecycle'),
    connect: await import('../../lib/domain/realtime/connect'),
    tickets: await import('../../lib/domain/realtime/tickets'),
    errors: await import('../../lib/platform/errors/app-error'),
    db: await import('../../lib/platform/db/client'),
    closeAll: (await import('../../lib/platform/lifecycle/close-all')).closeAll,
  };
});

afterAll(async () => {
  delete process.env.WEBSOCKET_ENDPOINT;
  await lib.closeAll();
  await api.close();
});

beforeEach(() => api.reset());

type Kind = 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
const ROUTE: Record<Kind, string> = { CONNECT: '$connect', MESSAGE: '$default', DISCONNECT: '$disconnect' };

/** A WebSocket API event as API Gateway sends it to the socket function. */
function socketEvent(eventType: Kind, connectionId: string, extra: Partial<SocketEvent> = {}): SocketEvent {
  return {
    requestContext: {
      routeKey: ROUTE[eventType],
      eventType,
      connectionId,
      messageId: randomUUID(),
      extendedRequestId: randomUUID(),
      requestTime: new Date().toUTCString(),
      messageDirection: 'IN',
      stage: 'local',
      connectedAt: Date.now(),
      requestTimeEpoch: Date.now(),
      requestId: randomUUID(),
      domainName: 'localhost',
      apiId: 'local',
    },
    isBase64Encoded: false,
    ...extra,
  } as SocketEvent;
}

const call = (event: SocketEvent) => lib.socket.handler(event, buildContext('agenda-test-socket')) as Promise<{ statusCode: number }>;
const newConnectionId = () => `hs-${randomUUID().slice(0, 12)}=`;
const rowOf = async (connectionId: string) => (await lib.db.getDb()).socketConnection.findUnique({ where: { connectionId } });

/** A clinic's bootstrap key row, and a fresh ticket of it as a handshake's query. */
async function keyRowOf(clinicId: string) {
  return (await lib.db.getDb()).apiKey.findFirstOrThrow({ where: { clinicId }, orderBy: { createdAt: 'asc' } });
}
async function ticketQuery(clinicId: string, apiKeyId?: string): Promise<Partial<SocketEvent>> {
  const { ticket } = await lib.tickets.mintTicket({ clinicId, apiKeyId: apiKeyId ?? (await keyRowOf(clinicId)).id });
  return { queryStringParameters: { ticket } };
}

describe('$connect', () => {
  it('stores a socket whose ticket checks out, with the key that minted it; the ticket opens no second one', async () => {
    const clinic = await newClinic();
    const [first, second] = [newConnectionId(), newConnectionId()];
    const query = await ticketQuery(clinic.clinicId);
    expect(await call(socketEvent('CONNECT', first, query))).toEqual({ statusCode: 200 });
    expect(await rowOf(first)).toMatchObject({ clinicId: clinic.clinicId, apiKeyId: (await keyRowOf(clinic.clinicId)).id, endpoint: 'https://localhost/local', scope: null });
    expect(await call(socketEvent('CONNECT', second, query))).toEqual({ statusCode: 401 });
    expect(await rowOf(second)).toBeNull();
  });

  it('refuses a missing or unknown ticket, and an API key as token or header, with 401 and stores nothing', async () => {
    const clinic = await newClinic();
    const ids = [newConnectionId(), newConnectionId(), newConnectionId(), newConnectionId(), newConnectionId()];
    const events: Partial<SocketEvent>[] = [
      {},
      { queryStringParameters: { ticket: `agt_${'x'.repeat(43)}` } },
      { queryStringParameters: { token: clinic.key } },
      { queryStringParameters: { ticket: clinic.key } },
      { headers: { authorization: `Bearer ${clinic.key}` } },
    ];
    for (const [i, extra] of events.entries()) expect(await call(socketEvent('CONNECT', ids[i]!, extra))).toEqual({ statusCode: 401 });
    for (const id of ids) expect(await rowOf(id)).toBeNull();
  });

  it("refuses an expired ticket, a revoked key's ticket and one of a key without read", async () => {
    const clinic = await newClinic();
    const db = await lib.db.getDb();
    const expired = await ticketQuery(clinic.clinicId);
    await db.realtimeTicket.updateMany({ where: { clinicId: clinic.clinicId }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    expect(await call(socketEvent('CONNECT', newConnectionId(), expired))).toEqual({ statusCode: 401 });

    const { createApiKey } = await import('../../lib/domain/tenancy/api-keys');
    const doomed = await createApiKey(db, clinic.clinicId, 'doomed', ['read']);
    const ofRevoked = await ticketQuery(clinic.clinicId, doomed.id);
    await db.apiKey.update({ where: { id: doomed.id }, data: { revokedAt: new Date() } });
    expect(await call(socketEvent('CONNECT', newConnectionId(), ofRevoked))).toEqual({ statusCode: 401 });

    const writer = await createApiKey(db, clinic.clinicId, 'writer', ['write']);
    expect(await call(socketEvent('CONNECT', newConnectionId(), await ticketQuery(clinic.clinicId, writer.id)))).toEqual({ statusCode: 401 });
  });

  it('purges tickets expired unused, and only those', async () => {
    const clinic = await newClinic();
    const db = await lib.db.getDb();
    await ticketQuery(clinic.clinicId);
    await ticketQuery(clinic.clinicId);
    const [stale] = await db.realtimeTicket.findMany({ where: { clinicId: clinic.clinicId } });
    await db.realtimeTicket.update({ where: { tokenHash: stale!.tokenHash }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    expect(await lib.tickets.purgeExpiredTickets()).toBeGreaterThanOrEqual(1);
    expect(await db.realtimeTicket.count({ where: { clinicId: clinic.clinicId } })).toBe(1);
  });

  it('starts a reused connection id over: unsubscribed again', async () => {
    const clinic = await newClinic();
    const id = newConnectionId();
    await call(socketEvent('CONNECT', id, await ticketQuery(clinic.clinicId)));
    await (await lib.db.getDb()).socketConnection.update({ where: { connectionId: id }, data: { scope: 'clinic' } });
    expect(await call(socketEvent('CONNECT', id, await ticketQuery(clinic.clinicId)))).toEqual({ statusCode: 200 });
    expect(await rowOf(id)).toMatchObject({ scope: null });
  });

  it('forgets and refuses a socket whose key was revoked while its row was stored', async () => {
    const clinic = await newClinic();
    const revoked = await newRevokedApiKey(clinic.clinicId);
    const id = newConnectionId();
    await expect(lib.connect.openConnection({ connectionId: id, clinicId: clinic.clinicId, apiKeyId: revoked.id, endpoint: api.endpoint })).rejects.toBeInstanceOf(
      lib.errors.UnauthorizedError,
    );
    expect(await rowOf(id)).toBeNull();
    // Through the handshake: the same race answers 401, like a bad ticket.
    const raced = lib.lifecycle.handshakeHandler((h) => lib.connect.openConnection({ ...h, apiKeyId: revoked.id }));
    expect(await raced(socketEvent('CONNECT', id, await ticketQuery(clinic.clinicId)), buildContext())).toEqual({ statusCode: 401 });
    expect(await rowOf(id)).toBeNull();
  });

  it('answers any other failure with its described status', async () => {
    const clinic = await newClinic();
    const failing = lib.lifecycle.handshakeHandler(async () => {
      throw new Error('boom');
    });
    expect(await failing(socketEvent('CONNECT', newConnectionId(), await ticketQuery(clinic.clinicId)), buildContext())).toEqual({ statusCode: 500 });
  });
});

describe('$disconnect', () => {
  it('forgets the row', async () => {
    const clinic = await newClinic();
    const id = newConnectionId();
    await call(socketEvent('CONNECT', id, await ticketQuery(clinic.clinicId)));
    expect(await call(socketEvent('DISCONNECT', id))).toEqual({ statusCode: 200 });
    expect(await rowOf(id)).toBeNull();
  });
});

describe('$default', () => {
  async function connected() {
    const clinic = await newClinic();
    const id = newConnectionId();
    expect(await call(socketEvent('CONNECT', id, await ticketQuery(clinic.clinicId)))).toEqual({ statusCode: 200 });
    const send = async (body: string) => {
      expect(await call(socketEvent('MESSAGE', id, { body }))).toEqual({ statusCode: 200 });
      return api.posted(id).at(-1);
    };
    return { ...clinic, id, send };
  }

  it('answers malformed JSON and unknown actions with validation errors', async () => {
    const s = await connected();
    expect(await s.send('{not json')).toMatchObject({
      type: 'error',
      code: 'validation_failed',
      message: 'Messages must be JSON objects with an "action"',
      details: [{ field: 'body', problem: 'malformed JSON' }],
    });
    expect(await s.send(JSON.stringify({ action: 'dance' }))).toMatchObject({ type: 'error', code: 'validation_failed', message: 'Invalid message' });
  });

  it('subscribes to the clinic, or to one of its own professionals; another clinic\'s is not found', async () => {
    const s = await connected();
    const own = await newProfessional(s.clinicId);
    const other = await newProfessional((await newClinic()).clinicId);
    expect(await s.send(JSON.stringify({ action: 'subscribe' }))).toEqual({ type: 'subscribed', scope: 'clinic' });
    expect(await rowOf(s.id)).toMatchObject({ scope: 'clinic' });
    expect(await s.send(JSON.stringify({ action: 'subscribe', professionalId: own.id }))).toEqual({ type: 'subscribed', scope: own.id });
    expect(await rowOf(s.id)).toMatchObject({ scope: own.id });
    expect(await s.send(JSON.stringify({ action: 'subscribe', professionalId: other.id }))).toMatchObject({ type: 'error', code: 'not_found' });
    expect(await rowOf(s.id)).toMatchObject({ scope: own.id });
  });
});
