import { inSupportedRange, OFFSET_PATTERN } from '../../lib/platform/validation/time';

it('accepts instants a clinic schedules and offsets that exist', () => {
  expect(inSupportedRange(new Date('2026-03-02T12:00:00Z'))).toBe(true);
  expect(inSupportedRange(new Date('0000-01-01T00:00:00Z'))).toBe(false);
  expect(inSupportedRange(new Date('+275760-09-13T00:00:00Z'))).toBe(false);
  expect(inSupportedRange(new Date('nope'))).toBe(false);
  const offset = new RegExp(`^${OFFSET_PATTERN}$`);
  for (const ok of ['Z', '-03:00', '+14:00', '+0530']) expect(offset.test(ok)).toBe(true);
  for (const bad of ['+99:99', '+24:00', '+15:00', '-03:60']) expect(offset.test(bad)).toBe(false);
});
