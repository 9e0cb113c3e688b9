/** `jettison tag SOURCE TARGET`: a new name for an image in the store (like `docker tag`). */
import type { Command } from 'commander';
import { normalizeReference } from '../../image/reference.ts';
import { resolveImageRef } from '../../store/index.ts';
import type { CliIO, GlobalOptions } from '../context.ts';
import { storeFor } from './images.ts';

export function register(program: Command, io: CliIO, globals: () => GlobalOptions): void {
  program
    .command('tag')
    .description('create a tag TARGET that refers to SOURCE')
    .argument('<source>', 'image name or ID')
    .argument('<target>', 'new name[:tag]')
    .action(async (source: string, target: string) => {
      const store = storeFor(io, globals);
      const name = normalizeReference(target);
      const rec = await resolveImageRef(store, source);
      await store.setRef(name, rec.target);
    });
}
