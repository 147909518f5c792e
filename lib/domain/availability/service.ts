import { getDb } from '../../platform/db/client';
import { NotFoundError } from '../../platform/errors/app-error';
import { logger } from '../../platform/observability/logger';
import { getRedis } from '../../platform/redis/client';
import { slotsCacheKey } from './cache';
import { computeSlots, localIso, toSlotView, type SlotView } from './slots';

/** How long a computed slot list is kept; every change that affects it bumps the version anyway. */
export const SLOTS_CACHE_TTL_SECONDS = 300;

/** Appointment states that keep a professional busy. */
export const ACTIVE_STATUSES = ['scheduled', 'confirmed'] as const;

export interface SlotsRequest {
  clinicId: string;
  /** The clinic's time zone: working hours are local times there, and the answer is shown in it. */
  timeZone: string;
  professionalId: string;
  from: Date;
  to: Date;
  /** Defaults to the professional's default duration. */
  durationMinutes?: number;
  /** Defaults to the current time; slots before it are not offered. */
  now?: Date;
}

export interface SlotsResult {
  professionalId: string;
  timeZone: string;
  from: string;
  to: string;
  durationMinutes: number;
  slots: SlotView[];
}

/**
 * `hit`: served from Redis; `miss`: computed and stored; `bypass`: computed without the cache
 * (Redis unavailable, or the professional's cached lists left stale by an outage).
 */
export type CacheOutcome = 'hit' | 'miss' | 'bypass';

/**
 * A professional's free slots over [from, to), cached in Redis per professional version and query.
 * The professional is read from the database on every call (so another clinic's id is a 404 and
 * the cache key carries their current duration, buffers and step); hours, time off and
 * appointments are read only on a miss. Redis being down never fails the request, nor makes it
 * wait: getRedis() refuses at once while Redis is remembered down. A professional marked stale (a
 * change whose bump failed in an outage, lib/domain/availability/cache.ts) skips the cache: computed, not
 * stored, until the relay drops the old lists.
 */
export async function getSlots(req: SlotsRequest): Promise<{ result: SlotsResult; cache: CacheOutcome }> {
  const db = await getDb();
  const pro = await db.professional.findFirst({
    where: { id: req.professionalId, clinicId: req.clinicId },
    select: {
      id: true,
      active: true,
      defaultDurationMinutes: true,
      bufferBeforeMinutes: true,
      bufferAfterMinutes: true,
      slotStepMinutes: true,
      slotCacheStaleSince: true,
    },
  });
  if (!pro) throw new NotFoundError('Professional not found');

  const zone = req.timeZone;
  const now = req.now ?? new Date();
  const durationMinutes = req.durationMinutes ?? pro.defaultDurationMinutes;
  const head = {
    professionalId: pro.id,
    timeZone: zone,
    from: localIso(req.from, zone),
    to: localIso(req.to, zone),
    durationMinutes,
  };
  const rangeKey = [
    zone,
    req.from.toISOString(),
    req.to.toISOString(),
    `d${durationMinutes}`,
    `b${pro.bufferBeforeMinutes}-${pro.bufferAfterMinutes}`,
    `s${pro.slotStepMinutes}`,
    pro.active ? 'on' : 'off',
  ].join('|');

  const key = pro.slotCacheStaleSince ? undefined : await cacheKey(pro.id, rangeKey);
  if (key) {
    const cached = await cacheGet(key);
    // Slots are stored as computed; those that slipped into the past since then are dropped here.
    if (cached) return { result: { ...head, slots: cached.filter((s) => Date.parse(s.startUtc) >= now.getTime()) }, cache: 'hit' };
  }

  let slots: SlotView[] = [];
  if (pro.active) {
    // Anything that can touch a slot starting in [from, to): its block reaches back by the buffer
    // before and forward by the duration plus the buffer after.
    const windowStart = new Date(req.from.getTime() - pro.bufferBeforeMinutes * 60_000);
    const windowEnd = new Date(req.to.getTime() + (durationMinutes + pro.bufferAfterMinutes) * 60_000);
    const [hours, timeOff, busy] = await Promise.all([
      db.workingHours.findMany({ where: { professionalId: pro.id }, select: { weekday: true, startMinute: true, endMinute: true } }),
      db.timeOff.findMany({
        where: { professionalId: pro.id, startsAt: { lt: windowEnd }, endsAt: { gt: windowStart } },
        select: { startsAt: true, endsAt: true },
      }),
      db.appointment.findMany({
        where: {
          professionalId: pro.id,
          status: { in: [...ACTIVE_STATUSES] },
          blockStartsAt: { lt: windowEnd },
          blockEndsAt: { gt: windowStart },
        },
        select: { blockStartsAt: true, blockEndsAt: true },
      }),
    ]);
    slots = computeSlots({
      zone,
      hours,
      timeOff: timeOff.map((t) => ({ start: t.startsAt, end: t.endsAt })),
      busy: busy.map((a) => ({ start: a.blockStartsAt, end: a.blockEndsAt })),
      durationMinutes,
      bufferBeforeMinutes: pro.bufferBeforeMinutes,
      bufferAfterMinutes: pro.bufferAfterMinutes,
      stepMinutes: pro.slotStepMinutes,
      from: req.from,
      to: req.to,
      now,
    }).map((s) => toSlotView(s, zone));
  }

  if (key) await cacheSet(key, slots);
  return { result: { ...head, slots }, cache: key ? 'miss' : 'bypass' };
}

async function cacheKey(professionalId: string, rangeKey: string): Promise<string | undefined> {
  try {
    return await slotsCacheKey(professionalId, rangeKey);
  } catch (err) {
    logger.warn('availability.cache_unavailable', { professionalId, error: (err as Error).message });
    return undefined;
  }
}

async function cacheGet(key: string): Promise<SlotView[] | undefined> {
  try {
    const raw = await (await getRedis()).get(key);
    if (raw === null) return undefined;
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? (parsed as SlotView[]) : undefined;
  } catch (err) {
    logger.warn('availability.cache_read_failed', { error: (err as Error).message });
    return undefined;
  }
}

async function cacheSet(key: string, slots: SlotView[]): Promise<void> {
  try {
    await (await getRedis()).set(key, JSON.stringify(slots), 'EX', SLOTS_CACHE_TTL_SECONDS);
  } catch (err) {
    logger.warn('availability.cache_write_failed', { error: (err as Error).message });
  }
}
