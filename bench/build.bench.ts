/**
 * Build benchmarks (issue 4): `jettison build` as users run it — a fresh `node bin/jettison.cjs build`
 * process per build (the published bin over dist/, rebuilt first when stale), startup included —
 * next to BuildKit (Debian's docker.io, a warm dockerd of our own) and buildah, in the same run, from
 * the same base images (see support/builders.ts):
 *
 *   fully cached rebuild              bench/fixtures/build/cached, built once in setup, then rebuilt
 *   one edited C file in a gcc build  bench/fixtures/build/gcc on gcc:12 (Debian gcc + libc6-dev); main.c edited before each build
 *   30 small steps, --no-cache        bench/fixtures/build/steps30 on busybox
 *   three parallel 3 s stages         bench/fixtures/build/parallel, --no-cache
 *   200 MB / 20,000-file context      COPY . of a generated context (support/contexts.ts): cold (cache
 *                                     reset before each build), cached, one edited file
 *   20 MB / 2,000-file context, cold  the same at a tenth of the size: jettison's peak RSS must stay flat
 *
 * Each builder's own build time is recorded (support/compare.ts), and after the last benchmark a
 * table — scenario, jettison, BuildKit, buildah, jettison/BuildKit, goal — goes to stderr. The
 * harness's own rows time the whole run(), which for the cold and edit scenarios includes the cache
 * reset / file edit before the build; the comparison table does not. The first build of each row is
 * a warm-up and is not recorded (the harness discards it too).
 *
 * Needs root, runc and overlayfs; BuildKit and buildah rows appear only when docker.io / buildah are
 * installed (`apt-get install docker.io buildah`; nothing is installed here). `node bench/build.bench.ts
 * [--runs N] [SCENARIO…]` runs them without the harness (N timed builds per row, default 3) and prints
 * the table on stdout. $JETTISON_BENCH_NODE_FLAGS adds node flags to every jettison process (e.g.
 * "--cpu-prof --cpu-prof-dir=DIR"); $JETTISON_BENCH_BUILD_JSON names a file for the table as JSON;
 * $JETTISON_BENCH_FROM=sources times `node src/cli/main.ts` instead of the bin;
 * $JETTISON_BENCH_SCENARIOS=ID,… (what `npm run bench -- build ID…` sets) limits the scenarios;
 * $JETTISON_BENCH_WORK is where the work directory is made (default /var/tmp), e.g. a file system of
 * its own.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { busyboxRootfs, debianRootfs } from '../test/support/images.ts';
import { buildahBuilder, buildkitBuilder, jettisonBuilder, jettisonCommand, NODE, TOOLS, type BaseImages, type Builder, type Tool } from './support/builders.ts';
import { Comparison, type ScenarioInfo } from './support/compare.ts';
import { editFile, generateContext } from './support/contexts.ts';
import { mustRun, removeTree } from './support/proc.ts';
import type { Benchmark as Bench } from './harness.ts';


const FIXTURES = join(import.meta.dirname, 'fixtures', 'build');
const MB = 1000 * 1000;

interface World {
  work: string;
  base: BaseImages;
  builders: Record<Tool, Builder>;
  /** Context directories by name (fixtures copied into the work dir, generated contexts). */
  contexts: Map<string, string>;
}

let worldPromise: Promise<World> | undefined;
let world: World | undefined;

/** Work dir, base images (imported once with the jettison CLI, saved as a docker archive), builders. */
function getWorld(): Promise<World> {
  worldPromise ??= (async () => {
    // $JETTISON_BENCH_WORK: where the work dir goes (default /var/tmp), e.g. a file system of its own.
    const work = mkdtempSync(join(process.env.JETTISON_BENCH_WORK ?? '/var/tmp', 'jettison-bench-build-'));
    const template = join(work, 'template-root');
    const cli = await jettisonCommand(false);
    const jettison = (args: string[]) => mustRun(NODE, [...cli, '--root', template, ...args]);
    await jettison(['import', await busyboxRootfs(), 'busybox:latest']);
    await jettison(['import', await debianRootfs({ packages: ['gcc', 'libc6-dev'] }), 'gcc:12']);
    const archive = join(work, 'base-images.tar');
    const names = ['busybox:latest', 'gcc:12'];
    await jettison(['save', '-o', archive, ...names]);
    const base: BaseImages = { archive, names, jettisonTemplate: template };
    world = {
      work,
      base,
      builders: { jettison: jettisonBuilder(work, base), BuildKit: buildkitBuilder(work, base), buildah: buildahBuilder(work, base) },
      contexts: new Map(),
    };
    return world;
  })();
  return worldPromise;
}

/** A context directory for `name`: a copy of bench/fixtures/build/NAME, or a generated one. */
function contextDir(w: World, name: string): string {
  let dir = w.contexts.get(name);
  if (dir) return dir;
  dir = join(w.work, 'contexts', name);
  mkdirSync(dir, { recursive: true });
  if (name === 'ctx200' || name === 'ctx20') {
    const bytes = generateContext(dir, name === 'ctx200' ? 20_000 : 2_000, join(FIXTURES, 'context', 'Dockerfile'));
    process.stderr.write(`  generated ${name}: ${(bytes / MB).toFixed(0)} MB in ${name === 'ctx200' ? '20,000' : '2,000'} files\n`);
  } else {
    cpSync(join(FIXTURES, name), dir, { recursive: true });
  }
  w.contexts.set(name, dir);
  return dir;
}

/** The last non-empty line of an error message (the builders' own error). */
function lastLine(message: string): string {
  return message.trim().split('\n').pop()!.trim().slice(0, 120);
}

let edits = 0;
const unique = (tool: Tool): string => `${tool} ${process.pid} ${++edits}`;

interface Scenario extends ScenarioInfo {
  context: string;
  noCache?: boolean;
  /** Build once in setup, so timed builds start from a warm cache. */
  prime?: boolean;
  /** Untimed work before each build. */
  before?: (w: World, tool: Tool, dir: string) => Promise<void> | void;
}

const GOAL = 'match or beat BuildKit';

export const scenarios: Scenario[] = [
  { id: 'cached', title: 'fully cached rebuild', goal: GOAL, referenceS: 0.1, context: 'cached', prime: true },
  {
    id: 'gcc-edit',
    title: 'one edited C file (gcc)',
    goal: GOAL,
    referenceS: 0.28,
    context: 'gcc',
    prime: true,
    before: (_w, tool, dir) => {
      const file = join(dir, 'main.c');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/#define EDIT ".*"/, `#define EDIT "${unique(tool)}"`));
    },
  },
  { id: 'steps30', title: '30 small steps, --no-cache', goal: GOAL, referenceS: 0.78, context: 'steps30', noCache: true },
  { id: 'parallel', title: 'three parallel 3 s stages', goal: GOAL, referenceS: 3.3, context: 'parallel', noCache: true },
  {
    id: 'ctx200-cold',
    title: '200 MB context, cold',
    goal: GOAL,
    referenceS: 8.26,
    context: 'ctx200',
    before: (w, tool) => w.builders[tool].resetCache(),
  },
  { id: 'ctx200-cached', title: '200 MB context, cached', goal: GOAL, referenceS: 0.53, context: 'ctx200', prime: true },
  {
    id: 'ctx200-edit',
    title: '200 MB context, one edited file',
    goal: GOAL,
    referenceS: 4.96,
    context: 'ctx200',
    prime: true,
    before: (_w, tool, dir) => editFile(dir, unique(tool)),
  },
  {
    id: 'ctx20-cold',
    title: '20 MB context, cold',
    goal: 'jettison peak RSS = 200 MB cold (flat)',
    context: 'ctx20',
    before: (w, tool) => w.builders[tool].resetCache(),
  },
];

let comparison = new Comparison();

/** Prints the comparison (and the RSS check), stops every builder and removes the work dir. */
async function finish(out: NodeJS.WritableStream = process.stderr): Promise<void> {
  const w = world;
  out.write(`\n${comparison.format()}\n`);
  const big = comparison.maxRssKiB('ctx200-cold');
  const small = comparison.maxRssKiB('ctx20-cold');
  if (big !== undefined && small !== undefined) {
    out.write(`jettison peak RSS, cold build: 20 MB context ${(small / 1024).toFixed(0)} MiB, 200 MB context ${(big / 1024).toFixed(0)} MiB (${(big / small).toFixed(2)}x; goal: flat)\n`);
  }
  if (process.env.JETTISON_BENCH_BUILD_JSON) writeFileSync(process.env.JETTISON_BENCH_BUILD_JSON, `${JSON.stringify(comparison.rows(), null, 2)}\n`);
  worldPromise = undefined;
  world = undefined;
  if (!w) return;
  for (const tool of TOOLS) {
    try {
      await w.builders[tool].stop();
    } catch (err) {
      process.stderr.write(`  stopping ${tool}: ${(err as Error).message}\n`);
    }
  }
  await removeTree(w.work);
}

/** Which builders can run here, without starting anything (the world is made on first setup). */
function availability(): Record<Tool, string | undefined> {
  const probe = '/nonexistent';
  const base: BaseImages = { archive: probe, names: [], jettisonTemplate: probe };
  return {
    jettison: jettisonBuilder(probe, base).unavailable,
    BuildKit: buildkitBuilder(probe, base).unavailable,
    buildah: buildahBuilder(probe, base).unavailable,
  };
}

function makeBenches(list: Scenario[]): Bench[] {
  const unavailable = availability();
  const benches: Bench[] = [];
  for (const s of list) {
    comparison.addScenario(s);
    for (const tool of TOOLS) {
      const why = unavailable[tool];
      if (why) {
        comparison.note(s.id, tool, why);
        continue;
      }
      let skip: string | undefined;
      let warm = true;
      let dir = '';
      const bench: Bench = {
        name: `build: ${s.title} — ${tool}`,
        ...(tool === 'jettison' ? { goal: s.goal } : {}),
        async setup() {
          try {
            const w = await getWorld();
            const builder = w.builders[tool];
            await builder.prepare();
            dir = contextDir(w, s.context);
            if (s.prime) await builder.build({ context: dir, tag: `bench-${s.id}`, ...(s.noCache ? { noCache: true } : {}) });
          } catch (err) {
            skip = `failed: ${lastLine((err as Error).message)}`;
            comparison.note(s.id, tool, skip);
            bench.name += ` — SKIPPED (${skip})`;
            process.stderr.write(`  ${bench.name}\n${(err as Error).message}\n`);
          }
        },
        async run() {
          if (skip) return;
          const w = world!;
          try {
            await s.before?.(w, tool, dir);
            // Untimed: what earlier builds (of any builder) left dirty is written back now, not during
            // this build's timing.
            await mustRun('sync', []);
            const r = await w.builders[tool].build({ context: dir, tag: `bench-${s.id}`, ...(s.noCache ? { noCache: true } : {}) });
            if (warm) warm = false;
            else comparison.record(s.id, tool, r.ms, r.maxRssKiB);
          } catch (err) {
            skip = `failed: ${lastLine((err as Error).message)}`;
            comparison.note(s.id, tool, skip);
            bench.name += ` — FAILED (${skip})`;
            process.stderr.write(`  ${bench.name}\n${(err as Error).message}\n`);
          }
        },
      };
      benches.push(bench);
    }
  }
  if (benches.length > 0) benches[benches.length - 1].teardown = () => finish();
  return benches;
}

/** The scenarios $JETTISON_BENCH_SCENARIOS names (all when unset); an unknown id is an error. */
function chosenScenarios(ids: string[]): Scenario[] {
  const unknown = ids.filter((p) => !scenarios.some((s) => s.id === p));
  if (unknown.length > 0) {
    console.error(`unknown scenario ${unknown.join(', ')} (have: ${scenarios.map((s) => s.id).join(', ')})`);
    process.exit(2);
  }
  return ids.length ? scenarios.filter((s) => ids.includes(s.id)) : scenarios;
}

export const benches: Bench[] = makeBenches(chosenScenarios((process.env.JETTISON_BENCH_SCENARIOS ?? '').split(',').filter(Boolean)));
export default benches;

// `node bench/build.bench.ts [--runs N] [SCENARIO…]`: one warm-up and N timed builds per row, the table on stdout.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '3' } } });
  const chosen = chosenScenarios(positionals);
  // Module load registered every scenario; a fresh comparison shows only the chosen ones.
  comparison = new Comparison();
  const own = makeBenches(chosen);
  own[own.length - 1].teardown = undefined;
  const runs = Number(values.runs);
  for (const b of own) {
    const ctx = await b.setup?.();
    for (let i = 0; i <= runs; i++) await b.run(ctx);
    process.stderr.write(`  ${b.name}: done\n`);
  }
  await finish(process.stdout);
}
