/**
 * `jettison load [-i FILE]`: loads a docker archive or an OCI layout (directory, or tar; plain,
 * gzip or zstd) from FILE or stdin, verifying every digest; prints "Loaded image: NAME" for each
 * name (or "Loaded image ID: …" for an untagged image), as `docker load` does.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { JettisonError } from '../../errors.ts';
import { loadArchive, loadArchiveStream, type LoadedImage } from '../../exporter/index.ts';
import { familiarName } from '../../image/reference.ts';
import { readImageByDescriptor } from '../../store/index.ts';
import type { CliIO, GlobalOptions } from '../context.ts';
import { storeFor } from './images.ts';

export function register(program: Command, io: CliIO, globals: () => GlobalOptions): void {
  program
    .command('load')
    .description('load images from a docker archive or an OCI layout')
    .option('-i, --input <path>', 'read from a tar file or an OCI layout directory instead of stdin')
    .option('-q, --quiet', 'print nothing')
    .action(async (flags: { input?: string; quiet?: boolean }) => {
      const store = storeFor(io, globals);
      let loaded: LoadedImage[];
      try {
        if (flags.input === undefined || flags.input === '-') {
          if (io.stdin.isTTY) throw new JettisonError('USAGE', 'requested load from stdin, but stdin is empty');
          loaded = await loadArchiveStream(store, io.stdin as AsyncIterable<Uint8Array>, 'stdin');
        } else {
          loaded = await loadArchive(store, resolve(io.cwd, flags.input));
        }
      } finally {
        // Named now (or failed): the blobs no longer need this process's protection from prune.
        await store.releaseLease();
      }
      if (flags.quiet) return;
      for (const img of loaded) {
        if (img.names.length > 0) {
          for (const n of img.names) io.stdout.write(`Loaded image: ${familiarName(n)}\n`);
        } else {
          const id = await readImageByDescriptor(store, img.target).then((i) => i.configDescriptor.digest, () => img.target.digest);
          io.stdout.write(`Loaded image ID: ${id}\n`);
        }
      }
    });
}
