/**
 * A domain event's broadcast (live updates) reaches every socket subscribed to the clinic
 * or to the event's professional, a batch at once, never a revoked key's socket nor another
 * professional's; a socket found gone (410) is forgotten, one that fails is logged and kept, and
 * neither stops the others. The Management API is a local stand-in (AWS is the one thing faked).
 */
import { randomUUID } from 'node:crypto';
import { newClinic } from '../support/clinic';
import { startFakeManagementApi, type FakeManagementApi } from '../support/management-api';
import { newRevokedApiKey, newSocketRow } from '../support/socket-rows';
import { useSuite } from '../support/suite';

const lib = useSuite({
  modules: { broadcast: () => import('../../lib/domain/realtime/broadcast'), db: () => import('../../lib/platform/db/client') },
}).m;
let api: FakeManagementApi;

beforeAll(async () => {
  api = await startFakeManagementApi();
});
afterAll(async () => {
  await api.close();
});

it("reaches the clinic's and the professional's sockets a batch at once, forgets the gone, keeps the failing", async () => {
  const { clinicId } = await newClinic();
  const db = await lib.db.getDb();
  const key = await db.apiKey.findFirstOrThrow({ where: { clinicId } });
  const revoked = await newRevokedApiKey(clinicId);
  const [pro, otherPro] = [randomUUID(), randomUUID()];
  const socket = (scope: string, apiKeyId = key.id) => newSocketRow({ clinicId, apiKeyId, endpoint: api.endpoint, scope }, 'b');
  const clinicWide: string[] = [];
  for (let i = 0; i < 52; i++) clinicWide.push(await socket('clinic'));
  const own = await socket(pro);
  const [gone, failing] = [await socket('clinic'), await socket(pro)];
  const [other, ofRevoked] = [await socket(otherPro), await socket('clinic', revoked.id)];
  api.gone.add(gone);
  api.failing.add(failing);
  api.delayMs = 500;

  const message = { type: 'slots.changed', professionalId: pro };
  const { result, arrivals } = await api.arrivalsDuring(() => lib.broadcast.broadcastToClinic(clinicId, pro, message));
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
