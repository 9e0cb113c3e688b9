/**
 * `jettison save [-o FILE] [--format docker|oci] IMAGE…`: images as a docker archive (default; a
 * tar `docker load` and `podman load` accept; layers uncompressed, as docker save writes them) or an
 * OCI layout (blobs as stored: built layers uncompressed, pulled ones as pulled). Where it goes: no -o (or -o -) →
 * a tar on stdout (refused on a terminal, as Docker does); --format oci with -o naming an existing
 * directory or a path not ending in .tar → a layout directory (merged into an existing layout);
 * otherwise a tar file, written to a temp file beside it and renamed when complete.
 */
import type { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { rename, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { JettisonError } from '../../errors.ts';
import { writeDockerArchive, writeOciLayoutDir, writeOciLayoutTar, type ImageToExport } from '../../exporter/index.ts';
import { parsePlatform } from '../../image/platform.ts';
import { normalizeReference } from '../../image/reference.ts';
import { resolveImageRef, type ContentStore } from '../../store/index.ts';
import { unlinkIfExists } from '../../util/fs.ts';
import type { CliIO, GlobalOptions } from '../context.ts';
import { storeFor } from './images.ts';

interface SaveFlags {
  output?: string;
  format: string;
  platform?: string;
}

async function imagesFor(store: ContentStore, names: string[]): Promise<ImageToExport[]> {
  const out: ImageToExport[] = [];
  for (const n of names) {
    const rec = await resolveImageRef(store, n);
    let name: string | undefined = rec.name;
    // An image asked for by ID keeps its name, as `docker save ID` does not (it has none): Docker
    // leaves RepoTags empty then; we follow it.
    try {
      if (normalizeReference(n) !== rec.name) name = undefined;
    } catch {
      name = undefined;
    }
    out.push(name ? { name, target: rec.target } : { target: rec.target });
  }
  return out;
}

export function register(program: Command, io: CliIO, globals: () => GlobalOptions): void {
  program
    .command('save')
    .description('save images to a docker archive or an OCI layout')
    .argument('<image...>', 'image names or IDs')
    .option('-o, --output <path>', 'write to a file (or, for --format oci, a directory) instead of stdout')
    .option('--format <format>', 'docker (archive for docker/podman load; layers uncompressed) or oci (image layout; layers as stored: built layers uncompressed, pulled ones as pulled)', 'docker')
    .option('--platform <os/arch[/variant]>', 'docker format: which image of a multi-platform index (default: this host)')
    .action(async (names: string[], flags: SaveFlags) => {
      if (flags.format !== 'docker' && flags.format !== 'oci') {
        throw new JettisonError('USAGE', `unknown --format "${flags.format}": expected docker or oci`);
      }
      const store = storeFor(io, globals);
      const images = await imagesFor(store, names);
      const platform = flags.platform ? parsePlatform(flags.platform) : undefined;
      const write = (out: Writable, end: boolean) =>
        flags.format === 'oci' ? writeOciLayoutTar(store, images, out, { end }) : writeDockerArchive(store, images, out, { ...(platform ? { platform } : {}), end });
      if (flags.output === undefined || flags.output === '-') {
        if (io.stdout.isTTY) throw new JettisonError('USAGE', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
        await write(io.stdout, false);
        return;
      }
      const dest = resolve(io.cwd, flags.output);
      const st = await stat(dest).catch(() => undefined);
      if (flags.format === 'oci' && (st?.isDirectory() || (!st && !/\.tar$/i.test(dest)))) {
        await writeOciLayoutDir(store, images, dest);
        return;
      }
      if (st?.isDirectory()) throw new JettisonError('USAGE', `${flags.output} is a directory (a docker archive is a file)`);
      const tmp = `${dest}.tmp-${process.pid}`;
      try {
        await write(createWriteStream(tmp, { flags: 'wx' }), true);
        await rename(tmp, dest);
      } catch (err) {
        await unlinkIfExists(tmp);
        throw err;
      }
    });
}
