import { ANONYMOUS_NAME, scrubResponseBody } from '../../lib/domain/patients/idempotency-scrub';

const patientId = '11111111-1111-4111-8111-111111111111';

describe('scrubResponseBody', () => {
  it("erases the patient's contact data, birth date and free text, and names the patient's own object only", () => {
    const patient = { id: patientId, name: 'Maria', email: 'm@example.com', phone: '+5511912345678', birthDate: '1990-01-01', locale: 'pt-BR' };
    expect(JSON.parse(scrubResponseBody(JSON.stringify(patient), patientId))).toEqual({
      id: patientId,
      name: ANONYMOUS_NAME,
      email: null,
      phone: null,
      birthDate: null,
      locale: 'pt-BR',
    });
    const appointment = {
      id: 'a',
      patientId,
      notes: 'private',
      cancelReason: 'private too',
      professional: { id: 'p', name: 'Dr. X' },
      history: [{ action: 'cancelled', reason: 'why' }],
      error: { details: { reason: 'slot_taken' } },
    };
    expect(JSON.parse(scrubResponseBody(JSON.stringify(appointment), patientId))).toEqual({
      ...appointment,
      notes: null,
      cancelReason: null,
      history: [{ action: 'cancelled', reason: null }],
    });
  });

  it('empties a body that is not JSON', () => {
    expect(scrubResponseBody('Maria <m@example.com>', patientId)).toBe('');
  });
});
