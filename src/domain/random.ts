/**
 * Counter-based randomness: every number is a pure function of its inputs, so a simulated price at any
 * instant can be computed on its own, by any process, without replaying a sequence from the start.
 */

/** FNV-1a over the UTF-16 code units of a string: a stable 32-bit seed from a name. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A 32-bit avalanche mix (murmur3's finaliser) of a running hash and one more integer. */
export function mix(hash: number, value: number): number {
  let h = (hash ^ Math.imul(value | 0, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in (0, 1) from a hash; never exactly 0, so it is safe under a logarithm. */
export function uniform(hash: number): number {
  return (hash + 0.5) / 4294967296;
}

/** A standard normal draw from a hash, by Box–Muller on two derived uniforms. */
export function gaussian(hash: number): number {
  const u1 = uniform(mix(hash, 1));
  const u2 = uniform(mix(hash, 2));
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Bridge levels: the path is defined on whole seconds over 2^LEVELS seconds (about 8,700 years). */
const LEVELS = 38;
const SPAN = 2 ** LEVELS;

/** Intervals this long (about 68 minutes) are remembered by a path: consecutive seconds share them. */
const REMEMBERED_SPAN = 2 ** 12;

/**
 * A standard Brownian motion W at whole second `t` (0 <= t <= 2^38), with W(0) = 0 and Var W(t) = t,
 * built by Lévy's midpoint construction: the endpoint is drawn first, then each dyadic midpoint is the
 * average of its ends plus an independent normal of variance (interval length)/4. Descending 38 levels
 * gives the exact value at `t`, and the values at different `t` are jointly those of one Brownian path.
 */
export function brownianAt(seed: number, t: number): number {
  return brownianPath(seed)(t);
}

/**
 * `brownianAt` for one seed, remembering the last interval of REMEMBERED_SPAN seconds it descended
 * through: a `t` inside it starts there, 12 levels from the bottom instead of 38, and gets the same value
 * bit for bit (the same operations in the same order). A price job asks each ticker's path for the next
 * second, so this makes a simulated quote about 3x cheaper.
 */
export function brownianPath(seed: number): (t: number) => number {
  let remembered: { lo: number; hi: number; wLo: number; wHi: number; node: number } | undefined;
  return (t) => {
    if (!Number.isInteger(t) || t < 0 || t > SPAN)
      throw new RangeError(`t must be a whole number in [0, 2^${LEVELS}]`);
    let lo: number;
    let hi: number;
    let wLo: number;
    let wHi: number;
    // Each node of the dyadic tree is numbered like a heap (root 1, children 2n and 2n+1) so its draw is unique.
    let node: number;
    if (remembered && t >= remembered.lo && t <= remembered.hi) {
      ({ lo, hi, wLo, wHi, node } = remembered);
    } else {
      lo = 0;
      hi = SPAN;
      wLo = 0;
      wHi = Math.sqrt(SPAN) * gaussian(mix(seed, 0x7fffffff));
      node = 1;
    }
    while (hi - lo > 1) {
      if (t === lo) return wLo;
      if (t === hi) return wHi;
      if (hi - lo === REMEMBERED_SPAN) remembered = { lo, hi, wLo, wHi, node };
      const mid = lo + (hi - lo) / 2;
      const nodeSeed = mix(mix(seed, node % 0x7fffffff), Math.floor(node / 0x7fffffff));
      const wMid = (wLo + wHi) / 2 + Math.sqrt((hi - lo) / 4) * gaussian(nodeSeed);
      if (t < mid) {
        hi = mid;
        wHi = wMid;
        node = node * 2;
      } else {
        lo = mid;
        wLo = wMid;
        node = node * 2 + 1;
      }
    }
    return t === lo ? wLo : wHi;
  };
}
