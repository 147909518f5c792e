import { newClinic } from '../support/clinic';
import { get, invoke, post, type InvokeResult } from '../support/invoke';
import { useSuite } from '../support/suite';

const { fns, db } = useSuite({
  modules: { fns: () => import('../../functions/http/patients'), db: () => import('../../lib/platform/db/client') },
}).m;
type Auth = Awaited<ReturnType<typeof newClinic>>['auth'];

const path = (id: string) => ({ path: `/v1/patients/${id}`, pathParameters: { id } });

async function newPatient(auth: Auth, body: Record<string, unknown> = {}) {
  const res = await post(fns.create, '/v1/patients', { name: 'Maria da Silva', ...body }, auth);
  expect(res.status).toBe(201);
  return res.body as { id: string; [k: string]: unknown };
}

function expectField(res: InvokeResult, field: string) {
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('validation_failed');
  expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
}

/** An appointment straight in the database: the appointments API is not this file's subject. */
async function bookDirectly(clinicId: string, patientId: string) {
  const prisma = await db.getDb();
  const professional = await prisma.professional.create({ data: { clinicId, name: 'Dr. X' } });
  const startsAt = new Date('2026-09-01T12:00:00Z');
  const endsAt = new Date('2026-09-01T12:30:00Z');
  return prisma.appointment.create({
    data: { clinicId, professionalId: professional.id, patientId, startsAt, endsAt, blockStartsAt: startsAt, blockEndsAt: endsAt },
  });
}

describe('patients', () => {
  it('creates, reads, updates and deletes a patient', async () => {
    const { auth } = await newClinic();
    const created = await newPatient(auth, {
      email: 'maria@example.com',
      phone: '+55 (11) 91234-5678',
      birthDate: '1988-02-29',
      locale: 'en',
      notifyEmail: false,
    });
    expect(created).toMatchObject({
      name: 'Maria da Silva',
      email: 'maria@example.com',
      phone: '+5511912345678',
      birthDate: '1988-02-29',
      locale: 'en',
      notifyEmail: false,
      notifyInApp: true,
    });
    expect(created).not.toHaveProperty('clinicId');

    const minimal = await newPatient(auth, { name: 'João' });
    expect(minimal).toMatchObject({ email: null, phone: null, birthDate: null, locale: 'pt-BR', notifyEmail: true, notifyInApp: true });

    const got = await invoke(fns.get, { ...path(created.id), ...auth });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created);

    const patched = await invoke(fns.update, {
      method: 'PATCH',
      ...path(created.id),
      body: { phone: null, birthDate: '1990-12-31', notifyInApp: false },
      ...auth,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ email: 'maria@example.com', phone: null, birthDate: '1990-12-31', notifyInApp: false, locale: 'en' });

    const del = await invoke(fns.remove, { method: 'DELETE', ...path(created.id), ...auth });
    expect(del.status).toBe(204);
    expect((await invoke(fns.get, { ...path(created.id), ...auth })).status).toBe(404);
    expect((await invoke(fns.remove, { method: 'DELETE', ...path(created.id), ...auth })).status).toBe(404);
  });

  it('refuses bad input with 400 naming the field', async () => {
    const { auth } = await newClinic();
    const create = (body: unknown) => post(fns.create, '/v1/patients', body, auth);
    expectField(await create({}), 'name');
    expectField(await create({ name: 'A', email: 'not-an-email' }), 'email');
    expectField(await create({ name: 'A', phone: '11912345678' }), 'phone'); // no +
    expectField(await create({ name: 'A', phone: '+1234567' }), 'phone'); // 7 digits
    expectField(await create({ name: 'A', phone: '+1234567890123456' }), 'phone'); // 16 digits
    expectField(await create({ name: 'A', phone: '+55abc12345678' }), 'phone');
    expectField(await create({ name: 'A', birthDate: '2026-02-30' }), 'birthDate');
    expectField(await create({ name: 'A', birthDate: '2025-02-29' }), 'birthDate');
    expectField(await create({ name: 'A', birthDate: '1990-1-5' }), 'birthDate');
    expectField(await create({ name: 'A', birthDate: '2999-01-01' }), 'birthDate');
    expectField(await create({ name: 'A', locale: 'fr' }), 'locale');
    expectField(await create({ name: 'A', notifyEmail: 'true' }), 'notifyEmail');
    expectField(await create({ name: 'A', notifyInApp: 1 }), 'notifyInApp');
    expectField(await create({ name: 'A', cpf: '123' }), 'body'); // strict
    expectField(await create({ name: 'a\u0000b' }), 'name');
    expectField(await create('{"name":'), 'body');

    const p = await newPatient(auth);
    expectField(await invoke(fns.update, { method: 'PATCH', ...path(p.id), body: {}, ...auth }), 'body');
    expectField(await invoke(fns.update, { method: 'PATCH', ...path(p.id), body: { name: null }, ...auth }), 'name');
    expectField(await invoke(fns.update, { method: 'PATCH', ...path(p.id), body: { birthDate: '2026-02-30' }, ...auth }), 'birthDate');
    expectField(await invoke(fns.get, { ...path('123'), ...auth }), 'id');
    expectField(await invoke(fns.remove, { method: 'DELETE', ...path('123'), ...auth }), 'id');
    expectField(await get(fns.list, '/v1/patients?limit=101', auth), 'limit');
    expectField(await get(fns.list, '/v1/patients?cursor=eyJ4IjoxfQ', auth), 'cursor');
    expectField(await get(fns.list, '/v1/patients?q=', auth), 'q');
  });

  it('pages through patients with a cursor and searches names in any case', async () => {
    const { auth } = await newClinic();
    const other = await newClinic();
    await newPatient(other.auth, { name: 'Ana Outside' });
    const names = ['Ana Lima', 'Bruno Costa', 'ANA Pereira', 'Carla 100%', 'Mariana Souza'];
    const ids: string[] = [];
    for (const name of names) ids.push((await newPatient(auth, { name })).id);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: InvokeResult = await get(fns.list, `/v1/patients?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, auth);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((p: { id: string }) => p.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);

    const ana = await get(fns.list, '/v1/patients?q=ana', auth);
    expect(ana.body.data.map((p: { name: string }) => p.name)).toEqual(['Ana Lima', 'ANA Pereira', 'Mariana Souza']);
    expect(ana.body.nextCursor).toBeNull();

    const paged = await get(fns.list, '/v1/patients?q=ANA&limit=2', auth);
    expect(paged.body.data).toHaveLength(2);
    const rest = await get(fns.list, `/v1/patients?q=ANA&limit=2&cursor=${encodeURIComponent(paged.body.nextCursor)}`, auth);
    expect(rest.body.data.map((p: { name: string }) => p.name)).toEqual(['Mariana Souza']);

    // LIKE wildcards are literal characters in a search.
    const percent = await get(fns.list, `/v1/patients?q=${encodeURIComponent('%')}`, auth);
    expect(percent.body.data.map((p: { name: string }) => p.name)).toEqual(['Carla 100%']);
    expect((await get(fns.list, '/v1/patients?q=_', auth)).body.data).toEqual([]);
    expect((await get(fns.list, `/v1/patients?q=${encodeURIComponent('\\')}`, auth)).body.data).toEqual([]);
  });

  it('refuses to delete a patient with appointments (409) and keeps them', async () => {
    const { auth, clinicId } = await newClinic();
    const p = await newPatient(auth);
    await bookDirectly(clinicId, p.id);
    const res = await invoke(fns.remove, { method: 'DELETE', ...path(p.id), ...auth });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'conflict', details: { rule: 'patient_has_appointments' } });
    expect((await invoke(fns.get, { ...path(p.id), ...auth })).status).toBe(200);
  });

  it("answers 404 for another clinic's patient on every route, and changes nothing", async () => {
    const a = await newClinic();
    const b = await newClinic();
    const theirs = await newPatient(b.auth, { name: 'Paciente Sigiloso', email: 'secret@example.com' });
    await newPatient(a.auth, { name: 'Mine' });

    const attempts = await Promise.all([
      invoke(fns.get, { ...path(theirs.id), ...a.auth }),
      invoke(fns.update, { method: 'PATCH', ...path(theirs.id), body: { name: 'Hijacked' }, ...a.auth }),
      invoke(fns.remove, { method: 'DELETE', ...path(theirs.id), ...a.auth }),
    ]);
    for (const res of attempts) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
      expect(JSON.stringify(res.body)).not.toMatch(/Sigiloso|secret@/);
    }
    const list = await get(fns.list, '/v1/patients?q=Sigiloso', a.auth);
    expect(list.body.data).toEqual([]);
    expect((await invoke(fns.get, { ...path(theirs.id), ...b.auth })).body).toMatchObject({ name: 'Paciente Sigiloso' });
  });
});
