/**
 * The side-by-side table of the build benchmarks: each build's own wall-clock time is recorded per
 * scenario and builder (only the build process — not the untimed cache resets and file edits that
 * the harness's per-run time includes), and `formatComparison` prints, per scenario, the median of
 * each builder, jettison/BuildKit, the goal and BuildKit's earlier reference number; a builder that
 * could not run shows why ("not installed", "failed: …"). Peak RSS of the jettison process is kept
 * per scenario as well (the largest seen).
 */
import type { Tool } from './builders.ts';

export interface ScenarioInfo {
  id: string;
  title: string;
  goal: string;
  /** BuildKit (warm daemon) measured earlier on this machine class, in seconds. */
  referenceS?: number;
}

interface Cell {
  samples: number[];
  note?: string;
  maxRssKiB?: number;
}

export class Comparison {
  private readonly scenarios: ScenarioInfo[] = [];
  private readonly cells = new Map<string, Cell>();

  addScenario(s: ScenarioInfo): void {
    if (!this.scenarios.some((x) => x.id === s.id)) this.scenarios.push(s);
  }

  private cell(scenario: string, tool: Tool): Cell {
    const key = `${scenario}\0${tool}`;
    let c = this.cells.get(key);
    if (!c) this.cells.set(key, (c = { samples: [] }));
    return c;
  }

  record(scenario: string, tool: Tool, ms: number, maxRssKiB?: number): void {
    const c = this.cell(scenario, tool);
    c.samples.push(ms);
    if (maxRssKiB !== undefined) c.maxRssKiB = Math.max(c.maxRssKiB ?? 0, maxRssKiB);
  }

  /** Why a builder has no number for a scenario (shown instead of a time). */
  note(scenario: string, tool: Tool, text: string): void {
    this.cell(scenario, tool).note = text;
  }

  median(scenario: string, tool: Tool): number | undefined {
    const s = [...(this.cells.get(`${scenario}\0${tool}`)?.samples ?? [])].sort((a, b) => a - b);
    if (s.length === 0) return undefined;
    const mid = s.length >> 1;
    return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  }

  maxRssKiB(scenario: string, tool: Tool = 'jettison'): number | undefined {
    return this.cells.get(`${scenario}\0${tool}`)?.maxRssKiB;
  }

  /** Scenario rows as plain data (for --json style use and the docs). */
  rows(): { scenario: string; goal: string; referenceS?: number; results: Record<Tool, { medianMs?: number; runs: number; note?: string; maxRssKiB?: number }> }[] {
    return this.scenarios.map((s) => {
      const results = {} as Record<Tool, { medianMs?: number; runs: number; note?: string; maxRssKiB?: number }>;
      for (const tool of ['jettison', 'BuildKit', 'buildah'] as Tool[]) {
        const c = this.cells.get(`${s.id}\0${tool}`);
        const r: { medianMs?: number; runs: number; note?: string; maxRssKiB?: number } = { runs: c?.samples.length ?? 0 };
        const m = this.median(s.id, tool);
        if (m !== undefined) r.medianMs = m;
        if (c?.note) r.note = c.note;
        if (c?.maxRssKiB !== undefined) r.maxRssKiB = c.maxRssKiB;
        results[tool] = r;
      }
      return { scenario: s.title, goal: s.goal, ...(s.referenceS !== undefined ? { referenceS: s.referenceS } : {}), results };
    });
  }

  format(): string {
    const secs = (ms: number | undefined): string => (ms === undefined ? '' : `${(ms / 1000).toFixed(2)} s`);
    const show = (id: string, tool: Tool): string => {
      const m = this.median(id, tool);
      const note = this.cells.get(`${id}\0${tool}`)?.note;
      if (m !== undefined) return note ? `${secs(m)} (${note})` : secs(m);
      return note ?? '—';
    };
    const header = ['scenario', 'jettison', 'BuildKit', 'buildah', 'jettison/BuildKit', 'goal', 'BuildKit ref', 'jettison peak RSS'];
    const body = this.scenarios.map((s) => {
      const j = this.median(s.id, 'jettison');
      const b = this.median(s.id, 'BuildKit');
      const rss = this.maxRssKiB(s.id);
      return [
        s.title,
        show(s.id, 'jettison'),
        show(s.id, 'BuildKit'),
        show(s.id, 'buildah'),
        j !== undefined && b !== undefined ? `${(j / b).toFixed(2)}x` : '',
        s.goal,
        s.referenceS === undefined ? '' : `${s.referenceS.toFixed(2)} s`,
        rss === undefined ? '' : `${Math.round(rss / 1024)} MiB`,
      ];
    });
    const cells = [header, ...body];
    const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
    return cells.map((r) => r.map((v, c) => v.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
  }
}
