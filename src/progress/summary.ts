/**
 * What the tty and plain displays print at the end: the failed steps' logs in BuildKit's frame
 * ("------ / > name: / lines / ------") and the size table (the final image beside each jettisoned
 * stage).
 */
import type { StageSize } from './events.ts';
import { formatBytes } from './format.ts';

export function errorBlock(name: string, lines: readonly string[], omitted = 0): string {
  const out = ['------', ` > ${name}:`];
  if (omitted > 0) out.push(`[${omitted} earlier line(s) not shown]`);
  out.push(...lines, '------');
  return `${out.join('\n')}\n`;
}

/**
 * The size table, or '' when there is nothing to compare:
 *
 *   STAGE                 SIZE
 *   runtime (image)    12.34MB
 *   build             845.20MB  jettisoned
 *   docs                     -  not built: not needed by target runtime
 */
export function sizeTable(image: { size: number } | undefined, stages: readonly StageSize[] = []): string {
  const rows: [string, string, string][] = [];
  const final = stages.find((s) => s.final);
  if (final) rows.push([`${final.name} (image)`, formatBytes(image?.size ?? final.size), '']);
  else if (image) rows.push(['image', formatBytes(image.size), '']);
  for (const s of stages) if (s.jettisoned && !s.final && !s.skipped) rows.push([s.name, formatBytes(s.size), 'jettisoned']);
  for (const s of stages) if (s.skipped) rows.push([s.name, '-', `not built: ${s.skipped}`]);
  if (rows.length === 0) return '';
  const nameW = Math.max(5, ...rows.map((r) => r[0].length));
  const sizeW = Math.max(4, ...rows.map((r) => r[1].length));
  const line = (r: [string, string, string]) => `${r[0].padEnd(nameW)}  ${r[1].padStart(sizeW)}${r[2] ? `  ${r[2]}` : ''}`;
  return `${[line(['STAGE', 'SIZE', '']), ...rows.map(line)].join('\n')}\n`;
}
