/**
 * GET /v1/professionals/{id}/slots through the handler, against the real PostgreSQL and Redis:
 * working hours, a booked appointment (with its buffer-widened block), time off and a cancelled
 * appointment; the Redis cache (miss, hit, invalidation); tenancy; bad query parameters; and a
 * Redis outage that must not fail the request.
 */
import { newClinic } from '../support/clinic';
import { get, type InvokeResult } from '../support/invoke';
import { useSuite } from '../support/suite';

const suite = useSuite({
  modules: {
    slots: () => import('../../functions/http/slots'),
    db: () => import('../../lib/platform/db/client'),
    cache: () => import('../../lib/domain/availability/cache'),
    availability: () => import('../../lib/domain/availability/service'),
  },
});
const { slots, db, cache, availability } = suite.m;

let clinic: Awaited<ReturnType<typeof newClinic>>;
let professionalId: string;

// 2030-03-04 is a Monday; São Paulo has no DST then (UTC-3 all year).
const MONDAY = '2030-03-04';
const path = (id: string, query: string) => `/v1/professionals/${id}/slots?${query}`;
const slotsOf = (id: string, query: string, auth: { headers: Record<string, string> } = clinic.auth): Promise<InvokeResult> =>
  get(slots.handler, path(id, query), { ...auth, routeKey: 'GET /v1/professionals/{id}/slots', pathParameters: { id } });
const starts = (res: InvokeResult) => (res.body.slots as Array<{ start: string }>).map((s) => s.start);

beforeAll(async () => {
  clinic = await newClinic('America/Sao_Paulo');
  const prisma = await db.getDb();
  const pro = await prisma.professional.create({
    data: {
      clinicId: clinic.clinicId,
      name: 'Dra. Teste',
      defaultDurationMinutes: 30,
      bufferBeforeMinutes: 0,
      bufferAfterMinutes: 10,
      slotStepMinutes: 30,
      workingHours: {
        create: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, startMinute: 9 * 60, endMinute: 12 * 60 })),
      },
      timeOff: { create: [{ startsAt: new Date('2030-03-05T00:00:00-03:00'), endsAt: new Date('2030-03-06T00:00:00-03:00'), reason: 'course' }] },
    },
  });
  professionalId = pro.id;
  const patient = await prisma.patient.create({ data: { clinicId: clinic.clinicId, name: 'Paciente Teste' } });
  const appointment = (startsAt: string, status: string) => ({
    clinicId: clinic.clinicId,
    professionalId,
    patientId: patient.id,
    startsAt: new Date(startsAt),
    endsAt: new Date(Date.parse(startsAt) + 30 * 60_000),
    blockStartsAt: new Date(startsAt),
    blockEndsAt: new Date(Date.parse(startsAt) + 40 * 60_000), // 10 min buffer after
    status,
  });
  await prisma.appointment.create({ data: appointment('2030-03-04T10:00:00-03:00', 'scheduled') });
  await prisma.appointment.create({ data: appointment('2030-03-04T11:00:00-03:00', 'cancelled') });
});

describe('GET /v1/professionals/{id}/slots', () => {
  it('excludes a booked block (with buffers) and time off, ignores cancelled appointments, and caches: miss then hit', async () => {
    const first = await slotsOf(professionalId, `from=${MONDAY}&to=2030-03-06`);
    expect(first.status).toBe(200);
    expect(first.headers['x-cache']).toBe('miss');
    expect(first.body).toMatchObject({
      professionalId,
      timeZone: 'America/Sao_Paulo',
      from: '2030-03-04T00:00:00-03:00',
      to: '2030-03-06T00:00:00-03:00',
      durationMinutes: 30,
    });
    // 09:30 (block to 10:10), 10:00 and 10:30 meet the 10:00-10:40 booking; 11:00 was cancelled;
    // Tuesday is time off.
    expect(starts(first)).toEqual(['2030-03-04T09:00:00-03:00', '2030-03-04T11:00:00-03:00', '2030-03-04T11:30:00-03:00']);
    expect(first.body.slots[0]).toEqual({
      start: '2030-03-04T09:00:00-03:00',
      end: '2030-03-04T09:30:00-03:00',
      startUtc: '2030-03-04T12:00:00.000Z',
      endUtc: '2030-03-04T12:30:00.000Z',
    });

    const second = await slotsOf(professionalId, `from=${MONDAY}&to=2030-03-06`);
    expect(second.status).toBe(200);
    expect(second.headers['x-cache']).toBe('hit');
    expect(second.body).toEqual(first.body);
  });

  it('takes a duration and date-times with an offset', async () => {
    const res = await slotsOf(professionalId, `from=${encodeURIComponent('2030-03-04T09:00:00-03:00')}&to=${encodeURIComponent('2030-03-04T15:00:00Z')}&duration=60`);
    expect(res.status).toBe(200);
    expect(res.body.durationMinutes).toBe(60);
    expect(starts(res)).toEqual(['2030-03-04T11:00:00-03:00']);
  });

  it('shows a changed schedule after invalidateSlots (a miss again)', async () => {
    const prisma = await db.getDb();
    await prisma.workingHours.create({ data: { professionalId, weekday: 1, startMinute: 14 * 60, endMinute: 15 * 60 } });
    const stale = await slotsOf(professionalId, `from=${MONDAY}&to=2030-03-06`);
    expect(stale.headers['x-cache']).toBe('hit'); // nobody told the cache yet

    await cache.invalidateSlots(professionalId);
    const fresh = await slotsOf(professionalId, `from=${MONDAY}&to=2030-03-06`);
    expect(fresh.headers['x-cache']).toBe('miss');
    expect(starts(fresh)).toEqual([
      '2030-03-04T09:00:00-03:00',
      '2030-03-04T11:00:00-03:00',
      '2030-03-04T11:30:00-03:00',
      '2030-03-04T14:00:00-03:00',
      '2030-03-04T14:30:00-03:00',
    ]);
    expect((await slotsOf(professionalId, `from=${MONDAY}&to=2030-03-06`)).headers['x-cache']).toBe('hit');
  });

  it("answers 404 for another clinic's professional and for an unknown one", async () => {
    const other = await newClinic();
    const res = await slotsOf(professionalId, `from=${MONDAY}&to=2030-03-06`, other.auth);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    expect(JSON.stringify(res.body)).not.toContain('slots');
    expect((await slotsOf('00000000-0000-4000-8000-00000000dead', `from=${MONDAY}&to=2030-03-06`)).status).toBe(404);
    expect((await slotsOf(professionalId, `from=${MONDAY}&to=2030-03-06`, { headers: {} })).status).toBe(401);
  });

  it.each([
    ['an impossible date', 'from=2026-02-30&to=2026-03-05', 'from'],
    ['an impossible date-time', 'from=2026-03-01&to=2026-03-05T25:00:00Z', 'to'],
    ['a missing from', 'to=2026-03-05', 'from'],
    ['a non-ISO value', 'from=yesterday&to=2026-03-05', 'from'],
    ['to before from', 'from=2026-03-05&to=2026-03-01', 'to'],
    ['to equal to from', 'from=2026-03-05&to=2026-03-05', 'to'],
    ['a range over 62 days', 'from=2026-03-01&to=2026-05-03', 'to'],
    ['a duration that is not a number', 'from=2026-03-01&to=2026-03-02&duration=abc', 'duration'],
    ['a duration out of range', 'from=2026-03-01&to=2026-03-02&duration=0', 'duration'],
    ['a local time inside a DST gap', 'from=2018-11-04T00:30&to=2018-11-05', 'from'],
  ])('answers 400 naming the field for %s', async (_what, query, field) => {
    const res = await slotsOf(professionalId, query);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('answers 400 for an id that is not a UUID', async () => {
    const res = await slotsOf('not-a-uuid', `from=${MONDAY}&to=2030-03-06`);
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('id');
  });

  it('accepts exactly 62 days', async () => {
    const res = await slotsOf(professionalId, 'from=2030-03-01&to=2030-05-02');
    expect(res.status).toBe(200);
    expect(res.body.slots.length).toBeGreaterThan(100);
  });

  it('computes without the cache when Redis is unreachable', async () => {
    // The route itself is covered by test/integration/redis-outage.test.ts (the rate limit goes on
    // in memory). The availability service never fails on Redis: it computes and says so.
    const redisUrl = process.env.REDIS_URL;
    process.env.REDIS_URL = 'redis://127.0.0.1:1'; // nothing listens there
    try {
      await suite.reload();
      const { getSlots } = availability;
      const started = Date.now();
      const { result, cache } = await getSlots({
        clinicId: clinic.clinicId,
        timeZone: 'America/Sao_Paulo',
        professionalId,
        from: new Date('2030-03-04T00:00:00-03:00'),
        to: new Date('2030-03-06T00:00:00-03:00'),
      });
      expect(cache).toBe('bypass');
      expect(result.slots.map((s) => s.start)).toContain('2030-03-04T14:00:00-03:00');
      expect(Date.now() - started).toBeLessThan(3_000);
      // While the container remembers Redis as down, the next request does not wait for it again.
      const again = Date.now();
      expect((await getSlots({ clinicId: clinic.clinicId, timeZone: 'America/Sao_Paulo', professionalId, from: new Date('2030-03-04T00:00:00-03:00'), to: new Date('2030-03-05T00:00:00-03:00') })).cache).toBe('bypass');
      expect(Date.now() - again).toBeLessThan(500);
    } finally {
      process.env.REDIS_URL = redisUrl;
      await suite.reload();
    }
  });
});
