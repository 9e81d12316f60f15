// The road network of IC3Net's traffic junction (IC3Net/IC3Net, ic3net-envs, traffic_junction_env.py
// and traffic_helper.py, MIT): the grid, the id ("class") of every road cell, the one-way lanes,
// the arrival points and every route from each, built the way that code builds them so that route
// ids, cell ids and the order of random draws are the same. test/fixtures/traffic_junction holds
// the grids and routes that code produced; the tests compare ours with them cell by cell.

export type Difficulty = 'easy' | 'medium' | 'hard';

/** the two actions: advance one cell along the route, or stay */
export const GAS = 0;
export const BRAKE = 1;

/** A heading as (drow, dcol); row 0 is the top of the grid. */
type Heading = readonly [number, number];
const SOUTH: Heading = [1, 0];
const NORTH: Heading = [-1, 0];
const EAST: Heading = [0, 1];
const WEST: Heading = [0, -1];
/** traffic keeps to the right: turning right from south is heading west, and so on */
const rightOf = (h: Heading): Heading => [h[1], -h[0]];
const leftOf = (h: Heading): Heading => [-h[1], h[0]];
const same = (a: Heading, b: Heading) => a[0] === b[0] && a[1] === b[1];

interface Lane {
  /** the row (a horizontal lane) or the column (a vertical one) */
  readonly at: number;
  readonly heading: Heading;
}

interface Layout {
  /** IC3Net's --dim: easy's grid is one larger (the env makes it odd) */
  readonly dim: number;
  readonly size: number;
  /** horizontal lanes, in blocks numbered top to bottom */
  readonly rowBlocks: readonly (readonly Lane[])[];
  /** vertical lanes, in blocks numbered left to right (they overwrite the crossings' ids) */
  readonly colBlocks: readonly (readonly Lane[])[];
  /** arrival cells and headings, in IC3Net's order (it fixes route ids and the order of draws) */
  readonly arrivals: readonly { readonly cell: readonly [number, number]; readonly heading: Heading }[];
  /** decisions a route makes at junctions (0: straight through; easy has no turns) */
  readonly decisions: number;
  /** BASE = (dim + dim) × this */
  readonly baseFactor: number;
}

const LAYOUTS: Record<Difficulty, Layout> = {
  easy: {
    dim: 6, size: 7, baseFactor: 1, decisions: 0,
    rowBlocks: [[{ at: 3, heading: EAST }]],
    colBlocks: [[{ at: 3, heading: SOUTH }]],
    arrivals: [{ cell: [0, 3], heading: SOUTH }, { cell: [3, 0], heading: EAST }],
  },
  medium: {
    dim: 14, size: 14, baseFactor: 2, decisions: 1,
    rowBlocks: [[{ at: 6, heading: WEST }, { at: 7, heading: EAST }]],
    colBlocks: [[{ at: 6, heading: SOUTH }, { at: 7, heading: NORTH }]],
    arrivals: [
      { cell: [0, 6], heading: SOUTH }, { cell: [13, 7], heading: NORTH },
      { cell: [7, 0], heading: EAST }, { cell: [6, 13], heading: WEST },
    ],
  },
  hard: {
    dim: 18, size: 18, baseFactor: 4, decisions: 2,
    rowBlocks: [[{ at: 4, heading: WEST }, { at: 5, heading: EAST }], [{ at: 12, heading: WEST }, { at: 13, heading: EAST }]],
    colBlocks: [[{ at: 4, heading: SOUTH }, { at: 5, heading: NORTH }], [{ at: 12, heading: SOUTH }, { at: 13, heading: NORTH }]],
    arrivals: [
      { cell: [0, 4], heading: SOUTH }, { cell: [0, 12], heading: SOUTH },
      { cell: [5, 0], heading: EAST }, { cell: [13, 0], heading: EAST },
      { cell: [17, 5], heading: NORTH }, { cell: [17, 13], heading: NORTH },
      { cell: [4, 17], heading: WEST }, { cell: [12, 17], heading: WEST },
    ],
  },
};

/** IC3Net's settings per difficulty (its README's flags): cars, steps, vision, arrival rate. */
export const DIFFICULTY_DEFAULTS: Record<Difficulty, { nagents: number; maxSteps: number; vision: number; addRate: number }> = {
  easy: { nagents: 5, maxSteps: 20, vision: 0, addRate: 0.3 },
  medium: { nagents: 10, maxSteps: 40, vision: 1, addRate: 0.05 },
  hard: { nagents: 20, maxSteps: 80, vision: 1, addRate: 0.05 },
};

export interface JunctionMap {
  readonly difficulty: Difficulty;
  /** the grid is size × size; cell (r, c) has index r·size + c */
  readonly size: number;
  /** [size²] each cell's id: a road id, or OUTSIDE_CLASS off the road */
  readonly classes: Int32Array;
  readonly outsideClass: number;
  /** the observation channel that counts cars */
  readonly carClass: number;
  readonly vocabSize: number;
  /** [size²] 1 where a horizontal and a vertical lane cross */
  readonly junction: Uint8Array;
  /** routes[k][p]: the cells (indices) of path p from arrival point k */
  readonly routes: readonly (readonly Int32Array[])[];
  /** every path by route id (p + k · paths at k), as IC3Net numbers them */
  readonly paths: readonly Int32Array[];
  readonly numArrivalPoints: number;
  /** [size²] 1 on an arrival point's cell, where a new car is placed whatever stands there */
  readonly arrivalCells: Uint8Array;
}

export function buildJunctionMap(difficulty: Difficulty): JunctionMap {
  const layout = LAYOUTS[difficulty];
  const { size } = layout;
  const base = (layout.dim + layout.dim) * layout.baseFactor;
  const classes = new Int32Array(size * size).fill(base);
  let id = 0;
  // each block's cells are numbered row-major, blocks in order; a later block overwrites crossings
  for (const block of layout.rowBlocks) {
    for (const lane of block) for (let c = 0; c < size; c++) classes[lane.at * size + c] = id++;
  }
  for (const block of layout.colBlocks) {
    for (let r = 0; r < size; r++) for (const lane of block) classes[r * size + lane.at] = id++;
  }
  const rows = layout.rowBlocks.flat();
  const cols = layout.colBlocks.flat();
  const junction = new Uint8Array(size * size);
  for (const row of rows) for (const col of cols) junction[row.at * size + col.at] = 1;
  /** the heading of the lane that crosses (r, c) across `h`, if there is one */
  const crossing = (r: number, c: number, h: Heading): Heading | null => {
    const lane = h[0] === 0 ? cols.find((l) => l.at === c) : rows.find((l) => l.at === r);
    return lane ? lane.heading : null;
  };
  const inside = (r: number, c: number) => r >= 0 && r < size && c >= 0 && c < size;

  /**
   * Every path from (r, c) on heading h, in IC3Net's order: at each junction met while decisions
   * are left, straight on, then the right turn, then the left one; with none left, straight to the
   * border (even through another junction).
   */
  const drive = (cells: number[], r: number, c: number, h: Heading, left: number): number[][] => {
    const path = [...cells, r * size + c];
    const [nr, nc] = [r + h[0], c + h[1]];
    if (!inside(nr, nc)) return [path];
    const entering = junction[nr * size + nc] === 1 && junction[r * size + c] === 0;
    if (!entering || left === 0) return drive(path, nr, nc, h, left);
    const out = drive(path, nr, nc, h, left - 1);
    for (const turn of [rightOf(h), leftOf(h)]) {
      // turn where the crossing lane runs the new way: right turns at the first such cell, left ones further in
      let [tr, tc] = [nr, nc];
      const walked: number[] = [];
      while (inside(tr, tc) && junction[tr * size + tc] === 1) {
        const lane = crossing(tr, tc, h);
        if (lane && same(lane, turn)) {
          out.push(...drive(path.concat(walked), tr, tc, turn, left - 1));
          break;
        }
        walked.push(tr * size + tc);
        [tr, tc] = [tr + h[0], tc + h[1]];
      }
    }
    return out;
  };
  const routes = layout.arrivals.map(({ cell, heading }) => drive([], cell[0], cell[1], heading, layout.decisions).map((p) => Int32Array.from(p)));
  const arrivalCells = new Uint8Array(size * size);
  for (const { cell } of layout.arrivals) arrivalCells[cell[0] * size + cell[1]] = 1;
  return {
    difficulty,
    size,
    classes,
    outsideClass: base,
    carClass: base + 2,
    vocabSize: base + 3,
    junction,
    routes,
    paths: routes.flat(),
    numArrivalPoints: routes.length,
    arrivalCells,
  };
}
