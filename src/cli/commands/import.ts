/**
 * `jettison import FILE|- [NAME[:TAG]]`: a root file system tarball (plain, gzip or zstd, told
 * apart by magic bytes) becomes a one-layer image, like `docker import`; prints the image ID. The
 * layer is stored uncompressed unless --compression says otherwise.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { parseCompression } from '../../image/compression.ts';
import { parsePlatform } from '../../image/platform.ts';
import { importRootfs, importRootfsFile, type ImportOptions } from '../../store/index.ts';
import type { CliIO, GlobalOptions } from '../context.ts';
import { storeFor } from './images.ts';

export function register(program: Command, io: CliIO, globals: () => GlobalOptions): void {
  program
    .command('import')
    .description('create an image from a root file system tarball')
    .argument('<file>', 'tar, tar.gz or tar.zst of a root file system ("-" for stdin)')
    .argument('[name]', 'NAME[:TAG] for the image')
    .option('-m, --message <text>', 'history comment for the imported layer')
    .option('--platform <os/arch[/variant]>', 'platform recorded in the config (default: this host)')
    .option('--compression <format>', 'layer compression in the store: uncompressed (pushes and OCI exports compress), gzip or zstd', 'uncompressed')
    .action(async (file: string, name: string | undefined, flags: { message?: string; platform?: string; compression: string }) => {
      const opts: ImportOptions = { compression: parseCompression(flags.compression, '--compression') };
      const store = storeFor(io, globals);
      if (flags.message !== undefined) opts.message = flags.message;
      if (flags.platform) opts.platform = parsePlatform(flags.platform);
      let r;
      try {
        r =
          file === '-'
            ? await importRootfs(store, io.stdin as AsyncIterable<Uint8Array>, name, opts)
            : await importRootfsFile(store, resolve(io.cwd, file), name, opts);
      } finally {
        // Named now (or failed): the blobs no longer need this process's protection from prune.
        await store.releaseLease();
      }
      io.stdout.write(`${r.config.digest}\n`);
    });
}
