import { newClinic } from '../support/clinic';
import { get, post } from '../support/invoke';
import { localAt, newPatient, newProfessional } from '../support/scheduling-fixtures';
import { useSuite } from '../support/suite';

const { controls } = useSuite({ modules: { controls: () => import('../../functions/http/controls') } }).m;

describe('controls (session packages)', () => {
  it('creates, gets and lists by patient, with sessions used and remaining', async () => {
    const c = await newClinic();
    const patient = await newPatient(c.clinicId);
    const pro = await newProfessional(c.clinicId);
    const res = await post(controls.create, '/v1/controls', { patientId: patient.id, professionalId: pro.id, sessionsTotal: 10, validUntil: localAt(30, 12).slice(0, 10), renewalPolicy: 'automatic' }, c.auth);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ patientId: patient.id, professionalId: pro.id, sessionsTotal: 10, sessionsUsed: 0, sessionsRemaining: 10, status: 'active', renewalPolicy: 'automatic' });
    // A bare date is valid through the end of that day in the clinic's zone (23:59:59.999 at -03:00).
    expect(res.body.validUntil).toMatch(/T02:59:59\.999Z$/);
    const one = await get(controls.get, `/v1/controls/${res.body.id}`, { ...c.auth, pathParameters: { id: res.body.id } });
    expect(one.body).toEqual(res.body);
    await post(controls.create, '/v1/controls', { patientId: patient.id, sessionsTotal: 1, validUntil: localAt(5, 12) }, c.auth);
    const other = await newPatient(c.clinicId);
    await post(controls.create, '/v1/controls', { patientId: other.id, sessionsTotal: 1, validUntil: localAt(5, 12) }, c.auth);
    const list = await get(controls.list, `/v1/controls?patientId=${patient.id}`, c.auth);
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(2);
    const page = await get(controls.list, `/v1/controls?patientId=${patient.id}&limit=1`, c.auth);
    expect(page.body.data).toHaveLength(1);
    const next = await get(controls.list, `/v1/controls?patientId=${patient.id}&limit=1&cursor=${page.body.nextCursor}`, c.auth);
    expect(next.body.data[0].id).not.toBe(page.body.data[0].id);
    expect(next.body.nextCursor).toBeNull();
  });

  it('answers 400 for bad input: sessions out of range, past or impossible dates, unknown fields', async () => {
    const c = await newClinic();
    const patient = await newPatient(c.clinicId);
    const base = { patientId: patient.id, sessionsTotal: 5, validUntil: localAt(5, 12) };
    for (const [body, field] of [
      [{ ...base, sessionsTotal: 0 }, 'sessionsTotal'],
      [{ ...base, sessionsTotal: 201 }, 'sessionsTotal'],
      [{ ...base, validUntil: '2020-01-01' }, 'validUntil'],
      [{ ...base, validUntil: '2030-02-30' }, 'validUntil'],
      [{ ...base, renewalPolicy: 'sometimes' }, 'renewalPolicy'],
    ] as const) {
      const res = await post(controls.create, '/v1/controls', body, c.auth);
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
  });

  it("answers 404 for another clinic's patient, professional and control", async () => {
    const a = await newClinic();
    const b = await newClinic();
    const pa = await newPatient(a.clinicId);
    const pb = await newPatient(b.clinicId);
    const prob = await newProfessional(b.clinicId);
    expect((await post(controls.create, '/v1/controls', { patientId: pb.id, sessionsTotal: 1, validUntil: localAt(5, 12) }, a.auth)).status).toBe(404);
    expect((await post(controls.create, '/v1/controls', { patientId: pa.id, professionalId: prob.id, sessionsTotal: 1, validUntil: localAt(5, 12) }, a.auth)).status).toBe(404);
    const ctl = await post(controls.create, '/v1/controls', { patientId: pb.id, sessionsTotal: 1, validUntil: localAt(5, 12) }, b.auth);
    expect((await get(controls.get, `/v1/controls/${ctl.body.id}`, { ...a.auth, pathParameters: { id: ctl.body.id } })).status).toBe(404);
    expect((await get(controls.list, `/v1/controls?patientId=${pb.id}`, a.auth)).body.data).toEqual([]);
  });
});
