// A uniform grid over a set of particles, for the k-nearest and within-radius questions a large
// simple_spread asks of every agent every step (issue 24: at N = 1,000 the all-pairs loops took a
// third of a 10 Hz period). Its answers are exactly the all-pairs ones: a distance is MPE's,
// √(dx² + dy²) of the positions it was filed from (computed here: a distance function called back
// per candidate boxed every result it returned), and among equal distances the lower index wins,
// as in a scan in index order. A query stops only when no unexamined cell can hold anything nearer.
// The grid spans the middle of the spread (particles flung far away would otherwise make every
// cell huge); the few outside it are kept in a list every query reads.

/** cells per particle (about two particles a cell) */
const CELLS_PER_PARTICLE = 0.5;
/** a point's cell comes from a division that may round across a cell edge: stop a little later */
const EDGE_MARGIN = 1e-9;
/** the share of particles, at each side of each axis, left outside the grid's span */
const OUTSIDE_SHARE = 0.01;

export class SpatialGrid {
  private x0 = 0;
  private y0 = 0;
  private cell = 1;
  private side = 1;
  /** [side² + 1]: where each cell's items start in `items` */
  private readonly starts: Int32Array;
  /** particle indices, by cell, ascending within a cell */
  private readonly items: Int32Array;
  private readonly cellOf: Int32Array;
  /** particles outside the grid's span, read by every query */
  private readonly outside: Int32Array;
  private outsideCount = 0;
  private readonly sorted: Float64Array;
  /** the positions filed: particle i at pos[base + 2i], pos[base + 2i + 1] */
  private pos: Float64Array = new Float64Array(0);
  private base = 0;

  /** for particles numbered [from, from + count) */
  constructor(private readonly from: number, private readonly count: number) {
    const side = Math.max(1, Math.ceil(Math.sqrt(count * CELLS_PER_PARTICLE)));
    this.starts = new Int32Array(side * side + 1);
    this.items = new Int32Array(count);
    this.cellOf = new Int32Array(count);
    this.outside = new Int32Array(count);
    this.sorted = new Float64Array(count);
  }

  /**
   * Files every particle by position: particle i is at (pos[base + 2i], pos[base + 2i + 1]) (the
   * grid reads them there until the next build). False (the grid unusable: ask every particle)
   * where a coordinate is not finite or the spread overflows.
   */
  build(pos: Float64Array, base: number): boolean {
    const { from, count } = this;
    this.pos = pos;
    this.base = base;
    const [minX, maxX] = this.span(0);
    const [minY, maxY] = this.span(1);
    if (!Number.isFinite(minX) || !Number.isFinite(maxX) || !Number.isFinite(minY) || !Number.isFinite(maxY)) return false;
    this.side = Math.max(1, Math.ceil(Math.sqrt(count * CELLS_PER_PARTICLE)));
    this.x0 = minX;
    this.y0 = minY;
    // a square cell; a degenerate spread (every particle on one point or line) still divides
    this.cell = Math.max(maxX - minX, maxY - minY, 1e-12) / this.side;
    if (!Number.isFinite(this.cell * this.side)) return false;
    const starts = this.starts;
    starts.fill(0);
    this.outsideCount = 0;
    for (let i = 0; i < count; i++) {
      const px = pos[base + 2 * (from + i)], py = pos[base + 2 * (from + i) + 1];
      if (px < minX || px > maxX || py < minY || py > maxY) {
        this.cellOf[i] = -1;
        this.outside[this.outsideCount++] = from + i;
        continue;
      }
      const c = this.cellAt(px, py);
      this.cellOf[i] = c;
      starts[c + 1]++;
    }
    for (let c = 0; c < this.side * this.side; c++) starts[c + 1] += starts[c];
    const next = starts.slice(0, this.side * this.side);
    // in index order, so each cell lists its particles ascending
    for (let i = 0; i < count; i++) if (this.cellOf[i] >= 0) this.items[next[this.cellOf[i]]++] = from + i;
    return true;
  }

  /** the grid's span on one axis (0: x, 1: y): the middle of the particles' coordinates on it (NaN if one is not finite) */
  private span(axis: 0 | 1): [number, number] {
    const { from, count, sorted, pos, base } = this;
    for (let i = 0; i < count; i++) {
      sorted[i] = pos[base + 2 * (from + i) + axis];
      if (!Number.isFinite(sorted[i])) return [NaN, NaN];
    }
    sorted.sort();
    const cut = Math.floor(count * OUTSIDE_SHARE);
    return [sorted[cut], sorted[count - 1 - cut]];
  }

  /**
   * The k particles nearest to point (px, py), nearest first, ties to the lower index, `skip` left
   * out: into index/dist; returns how many (fewer than k only if there are).
   */
  nearest(px: number, py: number, k: number, skip: number, index: Int32Array, dist: Float64Array): number {
    let found = 0;
    const cx = this.clampCell(Math.floor((px - this.x0) / this.cell));
    const cy = this.clampCell(Math.floor((py - this.y0) / this.cell));
    const { pos, base } = this;
    const consider = (q: number) => {
      if (q === skip) return;
      // (MPE's distance: the same bits whichever of the two points comes first)
      const dx = px - pos[base + 2 * q];
      const dy = py - pos[base + 2 * q + 1];
      const d = Math.sqrt(dx * dx + dy * dy);
      if (found === k && (d > dist[k - 1] || (d === dist[k - 1] && q > index[k - 1]))) return;
      let j = found < k ? found++ : k - 1;
      while (j > 0 && (dist[j - 1] > d || (dist[j - 1] === d && index[j - 1] > q))) { dist[j] = dist[j - 1]; index[j] = index[j - 1]; j--; }
      dist[j] = d;
      index[j] = q;
    };
    for (let s = 0; s < this.outsideCount; s++) consider(this.outside[s]);
    for (let r = 0; ; r++) {
      this.ring(cx, cy, r, consider);
      const beyond = this.unexaminedDistance(px, py, cx, cy, r);
      if (beyond === Infinity || (found === k && dist[k - 1] < beyond)) return found;
    }
  }

  /** How many particles q ≠ skip have within(q), looking only where distance < radius can hold. */
  countWithin(px: number, py: number, radius: number, skip: number, within: (q: number) => boolean): number {
    let n = 0;
    for (let s = 0; s < this.outsideCount; s++) if (this.outside[s] !== skip && within(this.outside[s])) n++;
    const lo = (v: number, v0: number) => this.clampCell(Math.floor((v - radius - v0) / this.cell) - 1);
    const hi = (v: number, v0: number) => this.clampCell(Math.floor((v + radius - v0) / this.cell) + 1);
    for (let gy = lo(py, this.y0); gy <= hi(py, this.y0); gy++) {
      for (let gx = lo(px, this.x0); gx <= hi(px, this.x0); gx++) {
        const c = gy * this.side + gx;
        for (let s = this.starts[c]; s < this.starts[c + 1]; s++) {
          const q = this.items[s];
          if (q !== skip && within(q)) n++;
        }
      }
    }
    return n;
  }

  private cellAt(px: number, py: number): number {
    return this.clampCell(Math.floor((py - this.y0) / this.cell)) * this.side + this.clampCell(Math.floor((px - this.x0) / this.cell));
  }

  private clampCell(c: number): number {
    return c < 0 ? 0 : c >= this.side ? this.side - 1 : c;
  }

  /** every particle of the cells at Chebyshev distance exactly r from (cx, cy) */
  private ring(cx: number, cy: number, r: number, visit: (q: number) => void): void {
    const side = this.side;
    for (let gy = cy - r; gy <= cy + r; gy++) {
      if (gy < 0 || gy >= side) continue;
      const edgeRow = gy === cy - r || gy === cy + r;
      for (let gx = cx - r; gx <= cx + r; gx += edgeRow || r === 0 ? 1 : 2 * r) {
        if (gx < 0 || gx >= side) continue;
        const c = gy * side + gx;
        for (let s = this.starts[c]; s < this.starts[c + 1]; s++) visit(this.items[s]);
      }
    }
  }

  /** the least distance from (px, py) to any cell outside the (2r + 1)² block; Infinity if none is left */
  private unexaminedDistance(px: number, py: number, cx: number, cy: number, r: number): number {
    const { side, cell, x0, y0 } = this;
    const gx1 = x0 + side * cell, gy1 = y0 + side * cell;
    const bx0 = x0 + Math.max(cx - r, 0) * cell, bx1 = x0 + (Math.min(cx + r, side - 1) + 1) * cell;
    const by0 = y0 + Math.max(cy - r, 0) * cell, by1 = y0 + (Math.min(cy + r, side - 1) + 1) * cell;
    // the cells left unexamined are at most four strips around the block
    let least = Infinity;
    if (cx - r > 0) least = Math.min(least, toRectangle(px, py, x0, bx0, y0, gy1));
    if (cx + r < side - 1) least = Math.min(least, toRectangle(px, py, bx1, gx1, y0, gy1));
    if (cy - r > 0) least = Math.min(least, toRectangle(px, py, bx0, bx1, y0, by0));
    if (cy + r < side - 1) least = Math.min(least, toRectangle(px, py, bx0, bx1, by1, gy1));
    return least === Infinity ? Infinity : least - EDGE_MARGIN * (1 + Math.abs(px) + Math.abs(py) + cell * side);
  }
}

/** the distance from (px, py) to the rectangle [xa, xb] × [ya, yb] (0 inside it) */
function toRectangle(px: number, py: number, xa: number, xb: number, ya: number, yb: number): number {
  const dx = px < xa ? xa - px : px > xb ? px - xb : 0;
  const dy = py < ya ? ya - py : py > yb ? py - yb : 0;
  return Math.sqrt(dx * dx + dy * dy);
}
