/**
 * `jettison fsck`: re-verifies the store (every blob's digest, every ref, every manifest's blobs);
 * prints each problem and exits 1 if there is any. Leftovers of killed processes are cleaned.
 */
import type { Command } from 'commander';
import { fsck } from '../../store/index.ts';
import { CommandExit, type CliIO, type GlobalOptions } from '../context.ts';
import { storeFor } from './images.ts';

export function register(program: Command, io: CliIO, globals: () => GlobalOptions): void {
  program
    .command('fsck')
    .description('verify the store: blob digests, refs, manifests')
    .action(async () => {
      const store = storeFor(io, globals);
      const r = await fsck(store);
      for (const p of r.problems) io.stderr.write(`${p}\n`);
      const stale = r.staleFiles ? `, ${r.staleFiles} stale temp file${r.staleFiles === 1 ? '' : 's'} removed` : '';
      const summary = `${r.blobs} blob${r.blobs === 1 ? '' : 's'}, ${r.refs} ref${r.refs === 1 ? '' : 's'} checked${stale}`;
      if (r.problems.length > 0) {
        io.stderr.write(`fsck: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} in ${store.root} (${summary})\n`);
        throw new CommandExit(1);
      }
      io.stdout.write(`fsck: ok (${summary})\n`);
    });
}
