/**
 * `jettison plan [-f FILE] [--target S] [--build-arg K=V]… [--platform P] [--json]`: the stage
 * graph of a Dockerfile and what a build of the target would run: stages and bases, edges, the
 * stages the target skips and why, and the parallel groups. No image is pulled.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseDockerfile } from '../../frontend/dockerfile/index.ts';
import { planBuild, type BuildPlan } from '../../frontend/dockerfile/stages/plan.ts';
import { collect, type CliIO, type GlobalOptions } from '../context.ts';

/** --build-arg K=V (K alone takes the value from the environment, as docker build does). */
export function buildArgsFrom(list: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list) {
    const eq = a.indexOf('=');
    if (eq >= 0) out[a.slice(0, eq)] = a.slice(eq + 1);
    else if (env[a] !== undefined) out[a] = env[a] as string;
  }
  return out;
}

/** Reads the Dockerfile named by -f (default ./Dockerfile, "-" for stdin). */
export async function readDockerfile(io: CliIO, file: string | undefined): Promise<{ name: string; text: Buffer }> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of io.stdin) chunks.push(Buffer.from(c as Buffer));
    return { name: 'Dockerfile', text: Buffer.concat(chunks) };
  }
  const name = file ?? 'Dockerfile';
  return { name, text: await readFile(resolve(io.cwd, name)) };
}

const label = (plan: BuildPlan, i: number) => plan.stages[i].name ?? `stage-${i}`;

function baseText(plan: BuildPlan, i: number): string {
  const b = plan.stages[i].base;
  if (b === 'scratch') return 'scratch';
  if ('stage' in b) return `stage ${label(plan, b.stage)} (#${b.stage})`;
  return b.image === '' ? '(empty)' : `image ${b.image}`;
}

/** The readable view. */
export function formatPlan(plan: BuildPlan): string {
  const out: string[] = [];
  out.push(`${plan.file}: ${plan.stages.length} stage${plan.stages.length === 1 ? '' : 's'}, target ${label(plan, plan.target)} (#${plan.target}), platform ${plan.platform.target}`);
  out.push('');
  out.push('stages:');
  for (const s of plan.stages) {
    const mark = s.index === plan.target ? ' (target)' : '';
    out.push(`  #${s.index} ${label(plan, s.index)}${mark}: FROM ${s.from}${s.from !== s.fromRaw ? ` (${s.fromRaw})` : ''} -> ${baseText(plan, s.index)}${s.platform ? ` --platform=${s.platform}` : ''}`);
    for (const e of s.edges) {
      if (e.kind === 'from') continue;
      const via = e.kind === 'copy' ? 'COPY --from' : e.kind === 'mount' ? 'RUN --mount from' : 'ONBUILD';
      out.push(`      uses ${label(plan, e.stage)} (#${e.stage}) via ${via}, line ${e.line}`);
    }
    for (const img of s.images) out.push(`      uses image ${img}`);
  }
  out.push('');
  out.push(`build order: ${plan.build.map((i) => `${label(plan, i)} (#${i})`).join(', ')}`);
  out.push('parallel groups:');
  plan.levels.forEach((lv, n) => out.push(`  ${n + 1}: ${lv.map((i) => label(plan, i)).join(', ')}`));
  if (plan.skipped.length) {
    out.push('skipped:');
    for (const s of plan.skipped) out.push(`  #${s.stage} ${label(plan, s.stage)}: ${s.reason}`);
  }
  if (plan.unusedBuildArgs.length) out.push(`warning: build args not consumed: ${plan.unusedBuildArgs.join(', ')}`);
  return out.join('\n') + '\n';
}

/** The --json view. */
export function planJson(plan: BuildPlan): unknown {
  return {
    stages: plan.stages.map((s) => ({
      index: s.index,
      name: s.name,
      from: s.from,
      base: s.base,
      platform: s.platform,
      line: s.location.line,
      dependsOn: s.dependsOn,
      edges: s.edges,
      images: s.images,
    })),
    target: plan.target,
    build: plan.build,
    levels: plan.levels,
    skipped: plan.skipped,
    platform: plan.platform,
    unusedBuildArgs: plan.unusedBuildArgs,
  };
}

export function register(program: Command, io: CliIO, _globals: () => GlobalOptions): void {
  program
    .command('plan')
    .description('show the stages of a Dockerfile and the order a build of the target runs them in')
    .option('-f, --file <path>', 'the Dockerfile (default: ./Dockerfile; - for stdin)')
    .option('--target <stage>', 'build this stage (default: the last)')
    .option('--build-arg <key=value>', 'set a build arg (repeatable)', collect, [])
    .option('--platform <os/arch[/variant]>', 'target platform (default: this host)')
    .option('--json', 'print JSON', false)
    .action(async (flags: { file?: string; target?: string; buildArg: string[]; platform?: string; json: boolean }) => {
      const { name, text } = await readDockerfile(io, flags.file);
      const df = parseDockerfile(text, { file: name });
      const plan = planBuild(df, { target: flags.target, buildArgs: buildArgsFrom(flags.buildArg, io.env), platform: flags.platform });
      io.stdout.write(flags.json ? `${JSON.stringify(planJson(plan), null, 2)}\n` : formatPlan(plan));
    });
}
