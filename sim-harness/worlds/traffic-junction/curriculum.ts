// IC3Net's add_rate curriculum (traffic_junction_env.py, `reset(epoch)`), with its floating-point
// arithmetic kept: the rate climbs from addRateMin toward addRateMax between currStart and currEnd,
// rounded down to a hundredth by Python's float floor division, which is why the IC3Net README's
// easy curriculum ends at 0.29, not 0.3 (test/fixtures/traffic_junction/curriculum.json).

export interface CurriculumOptions {
  addRateMin: number;
  addRateMax: number;
  currStart: number;
  currEnd: number;
}

export interface CurriculumState {
  addRate: number;
  exactRate: number;
  epochLastUpdate: number;
}

export function initialCurriculum(o: CurriculumOptions): CurriculumState {
  return { addRate: o.addRateMin, exactRate: o.addRateMin, epochLastUpdate: 0 };
}

/** The state after `reset(epoch)`: IC3Net updates once per new epoch, inside [currStart, currEnd). */
export function advanceCurriculum(o: CurriculumOptions, s: CurriculumState, epoch: number): CurriculumState {
  const stepSize = o.addRateMax - o.addRateMin;
  if (!(o.currEnd - o.currStart > 0 && stepSize > 0 && epoch > s.epochLastUpdate)) return s;
  if (!(o.currStart <= epoch && epoch < o.currEnd)) return { ...s, epochLastUpdate: epoch };
  const exactRate = s.exactRate + stepSize / (o.currEnd - o.currStart);
  return { addRate: 0.01 * pythonFloorDiv(exactRate, 0.01), exactRate, epochLastUpdate: epoch };
}

/** Python's `a // b` for floats (CPython's float_divmod), which is not Math.floor(a / b) near integers. */
export function pythonFloorDiv(a: number, b: number): number {
  let mod = a % b; // C's fmod: the sign of a
  let div = (a - mod) / b;
  if (mod !== 0 && (b < 0) !== (mod < 0)) {
    mod += b;
    div -= 1;
  }
  if (div === 0) return Object.is(a / b, -0) || a / b < 0 ? -0 : 0;
  let floor = Math.floor(div);
  if (div - floor > 0.5) floor += 1;
  return floor;
}
