/**
 * `jettison inspect NAME…`: JSON like `docker image inspect` (Id, RepoTags, RepoDigests, Created,
 * Author, Config, Architecture, Variant, Os, Size, RootFS, History) plus the OCI Descriptor and
 * Manifest. Unknown names: "No such image: NAME" and exit 1, after printing the ones found.
 */
import type { Command } from 'commander';
import { familiarName, familiarRepository, parseReference } from '../../image/reference.ts';
import { imageSize, readImage } from '../../store/index.ts';
import { CommandExit, type CliIO, type GlobalOptions } from '../context.ts';
import { storeFor } from './images.ts';

export function register(program: Command, io: CliIO, globals: () => GlobalOptions): void {
  program
    .command('inspect')
    .description('show details of images (JSON)')
    .argument('<image...>', 'image names or IDs')
    .option('--platform <os/arch[/variant]>', 'which image of a multi-platform index (default: this host)')
    .action(async (names: string[], flags: { platform?: string }) => {
      const store = storeFor(io, globals);
      const { parsePlatform } = await import('../../image/platform.ts');
      const platform = flags.platform ? parsePlatform(flags.platform) : undefined;
      const out: unknown[] = [];
      let failed = false;
      const refs = await store.listRefs();
      for (const name of names) {
        let img;
        try {
          img = await readImage(store, name, platform);
        } catch (err) {
          io.stderr.write(`error: ${(err as Error).message}\n`);
          failed = true;
          continue;
        }
        const same = refs.filter((r) => r.target.digest === img.target.digest);
        const c = img.config;
        out.push({
          Id: img.configDescriptor.digest,
          RepoTags: same.map((r) => r.name).filter((n) => !n.includes('@')).map((n) => familiarName(n)),
          RepoDigests: [...new Set(same.map((r) => `${familiarRepository(parseReference(r.name))}@${img.target.digest}`))],
          Created: c.created ?? '',
          Author: c.author ?? '',
          Config: c.config ?? {},
          Architecture: c.architecture,
          ...(c.variant ? { Variant: c.variant } : {}),
          Os: c.os,
          Size: await imageSize(store, img.manifestDescriptor),
          RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
          History: c.history ?? [],
          Descriptor: img.target,
          ...(img.index ? { ManifestDescriptor: img.manifestDescriptor } : {}),
          Manifest: img.manifest,
        });
      }
      io.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
      if (failed) throw new CommandExit(1);
    });
}
