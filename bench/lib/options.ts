// Command-line options of `npm run bench`.

export interface Options {
  readonly mode: 'full' | 'quick' | 'smoke' | 'scale' | 'profile' | 'list' | 'help';
  readonly rounds: number;
  readonly warmupS: number;
  readonly durationS: number;
  readonly connections: number;
  readonly only: RegExp | null;
  readonly generator: 'wrk' | 'node' | null;
  readonly install: boolean;
  readonly sizes: readonly number[];
  /** Users in the bundle whose apply --scale times (0: skip). */
  readonly applyUsers: number;
  /** Repeat a window once when other work used more CPU than this many cores during it. */
  readonly noiseLimit: number;
  readonly slowLimit: number;
  readonly json: boolean;
}

export const USAGE = `usage: npm run bench [-- options]

  (no option)        full run: every ceiling, peer and Gatehouse scenario, 3 rounds of 2s + 6s (< 15 min)
  --quick            2 rounds of 1s + 1s windows (< 3 min)
  --smoke            one tiny scenario for about a second; prints one JSON row (npm test uses it)
  --scale            data-size run: 1k, 100k and 1M principals, and apply of a 100k-user bundle
  --sizes LIST       sizes for --scale, e.g. 1k,100k (default 1k,100k,1M)
  --apply N          users in the bundle --scale applies (default 100k; 0 skips it)
  --profile          CPU profiles (--cpu-prof) of Gatehouse on the API-key and JWT introspection paths
                     (with --only REGEX: of the Gatehouse paths whose id matches, e.g. --only whoami;
                     GATEHOUSE_BENCH_PROFILE_BACKEND=postgres: on PostgreSQL instead of SQLite)
  --only REGEX       only the scenarios whose id matches, e.g. --only 'apikey'
  --list             list the scenarios and exit
  --rounds N         rounds (median reported)          --warmup S     warm-up seconds per window
  --duration S       measured seconds per window       --connections N  connections (default 32)
  --generator G      wrk or node (default: wrk when installed)
  --no-install       do not install bench/'s own dependencies (peers are then skipped)
  --noise-limit C    repeat a window once if other processes used more than C cores (default 0.15)
  --slow-limit F     ... or if the host ran a fixed computation F times slower than at its fastest
                     in this run (default 1.25); repeats may add at most a quarter of the measuring time
`;

export function parseOptions(argv: readonly string[]): Options {
  let mode: Options['mode'] = 'full';
  const set: Partial<Record<string, string>> = {};
  let install = true;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--quick':
      case '--smoke':
      case '--scale':
      case '--profile':
      case '--list':
        mode = arg.slice(2) as Options['mode'];
        break;
      case '--help':
      case '-h':
        mode = 'help';
        break;
      case '--no-install':
        install = false;
        break;
      case '--json':
        json = true;
        break;
      case '--rounds':
      case '--warmup':
      case '--duration':
      case '--connections':
      case '--only':
      case '--generator':
      case '--sizes':
      case '--apply':
      case '--noise-limit':
      case '--slow-limit':
        set[arg.slice(2)] = value();
        break;
      default:
        throw new Error(`unknown option ${arg}\n\n${USAGE}`);
    }
  }
  const defaults = {
    full: { rounds: 3, warmupS: 2, durationS: 6 },
    quick: { rounds: 2, warmupS: 1, durationS: 1 },
    smoke: { rounds: 1, warmupS: 0, durationS: 1 },
    scale: { rounds: 3, warmupS: 2, durationS: 5 },
    profile: { rounds: 1, warmupS: 2, durationS: 10 },
    list: { rounds: 1, warmupS: 0, durationS: 1 },
    help: { rounds: 1, warmupS: 0, durationS: 1 },
  }[mode];
  const int = (name: string, fallback: number, min: number) => {
    const raw = set[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const generator = set.generator ?? null;
  if (generator !== null && generator !== 'wrk' && generator !== 'node') throw new Error('--generator must be wrk or node');
  const noise = set['noise-limit'] === undefined ? (mode === 'smoke' ? Number.POSITIVE_INFINITY : 0.15) : Number(set['noise-limit']);
  if (Number.isNaN(noise) || noise <= 0) throw new Error('--noise-limit must be a positive number of cores');
  const slow = set['slow-limit'] === undefined ? (mode === 'smoke' ? Number.POSITIVE_INFINITY : 1.25) : Number(set['slow-limit']);
  if (Number.isNaN(slow) || slow <= 1) throw new Error('--slow-limit must be a number above 1');
  return {
    mode,
    rounds: int('rounds', defaults.rounds, 1),
    warmupS: int('warmup', defaults.warmupS, 0),
    durationS: int('duration', defaults.durationS, 1),
    connections: int('connections', 32, 1),
    only: set.only === undefined ? null : new RegExp(set.only),
    generator,
    install,
    sizes: set.sizes === undefined ? [1_000, 100_000, 1_000_000] : set.sizes.split(',').map(parseSize),
    applyUsers: set.apply === undefined ? 100_000 : set.apply === '0' ? 0 : parseSize(set.apply),
    noiseLimit: noise,
    slowLimit: slow,
    json,
  };
}

export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!m) throw new Error(`bad size "${text}" (e.g. 1k, 100k, 1M)`);
  const n = Number(m[1]) * (m[2] === 'k' || m[2] === 'K' ? 1_000 : m[2] === 'm' || m[2] === 'M' ? 1_000_000 : 1);
  if (!Number.isInteger(n) || n < 10) throw new Error(`size "${text}" must be a whole number of at least 10`);
  return n;
}

export function sizeLabel(n: number): string {
  if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000}M`;
  if (n >= 1_000 && n % 1_000 === 0) return `${n / 1_000}k`;
  return String(n);
}
