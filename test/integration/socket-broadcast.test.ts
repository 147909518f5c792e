/**
 * A domain event's broadcast (issue #4, live updates) reaches every socket subscribed to the clinic
 * or to the event's professional, a batch at once, never a revoked key's socket nor another
 * professional's; a socket found gone (410) is forgotten, one that fails is logged and kept, and
 * neither stops the others. The Management API is a local stand-in (AWS is the one thing faked).
 */
import { randomUUID } from 'node:crypto';
import { newClinic } from '../support/clinic';
import { startFakeManagementApi, type FakeManagementApi } from '../support/management-api';

type Lib = {
  broadcast: typeof import('../../lib/realtime/broadcast');
  db: typeof import('../../lib/db/client');
  closeAll: typeof import('../../lib/lifecycle/close-all').closeAll;
};
let lib: Lib;
let api: FakeManagementApi;

beforeAll(async () => {
  api = await startFakeManagementApi();
  jest.resetModules();
  lib = {
    broadcast: await import('../../lib/realtime/broadcast'),
    db: await import('../../lib/db/client'),
    closeAll: (await import('../../lib/lifecycle/close-all')).closeAll,
  };
});

afterAll(async () => {
  await lib.closeAll();
  await api.close();
});

/** Notes when each call reaches the stand-in, which answers `delayMs` after. */
async function arrivalsDuring<T>(fn: () => Promise<T>) {
  const arrivals: number[] = [];
  const record = api.calls.push.bind(api.calls);
  api.calls.push = (...items) => {
    arrivals.push(performance.now());
    return record(...items);
  };
  try {
    return { result: await fn(), arrivals };
  } finally {
    api.calls.push = record;
  }
}

it("reaches the clinic's and the professional's sockets a batch at once, forgets the gone, keeps the failing", async () => {
  const { clinicId } = await newClinic();
  const db = await lib.db.getDb();
  const key = await db.apiKey.findFirstOrThrow({ where: { clinicId } });
  const revoked = await db.apiKey.create({
    data: { clinicId, name: 'old', prefix: randomUUID().slice(0, 12), keyHash: '0'.repeat(64), revokedAt: new Date() },
  });
  const [pro, otherPro] = [randomUUID(), randomUUID()];
  const socket = async (scope: string, apiKeyId = key.id) => {
    const connectionId = `b-${randomUUID().slice(0, 12)}=`;
    await db.socketConnection.create({ data: { connectionId, clinicId, apiKeyId, endpoint: api.endpoint, scope } });
    return connectionId;
  };
  const clinicWide: string[] = [];
  for (let i = 0; i < 52; i++) clinicWide.push(await socket('clinic'));
  const own = await socket(pro);
  const [gone, failing] = [await socket('clinic'), await socket(pro)];
  const [other, ofRevoked] = [await socket(otherPro), await socket('clinic', revoked.id)];
  api.gone.add(gone);
  api.failing.add(failing);
  api.delayMs = 500;

  const message = { type: 'slots.changed', professionalId: pro };
  const { result, arrivals } = await arrivalsDuring(() => lib.broadcast.broadcastToClinic(clinicId, pro, message));
  api.delayMs = 0;

  expect(result).toBe(clinicWide.length + 1);
  for (const id of [...clinicWide, own]) expect(api.posted(id)).toEqual([message]);
  for (const id of [other, ofRevoked]) expect(api.posted(id)).toEqual([]);
  // 55 targets (the failing one tried twice, the SDK's retry): a first batch of 50 all in flight
  // before the first was answered, then the rest.
  expect(new Set(api.calls.map((c) => c.connectionId)).size).toBe(55);
  expect(arrivals[49]! - arrivals[0]!).toBeLessThan(500);
  const left = (await db.socketConnection.findMany({ where: { clinicId }, select: { connectionId: true } })).map((r) => r.connectionId);
  expect(left).not.toContain(gone);
  expect(left).toEqual(expect.arrayContaining([failing, own, other, ofRevoked, ...clinicWide]));
});
