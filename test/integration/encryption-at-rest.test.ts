import { Webhook } from 'standardwebhooks';
import { newClinic } from '../support/clinic';
import { get, invoke, post } from '../support/invoke';
import { useSuite } from '../support/suite';
import { startWebhookReceiver, type ReceivedHook, type WebhookReceiver } from '../support/webhook-receiver';

/**
 * Encryption at rest through the API (local key): what the columns hold (read with raw SQL) and that
 * everything reading them still gets plain values: the patient API, the e-mail lookup by keyed hash,
 * appointment notes, and webhook deliveries signed with the opened secrets, during a rotation too.
 */
const suite = useSuite({
  env: { WEBHOOKS_ALLOW_LOOPBACK: 'true' },
  pg: true,
  obliterateQueues: true,
  modules: {
    patients: () => import('../../functions/http/patients'),
    webhooks: () => import('../../functions/http/webhooks'),
    processor: () => import('../../lib/jobs/processors/webhook-deliver'),
    dbClient: () => import('../../lib/platform/db/client'),
  },
});
const { patients, webhooks, processor, dbClient } = suite.m;

let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(() => receiver.close());

const SEALED = /^enc:v1:[0-9a-f-]{36}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+$/;
const row = async (table: string, id: string) => (await suite.pg.query(`SELECT * FROM ${table} WHERE id = $1`, [id])).rows[0];
const rowText = async (table: string, id: string) => (await suite.pg.query(`SELECT row_to_json(t)::text AS j FROM ${table} t WHERE id = $1`, [id])).rows[0].j as string;
const patch = (id: string, body: unknown, auth: object) =>
  invoke(patients.update, { method: 'PATCH', path: `/v1/patients/${id}`, routeKey: 'PATCH /v1/patients/{id}', pathParameters: { id }, body, ...auth });
const byEmail = async (email: string, auth: object) => {
  const res = await get(patients.list, `/v1/patients?email=${encodeURIComponent(email)}`, auth);
  expect(res.status).toBe(200);
  return (res.body.data as { id: string }[]).map((p) => p.id);
};

describe('patients', () => {
  it('stores e-mail and phone sealed with an e-mail hash, and answers plain values', async () => {
    const { auth } = await newClinic();
    const created = await post(patients.create, '/v1/patients', { name: 'Maria Encrypted', email: 'maria.enc@example.com', phone: '+55 11 91234-5678' }, auth);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: 'maria.enc@example.com', phone: '+5511912345678' });
    expect(created.body).not.toHaveProperty('emailHash');

    const stored = await row('patients', created.body.id);
    expect(stored.email).toMatch(SEALED);
    expect(stored.phone).toMatch(SEALED);
    expect(stored.email_hash).toMatch(/^[0-9a-f-]{36}:[A-Za-z0-9_-]{43}$/);
    const text = await rowText('patients', created.body.id);
    for (const plain of ['maria.enc', 'example.com', '91234', '5678']) expect(text).not.toContain(plain);

    const one = await invoke(patients.get, { path: `/v1/patients/${created.body.id}`, routeKey: 'GET /v1/patients/{id}', pathParameters: { id: created.body.id }, ...auth });
    expect(one.body).toMatchObject({ email: 'maria.enc@example.com', phone: '+5511912345678' });
    const list = await get(patients.list, '/v1/patients?limit=100', auth);
    expect(list.body.data.find((p: { id: string }) => p.id === created.body.id)).toMatchObject({ email: 'maria.enc@example.com' });
  });

  it('patching seals the new values and moves the hash; null clears both', async () => {
    const { auth } = await newClinic();
    const { body } = await post(patients.create, '/v1/patients', { name: 'Ana', email: 'ana.old@example.com' }, auth);
    const before = await row('patients', body.id);
    const changed = await patch(body.id, { email: 'ana.new@example.com', phone: '+5511900001111' }, auth);
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ email: 'ana.new@example.com', phone: '+5511900001111' });
    const after = await row('patients', body.id);
    expect(after.email).toMatch(SEALED);
    expect(after.email).not.toBe(before.email);
    expect(after.email_hash).not.toBe(before.email_hash);
    expect(await rowText('patients', body.id)).not.toContain('ana.new');

    expect((await patch(body.id, { email: null }, auth)).body.email).toBeNull();
    expect(await row('patients', body.id)).toMatchObject({ email: null, email_hash: null });
  });

  it('finds a patient by e-mail, any case, within the clinic only', async () => {
    const a = await newClinic();
    const b = await newClinic();
    const { body: p } = await post(patients.create, '/v1/patients', { name: 'Bia', email: 'Bia.Lookup@Example.com' }, a.auth);
    await post(patients.create, '/v1/patients', { name: 'Other Bia', email: 'bia.lookup@example.com' }, b.auth);
    await post(patients.create, '/v1/patients', { name: 'Not Bia', email: 'someone@example.com' }, a.auth);

    expect(await byEmail('bia.lookup@example.com', a.auth)).toEqual([p.id]);
    expect(await byEmail('BIA.LOOKUP@EXAMPLE.COM', a.auth)).toEqual([p.id]);
    expect(await byEmail('bia.lookup@example.org', a.auth)).toEqual([]);
    await patch(p.id, { email: 'bia.moved@example.com' }, a.auth);
    expect(await byEmail('bia.lookup@example.com', a.auth)).toEqual([]);
    expect(await byEmail('bia.moved@example.com', a.auth)).toEqual([p.id]);

    const bad = await get(patients.list, '/v1/patients?email=not-an-address', a.auth);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).toContain('email');
  });
});

it('seals appointment notes and opens them on read, nested relations included', async () => {
  const { clinicId, auth } = await newClinic();
  const { body: patient } = await post(patients.create, '/v1/patients', { name: 'Caio', email: 'caio@example.com' }, auth);
  const db = await dbClient.getDb();
  const professional = await db.professional.create({ data: { clinicId, name: 'Dr. Notes' } });
  const startsAt = new Date('2026-10-01T12:00:00Z');
  const endsAt = new Date('2026-10-01T12:30:00Z');
  const appt = await db.appointment.create({
    data: { clinicId, professionalId: professional.id, patientId: patient.id, startsAt, endsAt, blockStartsAt: startsAt, blockEndsAt: endsAt, notes: 'alergia a dipirona' },
  });
  expect(appt.notes).toBe('alergia a dipirona');
  expect((await row('appointments', appt.id)).notes).toMatch(SEALED);
  const withPatient = await db.appointment.findUniqueOrThrow({ where: { id: appt.id }, include: { patient: true } });
  expect(withPatient).toMatchObject({ notes: 'alergia a dipirona', patient: { email: 'caio@example.com' } });
});

describe('webhook secrets', () => {
  const route = (h: any, method: string, template: string, id: string, auth: object) =>
    invoke(h, { method, path: template.replace('{id}', id), routeKey: `${method} ${template}`, pathParameters: { id }, ...auth });
  const verifies = (secret: string, r: ReceivedHook) => {
    try {
      new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
      return true;
    } catch {
      return false;
    }
  };
  async function deliverPing(id: string, auth: object) {
    const res = await route(webhooks.ping, 'POST', '/v1/webhooks/{id}/ping', id, auth);
    expect(res.status).toBe(202);
    const deliveryId = res.body.deliveryId as string;
    await processor.processWebhookDelivery({ queue: 'webhook', name: 'webhook.deliver', id: deliveryId, data: { deliveryId }, attemptsMade: 0, mode: 'inline' });
    return receiver.hooks.at(-1)!;
  }

  it('stores the secrets sealed; deliveries verify with the plain secrets, during a rotation too', async () => {
    const { auth } = await newClinic();
    const created = await post(webhooks.create, '/v1/webhooks', { url: `${receiver.url}/hook`, eventTypes: ['*'] }, auth);
    expect(created.status).toBe(201);
    const first = created.body.secret as string;
    expect(first).toMatch(/^whsec_/);
    const stored = await row('webhook_endpoints', created.body.id);
    expect(stored.secret).toMatch(SEALED);
    expect(await rowText('webhook_endpoints', created.body.id)).not.toContain(first.slice(6, 30));

    const hook = await deliverPing(created.body.id, auth);
    expect(verifies(first, hook)).toBe(true);

    const rotated = await route(webhooks.rotateSecret, 'POST', '/v1/webhooks/{id}/rotate-secret', created.body.id, auth);
    expect(rotated.status).toBe(200);
    const second = rotated.body.secret as string;
    const after = await row('webhook_endpoints', created.body.id);
    expect(after.secret).toMatch(SEALED);
    expect(after.previous_secret).toBe(stored.secret); // moved as stored, still sealed
    const text = await rowText('webhook_endpoints', created.body.id);
    for (const s of [first, second]) expect(text).not.toContain(s.slice(6, 30));

    const during = await deliverPing(created.body.id, auth);
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifies(second, during)).toBe(true);
    expect(verifies(first, during)).toBe(true);
  });
});
