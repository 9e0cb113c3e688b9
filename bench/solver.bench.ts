/**
 * Solver benchmarks: schedule a 5,000-vertex synthetic DAG (50 layers of 100, each vertex reading
 * two of the layer before) with no-op work, and compute cache keys for 10,000 vertices.
 */
import { sha256 } from '../src/image/digest.ts';
import { solve } from '../src/solver/solve.ts';
import { vertex, type Vertex } from '../src/solver/vertex.ts';
import { runOnce, type Benchmark as Bench } from './harness.ts';


const platform = { architecture: 'amd64', os: 'linux' };

function dag(width: number, depth: number): Vertex {
  let layer: Vertex[] = [vertex({ op: { kind: 'image', digest: sha256('bench'), platform } })];
  for (let l = 0; l < depth; l++) {
    const prev = layer;
    layer = Array.from({ length: width }, (_, i) =>
      vertex({
        op: { kind: 'exec', args: ['/bin/sh', '-c', `step ${l} ${i}`], env: ['PATH=/usr/bin'], cwd: '/' },
        inputs: [prev[i % prev.length], prev[(i * 31 + 7) % prev.length]],
        name: `[bench ${l}/${i}]`,
      }),
    );
  }
  return vertex({ op: { kind: 'merge' }, inputs: layer, name: 'top' });
}

let graph: Vertex | undefined;

export const benches: Bench[] = [
  {
    name: 'solver: schedule a 5,000-vertex DAG with no-op work (jobs=8)',
    goal: '< 0.5 s',
    setup: () => {
      graph ??= dag(100, 50);
    },
    run: async () => {
      const report = await solve([graph!], { jobs: 8, execute: async () => null });
      if (report.stats.ran !== 5002) throw new Error(`ran ${report.stats.ran}`);
    },
  },
  {
    name: 'solver: build and key 10,000 vertices',
    goal: '< 0.5 s warm (≈ 40 µs a vertex: validate, hash the definition, hash the key)',
    run: () => {
      const v = dag(100, 100);
      if (!v.key.startsWith('sha256:')) throw new Error('no key');
    },
  },
];

export default benches;

// `node bench/solver.bench.ts` runs them once without the harness.
if (import.meta.url === `file://${process.argv[1]}`) {
  await runOnce(benches, { teardown: 'each', digits: 3 });
}
