import { describe, expect, it } from 'vitest';
import { FREEZE_HORIZON_DAYS, freezeAt } from '../../../src/domain/freeze.js';
import type { FreezeWindows } from '../../../src/domain/pipeline.js';

const windows = (w: Partial<FreezeWindows>): FreezeWindows => ({
  timeZone: 'UTC',
  weekly: [],
  dates: [],
  policy: 'wait',
  ...w,
});

const weekend = (timeZone: string, reason?: string): FreezeWindows =>
  windows({ timeZone, weekly: [{ from: 'Fri 16:00', to: 'Mon 08:00', ...(reason ? { reason } : {}) }] });

/** One millisecond before an instant. */
const justBefore = (iso: string): string => new Date(Date.parse(iso) - 1).toISOString();

describe('freeze windows', () => {
  it('is never frozen without windows', () => {
    expect(freezeAt(windows({}), '2026-01-10T12:00:00Z')).toEqual({ frozen: false });
  });

  it('holds a weekend window that wraps the week, in the zone’s wall-clock time', () => {
    // Saturday 10 January 2026; Berlin is on CET (UTC+1).
    expect(freezeAt(weekend('Europe/Berlin', 'no prod changes at the weekend'), '2026-01-10T12:00:00Z')).toEqual({
      frozen: true,
      until: '2026-01-12T07:00:00.000Z',
      window: 'Fri 16:00 → Mon 08:00 Europe/Berlin',
      reason: 'no prod changes at the weekend',
    });
    expect(freezeAt(weekend('Europe/Berlin'), '2026-01-14T12:00:00Z')).toEqual({ frozen: false });
  });

  it('opens at its start (included) and closes at its end (excluded), to the millisecond', () => {
    const w = weekend('Europe/Berlin');
    const opens = '2026-01-09T15:00:00.000Z'; // Fri 16:00 CET
    const closes = '2026-01-12T07:00:00.000Z'; // Mon 08:00 CET
    expect(freezeAt(w, justBefore(opens))).toEqual({ frozen: false });
    expect(freezeAt(w, opens)).toMatchObject({ frozen: true, until: closes });
    expect(freezeAt(w, justBefore(closes))).toMatchObject({ frozen: true, until: closes });
    expect(freezeAt(w, closes)).toEqual({ frozen: false });
  });

  it('follows Europe/Berlin across the spring change: opens on CET, closes on CEST', () => {
    const w = weekend('Europe/Berlin');
    // Clocks go forward on Sunday 29 March 2026: Fri 16:00 is 15:00Z, Mon 08:00 is 06:00Z.
    expect(freezeAt(w, justBefore('2026-03-27T15:00:00.000Z'))).toEqual({ frozen: false });
    expect(freezeAt(w, '2026-03-27T15:00:00.000Z')).toMatchObject({ until: '2026-03-30T06:00:00.000Z' });
    expect(freezeAt(w, '2026-03-29T01:30:00.000Z')).toMatchObject({ until: '2026-03-30T06:00:00.000Z' });
    expect(freezeAt(w, '2026-03-30T06:00:00.000Z')).toEqual({ frozen: false });
  });

  it('follows Europe/Berlin across the autumn change: opens on CEST, closes on CET', () => {
    const w = weekend('Europe/Berlin');
    // Clocks go back on Sunday 25 October 2026: Fri 16:00 is 14:00Z, Mon 08:00 is 07:00Z.
    expect(freezeAt(w, justBefore('2026-10-23T14:00:00.000Z'))).toEqual({ frozen: false });
    expect(freezeAt(w, '2026-10-23T14:00:00.000Z')).toMatchObject({ until: '2026-10-26T07:00:00.000Z' });
    expect(freezeAt(w, '2026-10-26T06:59:59.999Z')).toMatchObject({ frozen: true });
    expect(freezeAt(w, '2026-10-26T07:00:00.000Z')).toEqual({ frozen: false });
  });

  it('follows America/New_York across both changes', () => {
    const w = weekend('America/New_York');
    // Spring forward on Sunday 8 March 2026: Fri 16:00 EST is 21:00Z, Mon 08:00 EDT is 12:00Z.
    expect(freezeAt(w, justBefore('2026-03-06T21:00:00.000Z'))).toEqual({ frozen: false });
    expect(freezeAt(w, '2026-03-07T12:00:00.000Z')).toMatchObject({ until: '2026-03-09T12:00:00.000Z' });
    expect(freezeAt(w, '2026-03-09T12:00:00.000Z')).toEqual({ frozen: false });
    // Fall back on Sunday 1 November 2026: Fri 16:00 EDT is 20:00Z, Mon 08:00 EST is 13:00Z.
    expect(freezeAt(w, justBefore('2026-10-30T20:00:00.000Z'))).toEqual({ frozen: false });
    expect(freezeAt(w, '2026-10-30T20:00:00.000Z')).toMatchObject({ until: '2026-11-02T13:00:00.000Z' });
    expect(freezeAt(w, '2026-11-02T13:00:00.000Z')).toEqual({ frozen: false });
  });

  it('starts a window set in the skipped hour when the clocks jump, and one in the repeated hour at its first occurrence', () => {
    // 02:30 does not exist in New York on 8 March 2026: the clocks jump from 02:00 EST to 03:00 EDT (07:00Z).
    const skipped = windows({ timeZone: 'America/New_York', weekly: [{ from: 'Sun 02:30', to: 'Sun 04:00' }] });
    expect(freezeAt(skipped, '2026-03-08T07:29:59.999Z')).toEqual({ frozen: false });
    expect(freezeAt(skipped, '2026-03-08T07:30:00.000Z')).toMatchObject({ until: '2026-03-08T08:00:00.000Z' });
    // 01:30 happens twice in New York on 1 November 2026 (05:30Z EDT, then 06:30Z EST): the first one counts.
    const repeated = windows({ timeZone: 'America/New_York', weekly: [{ from: 'Sun 01:30', to: 'Sun 03:00' }] });
    expect(freezeAt(repeated, '2026-11-01T05:30:00.000Z')).toMatchObject({ until: '2026-11-01T08:00:00.000Z' });
    expect(freezeAt(repeated, justBefore('2026-11-01T05:30:00.000Z'))).toEqual({ frozen: false });
  });

  it('wraps from Sunday into Monday and lasts a whole week when its end is its start', () => {
    const overnight = windows({ weekly: [{ from: 'Sun 22:00', to: 'Mon 06:00' }] });
    expect(freezeAt(overnight, '2026-01-12T05:00:00Z')).toMatchObject({ until: '2026-01-12T06:00:00.000Z' });
    expect(freezeAt(overnight, '2026-01-11T21:59:00Z')).toEqual({ frozen: false });
    const always = windows({ weekly: [{ from: 'Mon 00:00', to: 'Mon 00:00', reason: 'migration' }] });
    const at = '2026-01-14T10:00:00.000Z';
    expect(freezeAt(always, at)).toEqual({
      frozen: true,
      until: new Date(Date.parse(at) + FREEZE_HORIZON_DAYS * 86_400_000).toISOString(),
      window: 'Mon 00:00 → Mon 00:00 UTC',
      reason: 'migration',
    });
  });

  it('reads one-off dates as whole days in the time zone', () => {
    const july4 = windows({ timeZone: 'America/New_York', dates: [{ from: '2026-07-04', to: '2026-07-04' }] });
    // Midnight to midnight EDT (UTC-4).
    expect(freezeAt(july4, '2026-07-04T03:59:59.999Z')).toEqual({ frozen: false });
    expect(freezeAt(july4, '2026-07-04T04:00:00.000Z')).toEqual({
      frozen: true,
      until: '2026-07-05T04:00:00.000Z',
      window: '2026-07-04 → 2026-07-04 America/New_York',
    });
    expect(freezeAt(july4, '2026-07-05T04:00:00.000Z')).toEqual({ frozen: false });
  });

  it('takes one-off instants as written, with their own offsets', () => {
    const w = windows({
      timeZone: 'Europe/Berlin',
      dates: [{ from: '2026-05-01T10:00:00Z', to: '2026-05-01T14:00:00+02:00', reason: 'database upgrade' }],
    });
    expect(freezeAt(w, '2026-05-01T11:00:00Z')).toMatchObject({
      until: '2026-05-01T12:00:00.000Z',
      reason: 'database upgrade',
    });
    expect(freezeAt(w, '2026-05-01T12:00:00Z')).toEqual({ frozen: false });
  });

  it('runs adjacent windows together: until is the end of the whole span', () => {
    // The weekend ends Mon 12 January 08:00 CET; the one-off Monday starts at its midnight and ends at Tuesday's.
    const w = windows({
      timeZone: 'Europe/Berlin',
      weekly: [{ from: 'Fri 16:00', to: 'Mon 08:00', reason: 'weekend' }],
      dates: [{ from: '2026-01-12T07:00:00Z', to: '2026-01-12', reason: 'release retro' }],
    });
    expect(freezeAt(w, '2026-01-10T12:00:00Z')).toEqual({
      frozen: true,
      until: '2026-01-12T23:00:00.000Z',
      window: 'Fri 16:00 → Mon 08:00 Europe/Berlin',
      reason: 'weekend',
    });
  });

  it('merges overlapping windows, naming the one that holds the instant', () => {
    // Thursday 24 to Saturday 26 December overlaps the weekend Fri 25 16:00 → Mon 28 08:00.
    const w = windows({
      timeZone: 'Europe/Berlin',
      weekly: [{ from: 'Fri 16:00', to: 'Mon 08:00' }],
      dates: [{ from: '2026-12-24', to: '2026-12-26', reason: 'Christmas' }],
    });
    expect(freezeAt(w, '2026-12-24T09:00:00Z')).toEqual({
      frozen: true,
      until: '2026-12-28T07:00:00.000Z',
      window: '2026-12-24 → 2026-12-26 Europe/Berlin',
      reason: 'Christmas',
    });
    // Inside both, the one that ends last is named.
    expect(freezeAt(w, '2026-12-25T20:00:00Z')).toMatchObject({ window: 'Fri 16:00 → Mon 08:00 Europe/Berlin' });
    expect(freezeAt(w, '2026-12-23T22:59:59.999Z')).toEqual({ frozen: false });
  });

  it('does not chain windows separated by a gap', () => {
    const w = windows({
      weekly: [
        { from: 'Tue 10:00', to: 'Tue 11:00' },
        { from: 'Tue 11:01', to: 'Tue 12:00' },
      ],
    });
    expect(freezeAt(w, '2026-01-13T10:30:00Z')).toMatchObject({ until: '2026-01-13T11:00:00.000Z' });
    expect(freezeAt(w, '2026-01-13T11:00:30Z')).toEqual({ frozen: false });
  });

  it('refuses an unknown time zone and a malformed instant, naming them', () => {
    expect(() => freezeAt(weekend('Mars/Olympus'), '2026-01-10T12:00:00Z')).toThrow(/Mars\/Olympus/);
    expect(() => freezeAt(weekend('UTC'), 'next friday')).toThrow(/next friday/);
  });
});
