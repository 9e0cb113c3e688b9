/**
 * `jettison push [-q] [--compression-format gzip|zstd|uncompressed] IMAGE`: uploads a stored image to
 * its registry, compressing uncompressed layers on the way (gzip by default, as docker push; the flag
 * is podman's), printing Docker-like lines (Pushed / Layer already exists / Mounted from … per layer,
 * then the tag, the pushed digest and size).
 */
import type { Command } from 'commander';
import { parseCompression, parseCompressionLevel } from '../../image/compression.ts';
import { formatReference, parseReference } from '../../image/reference.ts';
import { pushImage, resolveRegistryConfig } from '../../registry/index.ts';
import { openStore, resolveRoot } from '../../store/index.ts';
import type { CliIO, GlobalOptions } from '../context.ts';
import type { RegisterCommand } from './index.ts';
import { TransferDisplay } from './pull.ts';

export const register: RegisterCommand = (program: Command, io: CliIO, globals: () => GlobalOptions) => {
  program
    .command('push')
    .description('Upload an image from the local store to a registry')
    .argument('<image>', 'image reference, e.g. localhost:5000/app:1 (tag it first with `jettison tag`)')
    .option('-q, --quiet', 'print only the pushed digest', false)
    .option('--compression-format <format>', 'how uncompressed (built) layers are sent: gzip, zstd or uncompressed; compressed layers go as they are', 'gzip')
    .option('--compression-level <n>', 'compression level for the layers this push compresses (gzip 1-9, zstd 1-19)')
    .action(async (image: string, o: { quiet: boolean; compressionFormat: string; compressionLevel?: string }) => {
      const compression = parseCompression(o.compressionFormat, '--compression-format');
      const level = o.compressionLevel === undefined ? undefined : parseCompressionLevel(o.compressionLevel, compression, '--compression-level');
      const g = globals();
      const config = await resolveRegistryConfig(g, io.env);
      const store = openStore(resolveRoot({ root: g.root, cwd: io.cwd }, io.env), io.env);
      const ref = parseReference(image);
      if (!o.quiet) io.stdout.write(`The push refers to repository [${formatReference({ registry: ref.registry, repository: ref.repository })}]\n`);
      const display = new TransferDisplay(
        io.stdout,
        (e) => (e.action === 'done' ? 'Pushed' : e.action === 'exists' ? 'Layer already exists' : e.action === 'mounted' ? 'Mounted' : undefined),
        (e) => (e.action === 'uploading' ? 'Pushing' : e.action === 'compressing' ? 'Preparing' : e.action === 'retrying' ? 'Retrying' : 'Waiting'),
      );
      const result = await pushImage(ref, {
        store,
        config,
        compression,
        ...(level !== undefined ? { compressionLevel: level } : {}),
        onProgress: o.quiet ? undefined : display.onEvent,
      });
      if (o.quiet) {
        io.stdout.write(`${result.digest}\n`);
        return;
      }
      display.finish();
      io.stdout.write(`${ref.tag ?? ref.digest}: digest: ${result.digest} size: ${result.size}\n`);
    });
};
