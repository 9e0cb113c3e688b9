/**
 * `jettison images`: the images in the store, like `docker images` (REPOSITORY TAG IMAGE ID CREATED
 * SIZE; IMAGE ID = 12 hex of the config digest; SIZE = stored bytes). `--format json` prints one JSON
 * object a line, as `docker images --format json` does. Also the helpers the other image commands
 * share: opening the store from the global options and Docker's human sizes and durations.
 */
import type { Command } from 'commander';
import { familiarRepository, parseReference } from '../../image/reference.ts';
import { imageSize, openStore, readImageByDescriptor, resolveRoot, type LocalStore, type RefRecord } from '../../store/index.ts';
import type { CliIO, GlobalOptions } from '../context.ts';

export function storeFor(io: CliIO, globals: () => GlobalOptions): LocalStore {
  return openStore(resolveRoot({ root: globals().root, cwd: io.cwd }, io.env));
}

/** Docker's HumanSize: decimal units, 3 significant digits ("4.26MB", "612B"). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** go-units HumanDuration, as `docker images` prints CREATED ("2 minutes" + " ago"). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3600000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3600000 / 24 / 365)} years`;
}

/** Columns padded like Docker's tabwriter (min width 10, padding 3). */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(Math.max(widths[i] + 3, 10)))).join('').trimEnd() + '\n')
    .join('');
}

export interface ImageRow {
  Repository: string;
  Tag: string;
  ID: string;
  Digest: string;
  CreatedAt: string;
  CreatedSince: string;
  Size: string;
  /** Full fields for programs. */
  Name: string;
  ImageID: string;
  SizeBytes: number;
}

export async function listImages(store: LocalStore, now = Date.now()): Promise<ImageRow[]> {
  const rows: (ImageRow & { created: number })[] = [];
  const sizes = new Map<string, number>();
  const refs: RefRecord[] = await store.listRefs();
  for (const rec of refs) {
    let ref;
    try {
      ref = parseReference(rec.name, { defaultTag: false });
    } catch {
      continue; // not an image name (another subsystem's ref)
    }
    const img = await readImageByDescriptor(store, rec.target).catch(() => undefined);
    if (!img) continue;
    const size = sizes.get(rec.target.digest) ?? (await imageSize(store, rec.target));
    sizes.set(rec.target.digest, size);
    const created = img.config.created ? Date.parse(img.config.created) : NaN;
    rows.push({
      Repository: familiarRepository(ref),
      Tag: ref.tag ?? '<none>',
      ID: img.configDescriptor.digest.slice(7, 19),
      Digest: ref.digest ?? rec.target.digest,
      CreatedAt: Number.isNaN(created) ? '' : new Date(created).toISOString(),
      CreatedSince: Number.isNaN(created) ? 'N/A' : `${humanDuration(Math.max(0, now - created))} ago`,
      Size: humanSize(size),
      Name: rec.name,
      ImageID: img.configDescriptor.digest,
      SizeBytes: size,
      created: Number.isNaN(created) ? 0 : created,
    });
  }
  rows.sort((a, b) => b.created - a.created || (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  return rows.map(({ created: _, ...r }) => r);
}

export function register(program: Command, io: CliIO, globals: () => GlobalOptions): void {
  program
    .command('images')
    .description('list the images in the store')
    .argument('[repository]', 'only images of this repository (REPOSITORY[:TAG])')
    .option('--format <format>', 'table or json (one object a line)', 'table')
    .option('-q, --quiet', 'only image IDs')
    .option('--no-trunc', 'full image IDs')
    .action(async (repository: string | undefined, flags: { format: string; quiet?: boolean; trunc: boolean }) => {
      let rows = await listImages(storeFor(io, globals));
      if (repository) {
        const want = parseReference(repository, { defaultTag: false });
        rows = rows.filter((r) => {
          const have = parseReference(r.Name, { defaultTag: false });
          return have.registry === want.registry && have.repository === want.repository && (want.tag === undefined || want.tag === have.tag);
        });
      }
      if (flags.quiet) {
        const ids = [...new Set(rows.map((r) => (flags.trunc ? r.ID : r.ImageID)))];
        io.stdout.write(ids.map((i) => `${i}\n`).join(''));
        return;
      }
      if (flags.format === 'json') {
        io.stdout.write(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
        return;
      }
      if (flags.format !== 'table') throw new Error(`unknown --format "${flags.format}" (table or json)`);
      const head = ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'];
      io.stdout.write(table([head, ...rows.map((r) => [r.Repository, r.Tag, flags.trunc ? r.ID : r.ImageID, r.CreatedSince, r.Size])]));
    });
}
