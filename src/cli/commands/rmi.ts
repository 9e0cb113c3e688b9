/**
 * `jettison rmi NAME…`: removes names (refs) like `docker rmi`, printing "Untagged: NAME". An image
 * ID removes every name of that image (with -f when there are several, as Docker requires). The
 * blobs stay until `jettison prune`.
 */
import type { Command } from 'commander';
import { JettisonError } from '../../errors.ts';
import { familiarName, normalizeReference } from '../../image/reference.ts';
import { looksLikeReference, resolveImageRef } from '../../store/index.ts';
import { CommandExit, type CliIO, type GlobalOptions } from '../context.ts';
import { storeFor } from './images.ts';

export function register(program: Command, io: CliIO, globals: () => GlobalOptions): void {
  program
    .command('rmi')
    .description('remove image names (blobs are removed by prune)')
    .argument('<image...>', 'image names or IDs')
    .option('-f, --force', 'remove every name of an image given by ID')
    .action(async (names: string[], flags: { force?: boolean }) => {
      const store = storeFor(io, globals);
      let failed = false;
      for (const name of names) {
        try {
          const direct = looksLikeReference(name) ? normalizeReference(name) : undefined;
          if (direct && (await store.deleteRef(direct))) {
            io.stdout.write(`Untagged: ${familiarName(direct)}\n`);
            continue;
          }
          const rec = await resolveImageRef(store, name);
          const all = (await store.listRefs()).filter((r) => r.target.digest === rec.target.digest);
          if (all.length > 1 && !flags.force) {
            throw new JettisonError(
              'CONFLICT',
              `conflict: unable to delete ${name} (must be forced) - image is referenced in multiple repositories`,
            );
          }
          for (const r of all) if (await store.deleteRef(r.name)) io.stdout.write(`Untagged: ${familiarName(r.name)}\n`);
        } catch (err) {
          io.stderr.write(`error: ${(err as Error).message}\n`);
          failed = true;
        }
      }
      if (failed) throw new CommandExit(1);
    });
}
