/**
 * Renders a CEKit plan as a Dockerfile, in the order of CEKit's template: per stage `FROM`, `USER
 * root`, package repositories, the image's ARGs, then one section per module and one for the image's
 * own content (artifacts, image-content artifacts, module files, packages, ARGs, ENVs, LABELs,
 * EXPOSE, scripts, VOLUMEs); the final image then removes /tmp/scripts and /tmp/artifacts, clears
 * package caches when squashed, and sets USER, WORKDIR, ENTRYPOINT and CMD. Pure: plan in, text out.
 */
import type { CekitPlan, Section, Stage } from './plan.ts';
import { packageCommands } from './packages.ts';

/** A double-quoted Dockerfile word: `"` and `\` escaped, `$` left for the builder's expansion. */
export function quote(value: string): string {
  const oneLine = value.replace(/\s*\r?\n\s*/g, ' ').trim();
  return `"${oneLine.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** An exec-form JSON array, as CEKit's helper.cmd writes it. */
export function execForm(args: string[]): string {
  return `[${args.map((a) => JSON.stringify(a)).join(', ')}]`;
}

function copyLine(sources: string[], dest: string, from?: string): string {
  const flag = from ? `--from=${from} ` : '';
  if ([...sources, dest].some((s) => /[\s"'\\]/.test(s))) return `COPY ${flag}${execForm([...sources, dest])}`;
  return `COPY ${flag}${[...sources, dest].join(' ')}`;
}

function keyValues(instruction: string, items: { name: string; value: string }[]): string[] {
  const sorted = [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lines = [`${instruction} \\`];
  sorted.forEach((item, i) => lines.push(`    ${item.name}=${quote(item.value)}${i < sorted.length - 1 ? ' \\' : ''}`));
  return lines;
}

function renderSection(s: Section, stage: Stage, squash: boolean): string[] {
  const what = `${s.kind} '${s.name}:${s.version}'`;
  const out: string[] = [`###### START ${what}`];
  // General artifacts, grouped by destination (sorted, as Jinja's groupby does).
  const files = s.artifacts.filter((a) => !a.directory);
  const dests = [...new Set(files.map((a) => a.artifact.dest))].sort();
  for (const dest of dests) {
    out.push(`# Copy '${s.name}' ${s.kind} general artifacts to '${dest}' destination`);
    out.push(copyLine(files.filter((a) => a.artifact.dest === dest).map((a) => a.contextPath), dest));
  }
  for (const a of s.artifacts.filter((x) => x.directory)) {
    out.push(`# Copy '${s.name}' ${s.kind} artifact directory '${a.artifact.name}'`);
    out.push(copyLine([a.contextPath], `${a.artifact.dest}${a.artifact.target}/`));
  }
  if (s.imageArtifacts.length) {
    out.push(`# Copy '${s.name}' ${s.kind} stage artifacts`);
    for (const a of s.imageArtifacts) out.push(copyLine([a.path], `${a.dest}${a.target}`, a.image));
  }
  if (s.contentPath) {
    out.push(`# Copy '${s.name}' ${s.kind} content`);
    out.push(copyLine([s.contentPath], `/tmp/scripts/${s.name}`));
  }
  const p = s.packages;
  if (p.install.length || p.remove.length || p.reinstall.length) {
    out.push(`# Switch to 'root' user for package management for '${s.name}' ${s.kind} defined packages`);
    out.push('USER root');
    const cmds = packageCommands(stage.manager, stage.flags, p, !squash);
    out.push(`RUN ${cmds.join(' \\\n    && ')}`);
  }
  for (const arg of [...s.args].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    out.push(arg.value === undefined ? `ARG ${arg.name}` : `ARG ${arg.name}=${quote(arg.value)}`);
  }
  const envs = s.envs.filter((e): e is { name: string; value: string } => e.value !== undefined);
  if (envs.length) {
    out.push(`# Set '${s.name}' ${s.kind} defined environment variables`);
    out.push(...keyValues('ENV', envs));
  }
  if (s.labels.length) {
    out.push(`# Set '${s.name}' ${s.kind} defined labels`);
    out.push(...keyValues('LABEL', s.labels));
  }
  const ports = s.ports.filter((port) => port.expose).map((port) => (port.protocol ? `${port.value}/${port.protocol}` : port.value));
  if (ports.length) {
    out.push(`# Exposed ports in '${s.name}' ${s.kind}`);
    out.push(`EXPOSE ${ports.join(' ')}`);
  }
  if (s.execute.length) {
    out.push(`# Custom scripts from '${s.name}' ${s.kind}`);
    for (const e of s.execute) {
      out.push(`USER ${e.user}`);
      out.push(`RUN ${execForm(['sh', '-x', e.script]).replace(/^\[/, '[ ').replace(/\]$/, ' ]')}`);
    }
  }
  if (s.volumes.length) {
    out.push(`# Volumes defined in the '${s.name}' ${s.kind}`);
    for (const v of s.volumes) out.push(`VOLUME ${execForm([v.path])}`);
  }
  out.push(`###### END ${what}`);
  return out;
}

function renderStage(stage: Stage, squash: boolean): string[] {
  const kind = stage.builder ? 'builder' : 'target';
  const scratch = stage.from === 'scratch';
  const out: string[] = [`## START ${kind} image ${stage.name}:${stage.version}`];
  out.push(stage.builder ? `FROM ${stage.from} AS ${stage.name}` : `FROM ${stage.from}`);
  if (!scratch) out.push('USER root');
  if (stage.repoFiles.length) {
    out.push('# Add custom repo files');
    out.push(copyLine(stage.repoFiles.map((r) => r.contextPath), '/etc/yum.repos.d/'));
  }
  for (const rpm of stage.repoRpms) {
    out.push(`RUN ${[stage.manager.name, stage.flags, stage.manager.install, rpm].filter(Boolean).join(' ')}`);
  }
  for (const arg of [...stage.args].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    out.push(arg.value === undefined ? `ARG ${arg.name}` : `ARG ${arg.name}=${quote(arg.value)}`);
  }
  out.push('');
  for (const s of stage.sections) out.push(...renderSection(s, stage, squash), '');
  if (!stage.builder) {
    if (!scratch) {
      out.push("# Switch to 'root' user and remove artifacts and modules");
      out.push('USER root');
      out.push('RUN rm -rf "/tmp/scripts" "/tmp/artifacts"');
    }
    const installs = stage.sections.some((s) => s.packages.install.length || s.packages.reinstall.length || s.packages.remove.length);
    if (squash && installs && !scratch) {
      out.push('# Clear package manager metadata');
      out.push(`RUN ${stage.manager.clean}`);
    }
    if (stage.repoFiles.length) {
      out.push('# Remove custom repo files');
      out.push(`RUN rm${stage.repoFiles.map((r) => ` /etc/yum.repos.d/${r.filename}`).join('')}`);
    }
    const run = stage.run;
    if (!scratch) {
      out.push('# Define the user');
      out.push(`USER ${run.user ?? 'root'}`);
    } else if (run.user) {
      out.push(`USER ${run.user}`);
    }
    if (run.workdir) {
      out.push('# Define the working directory');
      out.push(`WORKDIR ${run.workdir}`);
    }
    if (run.entrypoint) {
      out.push('# Define entrypoint');
      out.push(`ENTRYPOINT ${execForm(run.entrypoint)}`);
    }
    if (run.cmd) {
      out.push('# Define run cmd');
      out.push(`CMD ${execForm(run.cmd)}`);
    }
  }
  out.push(`## END ${kind} image`);
  return out;
}

/** The Dockerfile a plan means. */
export function renderDockerfile(plan: CekitPlan): string {
  const final = plan.stages[plan.stages.length - 1]!;
  const out: string[] = [
    `# This is a Dockerfile for the ${final.name}:${final.version} image,`,
    '# generated by jettison from a CEKit image descriptor.',
    '',
  ];
  for (const stage of plan.stages) out.push(...renderStage(stage, plan.squash), '');
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}
