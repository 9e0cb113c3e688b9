/**
 * `jettison prune`: removes every blob that no name, live process or registered root reaches
 * (see src/store/gc.ts); prints each removed digest and the space reclaimed, as Docker does.
 */
import type { Command } from 'commander';
import { prune } from '../../store/index.ts';
import type { CliIO, GlobalOptions } from '../context.ts';
import { humanSize, storeFor } from './images.ts';

export function register(program: Command, io: CliIO, globals: () => GlobalOptions): void {
  program
    .command('prune')
    .description('remove blobs that no image name reaches')
    .option('--dry-run', 'only list what would be removed')
    .action(async (flags: { dryRun?: boolean }) => {
      const r = await prune(storeFor(io, globals), { dryRun: Boolean(flags.dryRun) });
      for (const d of r.removed) io.stdout.write(`${flags.dryRun ? 'Would delete' : 'Deleted'}: ${d}\n`);
      io.stdout.write(`Total reclaimed space: ${humanSize(r.reclaimedBytes)}\n`);
    });
}
