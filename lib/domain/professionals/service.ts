import { invalidateSlots } from '../availability/cache';
import { getDb } from '../../platform/db/client';
import { inTransaction } from '../../platform/db/transaction';
import { NotFoundError } from '../../platform/errors/app-error';
import {
  formatHHMM,
  parseHHMM,
  type CreateProfessionalInput,
  type CreateTimeOffInput,
  type UpdateProfessionalInput,
  type WorkingHoursInput,
} from './schemas';
import { keysetAfter, toPage, type Page, type Position } from '../../platform/pagination/cursor';

/**
 * Professionals, their weekly working hours and their time off. Every query is scoped to the
 * caller's clinic: another clinic's professional is "not found", never its data. Every change that
 * affects availability invalidates the professional's cached slots after it committed.
 */

const PROFESSIONAL = {
  id: true,
  name: true,
  specialty: true,
  defaultDurationMinutes: true,
  bufferBeforeMinutes: true,
  bufferAfterMinutes: true,
  slotStepMinutes: true,
  active: true,
  createdAt: true,
  updatedAt: true,
} as const;

/** Fields whose change moves a professional's free slots. */
const AVAILABILITY_FIELDS = ['defaultDurationMinutes', 'bufferBeforeMinutes', 'bufferAfterMinutes', 'slotStepMinutes', 'active'] as const;

export interface ProfessionalView {
  id: string;
  name: string;
  specialty: string | null;
  defaultDurationMinutes: number;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  slotStepMinutes: number;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface WorkingIntervalView {
  weekday: number;
  start: string;
  end: string;
}

export interface WorkingHoursView {
  /** The zone the local times are in: the clinic's. */
  timeZone: string;
  data: WorkingIntervalView[];
}

export interface TimeOffView {
  id: string;
  startsAt: Date;
  endsAt: Date;
  reason: string | null;
  createdAt: Date;
}

const TIME_OFF = { id: true, startsAt: true, endsAt: true, reason: true, createdAt: true } as const;

const notFound = () => new NotFoundError('Professional not found');

export async function createProfessional(clinicId: string, input: CreateProfessionalInput): Promise<ProfessionalView> {
  const db = await getDb();
  return db.professional.create({ data: { ...input, clinicId }, select: PROFESSIONAL });
}

export async function listProfessionals(
  clinicId: string,
  query: { limit: number; cursor?: Position | undefined; active?: boolean | undefined },
): Promise<Page<ProfessionalView>> {
  const db = await getDb();
  const rows = await db.professional.findMany({
    where: { clinicId, ...(query.active !== undefined && { active: query.active }), ...keysetAfter('createdAt', query.cursor) },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    take: query.limit + 1,
    select: PROFESSIONAL,
  });
  return toPage(rows, query.limit, (r) => r.createdAt, (r) => r);
}

export async function getProfessional(clinicId: string, id: string): Promise<ProfessionalView> {
  const db = await getDb();
  const row = await db.professional.findFirst({ where: { id, clinicId }, select: PROFESSIONAL });
  if (!row) throw notFound();
  return row;
}

export async function updateProfessional(clinicId: string, id: string, input: UpdateProfessionalInput): Promise<ProfessionalView> {
  const row = await inTransaction(async (tx) => {
    const { count } = await tx.professional.updateMany({ where: { id, clinicId }, data: input });
    if (count === 0) throw notFound();
    return tx.professional.findUniqueOrThrow({ where: { id }, select: PROFESSIONAL });
  });
  if (AVAILABILITY_FIELDS.some((f) => input[f] !== undefined)) await invalidateSlots(id);
  return row;
}

const serializeHours = (rows: { weekday: number; startMinute: number; endMinute: number }[]): WorkingIntervalView[] =>
  rows.map((r) => ({ weekday: r.weekday, start: formatHHMM(r.startMinute), end: formatHHMM(r.endMinute) }));

const HOURS_ORDER = [{ weekday: 'asc' }, { startMinute: 'asc' }] as const;
const HOURS = { weekday: true, startMinute: true, endMinute: true } as const;

export async function getWorkingHours(clinicId: string, id: string): Promise<WorkingHoursView> {
  const db = await getDb();
  const row = await db.professional.findFirst({
    where: { id, clinicId },
    select: { clinic: { select: { timeZone: true } }, workingHours: { select: HOURS, orderBy: [...HOURS_ORDER] } },
  });
  if (!row) throw notFound();
  return { timeZone: row.clinic.timeZone, data: serializeHours(row.workingHours) };
}

/**
 * Replaces the whole weekly schedule in one transaction. The professional's row is locked first
 * (the update), so two concurrent replacements run one after the other and the result is exactly
 * one of them, never a mix. The input was validated (no overlaps) before it got here.
 */
export async function replaceWorkingHours(clinicId: string, id: string, hours: WorkingHoursInput): Promise<WorkingHoursView> {
  const result = await inTransaction(async (tx) => {
    const { count } = await tx.professional.updateMany({ where: { id, clinicId }, data: { updatedAt: new Date() } });
    if (count === 0) throw notFound();
    await tx.workingHours.deleteMany({ where: { professionalId: id } });
    if (hours.length > 0) {
      await tx.workingHours.createMany({
        data: hours.map((h) => ({ professionalId: id, weekday: h.weekday, startMinute: parseHHMM(h.start), endMinute: parseHHMM(h.end) })),
      });
    }
    const [clinic, rows] = await Promise.all([
      tx.clinic.findUniqueOrThrow({ where: { id: clinicId }, select: { timeZone: true } }),
      tx.workingHours.findMany({ where: { professionalId: id }, select: HOURS, orderBy: [...HOURS_ORDER] }),
    ]);
    return { timeZone: clinic.timeZone, data: serializeHours(rows) };
  });
  await invalidateSlots(id);
  return result;
}

async function assertProfessional(clinicId: string, id: string): Promise<void> {
  const db = await getDb();
  const exists = await db.professional.count({ where: { id, clinicId } });
  if (!exists) throw notFound();
}

export async function addTimeOff(clinicId: string, id: string, input: CreateTimeOffInput): Promise<TimeOffView> {
  await assertProfessional(clinicId, id);
  const db = await getDb();
  const row = await db.timeOff.create({
    data: { professionalId: id, startsAt: input.startsAt, endsAt: input.endsAt, reason: input.reason ?? null },
    select: TIME_OFF,
  });
  await invalidateSlots(id);
  return row;
}

/** The professional's time off, earliest first. */
export async function listTimeOff(clinicId: string, id: string): Promise<TimeOffView[]> {
  await assertProfessional(clinicId, id);
  const db = await getDb();
  return db.timeOff.findMany({
    where: { professionalId: id, professional: { clinicId } },
    orderBy: [{ startsAt: 'asc' }, { id: 'asc' }],
    select: TIME_OFF,
  });
}

export async function deleteTimeOff(clinicId: string, id: string, timeOffId: string): Promise<void> {
  const db = await getDb();
  const { count } = await db.timeOff.deleteMany({ where: { id: timeOffId, professionalId: id, professional: { clinicId } } });
  if (count === 0) {
    await assertProfessional(clinicId, id);
    throw new NotFoundError('Time off not found');
  }
  await invalidateSlots(id);
}
