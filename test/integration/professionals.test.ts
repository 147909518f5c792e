import { randomUUID } from 'node:crypto';
import { newClinic } from '../support/clinic';
import { get, invoke, post, type InvokeResult } from '../support/invoke';
import { useSuite } from '../support/suite';

const { fns, db, redisClient } = useSuite({
  modules: {
    fns: () => import('../../functions/http/professionals'),
    db: () => import('../../lib/platform/db/client'),
    redisClient: () => import('../../lib/platform/redis/client'),
  },
}).m;
type Auth = Awaited<ReturnType<typeof newClinic>>['auth'];

const path = (id: string, rest = '') => ({ path: `/v1/professionals/${id}${rest}`, pathParameters: { id } });

async function newProfessional(auth: Auth, body: Record<string, unknown> = {}) {
  const res = await post(fns.create, '/v1/professionals', { name: 'Dra. Ana Souza', ...body }, auth);
  expect(res.status).toBe(201);
  return res.body as { id: string; [k: string]: unknown };
}

const putHours = (auth: Auth, id: string, body: unknown) =>
  invoke(fns.putHours, { method: 'PUT', ...path(id, '/working-hours'), body, ...auth });

async function slotsVersion(professionalId: string): Promise<number> {
  const redis = await redisClient.getRedis();
  return Number((await redis.get(`slots:ver:${professionalId}`)) ?? '0');
}

function expectField(res: InvokeResult, field: string) {
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('validation_failed');
  expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
}

describe('professionals', () => {
  it('creates, reads and updates a professional', async () => {
    const { auth } = await newClinic();
    const created = await newProfessional(auth, { specialty: 'Cardiologia', bufferAfterMinutes: 10 });
    expect(created).toMatchObject({
      name: 'Dra. Ana Souza',
      specialty: 'Cardiologia',
      defaultDurationMinutes: 30,
      bufferBeforeMinutes: 0,
      bufferAfterMinutes: 10,
      slotStepMinutes: 15,
      active: true,
    });
    expect(created).not.toHaveProperty('clinicId');

    const got = await invoke(fns.get, { ...path(created.id), ...auth });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created);

    const patched = await invoke(fns.update, {
      method: 'PATCH',
      ...path(created.id),
      body: { specialty: null, defaultDurationMinutes: 50, slotStepMinutes: 10, active: false },
      ...auth,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Dra. Ana Souza', specialty: null, defaultDurationMinutes: 50, slotStepMinutes: 10, active: false });
  });

  it('refuses bad bodies, query strings and ids with 400 naming the field', async () => {
    const { auth } = await newClinic();
    expectField(await post(fns.create, '/v1/professionals', {}, auth), 'name');
    expectField(await post(fns.create, '/v1/professionals', { name: '  ' }, auth), 'name');
    expectField(await post(fns.create, '/v1/professionals', { name: 'A', defaultDurationMinutes: 4 }, auth), 'defaultDurationMinutes');
    expectField(await post(fns.create, '/v1/professionals', { name: 'A', defaultDurationMinutes: 481 }, auth), 'defaultDurationMinutes');
    expectField(await post(fns.create, '/v1/professionals', { name: 'A', bufferBeforeMinutes: -1 }, auth), 'bufferBeforeMinutes');
    expectField(await post(fns.create, '/v1/professionals', { name: 'A', bufferAfterMinutes: 241 }, auth), 'bufferAfterMinutes');
    expectField(await post(fns.create, '/v1/professionals', { name: 'A', slotStepMinutes: 2.5 }, auth), 'slotStepMinutes');
    expectField(await post(fns.create, '/v1/professionals', { name: 'A', active: 'yes' }, auth), 'active');
    expectField(await post(fns.create, '/v1/professionals', { name: 'A', clinicId: randomUUID() }, auth), 'body'); // strict
    expectField(await post(fns.create, '/v1/professionals', '{"name":', auth), 'body');

    const p = await newProfessional(auth);
    expectField(await invoke(fns.update, { method: 'PATCH', ...path(p.id), body: {}, ...auth }), 'body');
    expectField(await invoke(fns.update, { method: 'PATCH', ...path(p.id), body: { slotStepMinutes: 241 }, ...auth }), 'slotStepMinutes');
    expectField(await invoke(fns.get, { ...path('not-a-uuid'), ...auth }), 'id');
    expectField(await get(fns.list, '/v1/professionals?limit=0', auth), 'limit');
    expectField(await get(fns.list, '/v1/professionals?limit=abc', auth), 'limit');
    expectField(await get(fns.list, '/v1/professionals?cursor=garbage', auth), 'cursor');
    expectField(await get(fns.list, '/v1/professionals?sort=name', auth), 'query');
  });

  it('pages through professionals with a cursor, scoped to the clinic', async () => {
    const { auth } = await newClinic();
    const other = await newClinic();
    await newProfessional(other.auth, { name: 'Elsewhere' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await newProfessional(auth, { name: `P${i}` })).id);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: InvokeResult = await get(fns.list, `/v1/professionals?limit=2${cursor ? `&cursor=${cursor}` : ''}`, auth);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((p: { id: string }) => p.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);

    const inactive = await invoke(fns.update, { method: 'PATCH', ...path(ids[0]!), body: { active: false }, ...auth });
    expect(inactive.status).toBe(200);
    const active = await get(fns.list, '/v1/professionals?active=true', auth);
    expect(active.body.data.map((p: { id: string }) => p.id)).toEqual(ids.slice(1));
    expect(active.body.nextCursor).toBeNull();
  });

  it('replaces working hours, serializes them as HH:MM and bumps the slot cache version', async () => {
    const { auth } = await newClinic('America/Recife');
    const p = await newProfessional(auth);
    const empty = await invoke(fns.getHours, { ...path(p.id, '/working-hours'), ...auth });
    expect(empty.body).toEqual({ timeZone: 'America/Recife', data: [] });

    const before = await slotsVersion(p.id);
    const schedule = [
      { weekday: 1, start: '14:00', end: '18:30' },
      { weekday: 1, start: '08:00', end: '12:00' },
      { weekday: 1, start: '12:00', end: '13:00' }, // touching is not overlapping
      { weekday: 6, start: '20:00', end: '24:00' },
    ];
    const put = await putHours(auth, p.id, schedule);
    expect(put.status).toBe(200);
    const sorted = [schedule[1], schedule[2], schedule[0], schedule[3]];
    expect(put.body).toEqual({ timeZone: 'America/Recife', data: sorted });
    expect(await slotsVersion(p.id)).toBeGreaterThan(before);

    const got = await invoke(fns.getHours, { ...path(p.id, '/working-hours'), ...auth });
    expect(got.body.data).toEqual(sorted);

    // Stored as minutes from local midnight.
    const rows = await (await db.getDb()).workingHours.findMany({ where: { professionalId: p.id }, orderBy: { startMinute: 'asc' } });
    expect(rows.map((r) => [r.startMinute, r.endMinute])).toEqual([
      [480, 720],
      [720, 780],
      [840, 1110],
      [1200, 1440],
    ]);

    // Replacing, not appending; an empty array clears the week.
    const mid = await slotsVersion(p.id);
    expect((await putHours(auth, p.id, [{ weekday: 3, start: '09:00', end: '10:00' }])).body.data).toEqual([
      { weekday: 3, start: '09:00', end: '10:00' },
    ]);
    expect(await slotsVersion(p.id)).toBeGreaterThan(mid);
    expect((await putHours(auth, p.id, [])).body.data).toEqual([]);
  });

  it('refuses overlapping or malformed intervals with 400 naming the item, keeping the old schedule', async () => {
    const { auth } = await newClinic();
    const p = await newProfessional(auth);
    const original = [{ weekday: 2, start: '09:00', end: '17:00' }];
    expect((await putHours(auth, p.id, original)).status).toBe(200);
    const version = await slotsVersion(p.id);

    const overlap = await putHours(auth, p.id, [
      { weekday: 2, start: '08:00', end: '12:00' },
      { weekday: 3, start: '11:00', end: '13:00' }, // another day: fine
      { weekday: 2, start: '11:30', end: '14:00' },
    ]);
    expect(overlap.status).toBe(400);
    expect(overlap.body.error.details).toEqual([{ field: '2', problem: 'overlaps item 0 on Tuesday' }]);

    expectField(await putHours(auth, p.id, [{ weekday: 7, start: '09:00', end: '10:00' }]), '0.weekday');
    expectField(await putHours(auth, p.id, [{ weekday: 1, start: '9:00', end: '10:00' }]), '0.start');
    expectField(await putHours(auth, p.id, [{ weekday: 1, start: '24:00', end: '24:00' }]), '0.start');
    expectField(await putHours(auth, p.id, [{ weekday: 1, start: '09:00', end: '24:30' }]), '0.end');
    expectField(await putHours(auth, p.id, [{ weekday: 1, start: '10:00', end: '10:00' }]), '0.end');
    expectField(await putHours(auth, p.id, [{ weekday: 1, start: '09:00', end: '10:00', note: 'x' }]), '0');
    expectField(await putHours(auth, p.id, { weekday: 1, start: '09:00', end: '10:00' }), 'body');

    const got = await invoke(fns.getHours, { ...path(p.id, '/working-hours'), ...auth });
    expect(got.body.data).toEqual(original);
    expect(await slotsVersion(p.id)).toBe(version);
  });

  it('replaces working hours atomically: concurrent replacements leave exactly one of them', async () => {
    const { auth } = await newClinic();
    const p = await newProfessional(auth);
    const schedules = Array.from({ length: 8 }, (_, i) => [
      { weekday: i % 7, start: '08:00', end: '12:00' },
      { weekday: i % 7, start: '13:00', end: `${String(14 + i).padStart(2, '0')}:00` },
    ]);
    const results = await Promise.all(schedules.map((s) => putHours(auth, p.id, s)));
    expect(results.map((r) => r.status)).toEqual(schedules.map(() => 200));

    const got = await invoke(fns.getHours, { ...path(p.id, '/working-hours'), ...auth });
    expect(schedules).toContainEqual(got.body.data);
  });

  it('adds, lists and deletes time off, invalidating slots each time', async () => {
    const { auth } = await newClinic();
    const p = await newProfessional(auth);
    const v0 = await slotsVersion(p.id);

    const later = await invoke(fns.createTimeOff, {
      method: 'POST',
      ...path(p.id, '/time-off'),
      body: { startsAt: '2026-07-10T00:00:00-03:00', endsAt: '2026-07-20T00:00:00-03:00', reason: 'Férias' },
      ...auth,
    });
    expect(later.status).toBe(201);
    expect(later.body).toMatchObject({ startsAt: '2026-07-10T03:00:00.000Z', endsAt: '2026-07-20T03:00:00.000Z', reason: 'Férias' });
    const v1 = await slotsVersion(p.id);
    expect(v1).toBeGreaterThan(v0);

    const earlier = await invoke(fns.createTimeOff, {
      method: 'POST',
      ...path(p.id, '/time-off'),
      body: { startsAt: '2026-05-04T13:00:00Z', endsAt: '2026-05-04T18:00:00Z' },
      ...auth,
    });
    expect(earlier.status).toBe(201);
    expect(earlier.body.reason).toBeNull();

    const listed = await invoke(fns.listTimeOffs, { ...path(p.id, '/time-off'), ...auth });
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((t: { id: string }) => t.id)).toEqual([earlier.body.id, later.body.id]);

    const v2 = await slotsVersion(p.id);
    const del = await invoke(fns.removeTimeOff, {
      method: 'DELETE',
      path: `/v1/professionals/${p.id}/time-off/${later.body.id}`,
      pathParameters: { id: p.id, timeOffId: later.body.id },
      ...auth,
    });
    expect(del.status).toBe(204);
    expect(await slotsVersion(p.id)).toBeGreaterThan(v2);
    const again = await invoke(fns.removeTimeOff, {
      method: 'DELETE',
      path: `/v1/professionals/${p.id}/time-off/${later.body.id}`,
      pathParameters: { id: p.id, timeOffId: later.body.id },
      ...auth,
    });
    expect(again.status).toBe(404);
    expect((await invoke(fns.listTimeOffs, { ...path(p.id, '/time-off'), ...auth })).body.data).toHaveLength(1);
  });

  it('refuses bad time off with 400 naming the field', async () => {
    const { auth } = await newClinic();
    const p = await newProfessional(auth);
    const send = (body: unknown) => invoke(fns.createTimeOff, { method: 'POST', ...path(p.id, '/time-off'), body, ...auth });
    expectField(await send({ startsAt: '2026-07-10T10:00:00', endsAt: '2026-07-10T12:00:00Z' }), 'startsAt'); // no offset
    expectField(await send({ startsAt: '2026-02-30T10:00:00Z', endsAt: '2026-03-02T12:00:00Z' }), 'startsAt'); // no such day
    expectField(await send({ startsAt: '2026-07-10T10:00:00Z', endsAt: '2026-07-10T10:00:00Z' }), 'endsAt');
    expectField(await send({ startsAt: '2026-07-10T10:00:00Z', endsAt: '2026-07-10T09:00:00Z' }), 'endsAt');
    expectField(await send({ startsAt: '2026-01-01T00:00:00Z', endsAt: '2027-01-02T00:00:01Z' }), 'endsAt'); // > 366 days
    expectField(await send({ startsAt: '2026-07-10T10:00:00Z' }), 'endsAt');
    expectField(await send({ startsAt: '2026-07-10T10:00:00Z', endsAt: '2026-07-10T12:00:00Z', reason: 'a\u0000b' }), 'reason');
    const ok = await send({ startsAt: '2026-01-01T00:00:00Z', endsAt: '2027-01-02T00:00:00Z' }); // exactly 366 days
    expect(ok.status).toBe(201);
    const badTimeOffId = await invoke(fns.removeTimeOff, {
      method: 'DELETE',
      path: `/v1/professionals/${p.id}/time-off/nope`,
      pathParameters: { id: p.id, timeOffId: 'nope' },
      ...auth,
    });
    expectField(badTimeOffId, 'timeOffId');
  });

  it("answers 404 for another clinic's professional on every route, and changes nothing", async () => {
    const a = await newClinic();
    const b = await newClinic();
    const theirs = await newProfessional(b.auth, { name: 'Dr. Bruno' });
    expect((await putHours(b.auth, theirs.id, [{ weekday: 1, start: '08:00', end: '12:00' }])).status).toBe(200);
    const theirTimeOff = await invoke(fns.createTimeOff, {
      method: 'POST',
      ...path(theirs.id, '/time-off'),
      body: { startsAt: '2026-07-10T10:00:00Z', endsAt: '2026-07-11T10:00:00Z' },
      ...b.auth,
    });
    expect(theirTimeOff.status).toBe(201);
    const mine = await newProfessional(a.auth);
    const version = await slotsVersion(theirs.id);

    const attempts: Array<Promise<InvokeResult>> = [
      invoke(fns.get, { ...path(theirs.id), ...a.auth }),
      invoke(fns.update, { method: 'PATCH', ...path(theirs.id), body: { name: 'Hijacked', active: false }, ...a.auth }),
      invoke(fns.getHours, { ...path(theirs.id, '/working-hours'), ...a.auth }),
      putHours(a.auth, theirs.id, []),
      invoke(fns.createTimeOff, {
        method: 'POST',
        ...path(theirs.id, '/time-off'),
        body: { startsAt: '2026-08-10T10:00:00Z', endsAt: '2026-08-11T10:00:00Z' },
        ...a.auth,
      }),
      invoke(fns.listTimeOffs, { ...path(theirs.id, '/time-off'), ...a.auth }),
      invoke(fns.removeTimeOff, {
        method: 'DELETE',
        path: `/v1/professionals/${theirs.id}/time-off/${theirTimeOff.body.id}`,
        pathParameters: { id: theirs.id, timeOffId: theirTimeOff.body.id },
        ...a.auth,
      }),
      // Their time off through my professional's path.
      invoke(fns.removeTimeOff, {
        method: 'DELETE',
        path: `/v1/professionals/${mine.id}/time-off/${theirTimeOff.body.id}`,
        pathParameters: { id: mine.id, timeOffId: theirTimeOff.body.id },
        ...a.auth,
      }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
      expect(JSON.stringify(res.body)).not.toContain('Dr. Bruno');
    }
    const list = await get(fns.list, '/v1/professionals', a.auth);
    expect(list.body.data.map((x: { id: string }) => x.id)).toEqual([mine.id]);

    // Nothing of theirs changed.
    expect((await invoke(fns.get, { ...path(theirs.id), ...b.auth })).body).toMatchObject({ name: 'Dr. Bruno', active: true });
    expect((await invoke(fns.getHours, { ...path(theirs.id, '/working-hours'), ...b.auth })).body.data).toHaveLength(1);
    expect((await invoke(fns.listTimeOffs, { ...path(theirs.id, '/time-off'), ...b.auth })).body.data).toHaveLength(1);
    expect(await slotsVersion(theirs.id)).toBe(version);
  });
});
