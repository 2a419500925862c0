// The backlog ahead of a request is dealt to the instances as if one queued request at a time went to the instance
// where it would start soonest (earlier instances win ties); the bulk dealing gives exactly that, whatever the
// number of instances and requests, at a cost that does not grow with them (a heap for the last few).
import { dealBacklog } from '../../src/control-plane/estimator/backlog';
import { fluidWaitMs } from '../../src/control-plane/estimator';
import { mulberry32 } from '@sage/common';

interface Row {
  occupied: number;
  slots: number;
  serviceMs: number;
  dealt: number;
}

const waitAt = (r: Row, extra: number) => fluidWaitMs(r.occupied + extra, r.slots, r.serviceMs);

/** The rule read directly: each request to the row with the soonest start, scanning every row. */
function oneByOne(rows: Row[], n: number): void {
  for (let k = 0; k < n; k++) {
    let soonest = rows[0]!;
    for (const r of rows) if (waitAt(r, r.dealt) < waitAt(soonest, soonest.dealt)) soonest = r;
    soonest.dealt += 1;
  }
}

it('deals as one request at a time would, on random instances and backlogs', () => {
  const r = mulberry32(11);
  for (let t = 0; t < 1500; t++) {
    const rows = Array.from({ length: 1 + Math.floor(r() * 70) }, () => ({ occupied: Math.floor(r() * 10), slots: 1 + Math.floor(r() * 8), serviceMs: Math.round(r() * 4) * 100 + 50, dealt: 0 }));
    const expected = rows.map((x) => ({ ...x }));
    const n = Math.floor(r() * 2000);
    dealBacklog(rows, n);
    oneByOne(expected, n);
    expect(rows.map((x) => x.dealt)).toEqual(expected.map((x) => x.dealt));
  }
});
