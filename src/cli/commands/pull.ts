/**
 * `jettison pull [--platform P] [-q] IMAGE`: pulls an image into the store, printing Docker-like
 * lines. Also exports the transfer display shared with `push`: one line per finished blob when
 * stdout is not a terminal, a redrawn bar per blob when it is.
 */
import type { Command } from 'commander';
import { parseReference, familiarName, formatReference } from '../../image/reference.ts';
import { pullImage, resolveRegistryConfig, type TransferEvent } from '../../registry/index.ts';
import { openStore, resolveRoot } from '../../store/index.ts';
import type { CliIO, GlobalOptions } from '../context.ts';
import type { RegisterCommand } from './index.ts';

/** docker pull's layer id: the first 12 hex digits, no algorithm ("a675755ef3d5: Pull complete"). */
export function dockerShortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

function human(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : 1)}${units[u]}`;
}

interface Line {
  id: string;
  status: string;
  current: number;
  total: number;
  bar: boolean;
}

/**
 * Prints transfer events. `finalLabel` maps an event that ends a blob to its line ("Pull complete",
 * "Pushed"…) or undefined when the event does not end it.
 */
export class TransferDisplay {
  private readonly out: CliIO['stdout'];
  private readonly tty: boolean;
  private readonly lines = new Map<string, Line>();
  private readonly order: string[] = [];
  private drawn = 0;
  private lastDraw = 0;
  private readonly finalLabel: (e: TransferEvent) => string | undefined;
  private readonly activeLabel: (e: TransferEvent) => string;

  constructor(out: CliIO['stdout'], finalLabel: (e: TransferEvent) => string | undefined, activeLabel: (e: TransferEvent) => string) {
    this.out = out;
    this.tty = Boolean(out.isTTY);
    this.finalLabel = finalLabel;
    this.activeLabel = activeLabel;
  }

  onEvent = (e: TransferEvent): void => {
    if (!/^sha256:/.test(e.id)) return;
    if (e.kind !== 'layer' && e.kind !== 'config') return;
    if (e.kind === 'config') return; // Docker shows layers only
    const done = this.finalLabel(e);
    if (!this.tty) {
      if (done) this.out.write(`${dockerShortId(e.id)}: ${done}\n`);
      return;
    }
    let line = this.lines.get(e.id);
    if (!line) {
      line = { id: e.id, status: '', current: 0, total: e.total, bar: false };
      this.lines.set(e.id, line);
      this.order.push(e.id);
    }
    const status = done ?? this.activeLabel(e);
    const changed = status !== line.status;
    line.status = status;
    line.current = e.current;
    line.total = e.total;
    line.bar = !done && (e.action === 'downloading' || e.action === 'uploading');
    // A new state shows at once; byte counts at most ten times a second.
    if (changed || Date.now() - this.lastDraw > 100) this.draw();
  };

  private draw(): void {
    this.lastDraw = Date.now();
    const width = Math.max(20, Math.min(50, ((this.out.columns ?? 80) - 50) | 0));
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const id of this.order) {
      const l = this.lines.get(id) as Line;
      let s = `${dockerShortId(id)}: ${l.status}`;
      if (l.bar && l.total > 0) {
        const filled = Math.min(width, Math.floor((l.current / l.total) * width));
        s += ` [${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}] ${human(l.current)}/${human(l.total)}`;
      }
      text += `\x1b[2K${s}\n`;
    }
    this.drawn = this.order.length;
    this.out.write(text);
  }

  /** Draws the final state (terminal only). */
  finish(): void {
    if (this.tty && this.order.length > 0) this.draw();
  }
}

export const register: RegisterCommand = (program: Command, io: CliIO, globals: () => GlobalOptions) => {
  program
    .command('pull')
    .description('Download an image from a registry into the local store')
    .argument('<image>', 'image reference, e.g. busybox, localhost:5000/app:1, app@sha256:…')
    .option('--platform <platform>', 'platform to pull from a multi-platform image (default: this machine)')
    .option('-q, --quiet', 'print only the image name', false)
    .action(async (image: string, o: { platform?: string; quiet: boolean }) => {
      const g = globals();
      const config = await resolveRegistryConfig(g, io.env);
      const store = openStore(resolveRoot({ root: g.root, cwd: io.cwd }, io.env), io.env);
      const explicitTag = parseReference(image, { defaultTag: false });
      const ref = parseReference(image);
      if (!o.quiet) {
        if (!explicitTag.tag && !explicitTag.digest) io.stdout.write('Using default tag: latest\n');
        io.stdout.write(`${ref.tag ?? ref.digest}: Pulling from ${ref.repository}\n`);
      }
      const display = new TransferDisplay(
        io.stdout,
        (e) => (e.action === 'done' ? 'Pull complete' : e.action === 'exists' ? 'Already exists' : undefined),
        (e) => (e.action === 'downloading' ? 'Downloading' : e.action === 'retrying' ? 'Retrying' : 'Waiting'),
      );
      const result = await pullImage(ref, {
        store,
        config,
        platform: o.platform,
        onProgress: o.quiet ? undefined : display.onEvent,
      });
      if (o.quiet) {
        io.stdout.write(`${result.name}\n`);
        return;
      }
      display.finish();
      io.stdout.write(`Digest: ${result.digest}\n`);
      const status = result.downloaded > 0 ? 'Downloaded newer image for' : 'Image is up to date for';
      io.stdout.write(`Status: ${status} ${familiarName(ref)}\n`);
      io.stdout.write(`${formatReference(ref)}\n`);
    });
};
