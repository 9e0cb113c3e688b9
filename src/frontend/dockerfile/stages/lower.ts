/**
 * Lowering one stage: its typed instructions, the base image's config (or the lowered parent
 * stage) and the plan's args in; fully expanded steps and the resulting image config out. Pure.
 *
 * Expansion follows BuildKit: ADD COPY ENV EXPOSE LABEL STOPSIGNAL USER VOLUME WORKDIR and ARG
 * defaults are expanded (RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK are left to the shell, RUN --mount
 * values are expanded). The variables visible are the base image's Env, the stage's ENV and the
 * values of ARGs declared in the stage (an ENV line sees the values from before that line). A stage
 * whose base is another stage inherits that stage's variables and ARGs. Build args only reach a
 * stage through `ARG NAME`; `ARG NAME` without a default inherits a meta ARG or automatic platform
 * arg. Proxy build args (HTTP_PROXY…) reach every RUN without a declaration and stay out of history.
 *
 * Data model (JSON-serialisable):
 *   LoweredStage { stage, name, steps: Step[], config (ContainerConfig), author, env (variables at
 *                  the end, incl. ARG values), args (ARGs in scope), workdirSet, findings[] }
 *   Step = RunStep | CopyStep | WorkdirStep | ConfigStep, each with instruction, location, onbuild,
 *          description (progress text), createdBy (history), emptyLayer, key (deterministic text
 *          for cache keys: the step's semantic fields, without location or description).
 */
import { ExpansionError } from '../../../errors.ts';
import type { ContainerConfig, HealthConfig as ImageHealthConfig } from '../../../image/types.ts';
import { expandWithUsage } from '../shell/lex.ts';
import { goQuote } from '../shell/quote.ts';
import { formatGoDuration } from '../instructions/duration.ts';
import { InstructionFault } from '../instructions/fault.ts';
import { parseMount } from '../instructions/mount.ts';
import { checkChmod, chompHeredocContent, errorAt, heredocWordName } from '../instructions/parse.ts';
import { suggest } from '../instructions/suggest.ts';
import type { Command, MountSpec, NetworkMode, SecurityMode, SourceLocation } from '../instructions/types.ts';
import { PROXY_ARGS, type BuildPlan } from './plan.ts';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** Where a COPY, ADD or mount reads from. */
export type StepSource = 'context' | { stage: number } | { image: string };

/** A lint finding made while lowering (the linter adds the rule's description and URL). */
export interface Finding {
  rule: string;
  message: string;
  location: SourceLocation;
}

interface StepCommon {
  instruction: Command['kind'];
  location: SourceLocation;
  /** True for ONBUILD triggers of the base run at FROM. */
  onbuild: boolean;
  /** "RUN make", for progress displays. */
  description: string;
  /** The image history entry (created_by), as BuildKit writes it. */
  createdBy: string;
  emptyLayer: boolean;
  /** Deterministic description of what the step does, for cache keys. */
  key: string;
}

export interface RunMount extends MountSpec {
  /** Absolute target (relative targets resolved against the working directory). */
  target: string | null;
  /** For bind and cache mounts with from=: the stage or image read from; bind without from: the context. */
  fromSource: StepSource | null;
}

export interface RunStep extends StepCommon {
  kind: 'run';
  /** The argv to execute (SHELL prepended for the shell form). */
  args: string[];
  /** KEY=VALUE: the image Env, the stage's ENV, ARGs in scope and proxy build args. */
  env: string[];
  workdir: string;
  user: string;
  mounts: RunMount[];
  network: NetworkMode;
  security: SecurityMode;
  /** A single heredoc starting with #! is written to this file (under /dev/pipes) and run. */
  script: { name: string; data: string } | null;
}

export interface CopyStep extends StepCommon {
  kind: 'copy' | 'add';
  source: StepSource;
  /** Paths in the source (ADD: also URLs and git refs), expanded. */
  sources: string[];
  /** Inline files from heredocs: name and final content. */
  contents: { name: string; data: string }[];
  /** Absolute destination; ends with "/" when it names a directory. */
  dest: string;
  workdir: string;
  chown: string | null;
  chmod: string | null;
  link: boolean;
  parents: boolean;
  exclude: string[];
  checksum: string | null;
  keepGitDir: boolean;
  unpack: boolean | null;
  /** The USER in effect (BuildKit copies as root unless --chown; kept for the engine). */
  user: string;
}

export interface WorkdirStep extends StepCommon {
  kind: 'workdir';
  /** Absolute, cleaned. */
  path: string;
  /** False for "/": nothing to create. */
  mkdir: boolean;
  user: string;
}

/** An instruction that only changes the image config (ENV, LABEL, CMD, USER, ARG…). */
export interface ConfigStep extends StepCommon {
  kind: 'config';
}

export type Step = RunStep | CopyStep | WorkdirStep | ConfigStep;

export interface LoweredStage {
  stage: number;
  name: string | null;
  steps: Step[];
  /** The image config after the stage (OnBuild holds this stage's own ONBUILD triggers). */
  config: ContainerConfig;
  /** MAINTAINER, when set. */
  author: string | null;
  /** Variables at the end of the stage, in order (image Env, ENV and ARG values). */
  env: [string, string][];
  /** ARGs in scope at the end of the stage (value null when unset). */
  args: { key: string; value: string | null }[];
  workdirSet: boolean;
  findings: Finding[];
}

export interface LowerInput {
  /** The base image's config (ignored when parent is given; empty for scratch). */
  baseConfig?: ContainerConfig;
  /** The lowered stage this stage is based on (FROM <stage>). */
  parent?: LoweredStage;
  /** The base image's ONBUILD triggers, parsed (see parseOnbuildTriggers); run before the stage's commands. */
  triggers?: Command[];
}

const SECRET_TOKENS = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const SECRET_ALLOW = /(?:_|^)(?:public)(?:_|$)/i;

const SIGNALS = [
  'ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL', 'PROF', 'PWR',
  'QUIT', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'USR1', 'USR2', 'VTALRM', 'WINCH',
  'XCPU', 'XFSZ', 'UNUSED',
];

/** Checks a STOPSIGNAL value like moby/sys/signal.ParseSignal. */
export function checkSignal(s: string): void {
  if (/^\d+$/.test(s)) {
    if (Number(s) === 0) throw new InstructionFault(`invalid signal: ${s}`);
    return;
  }
  const name = s.toUpperCase().replace(/^SIG/, '');
  if (SIGNALS.includes(name) || /^RTMIN(\+\d+)?$|^RTMAX(-\d+)?$/.test(name)) return;
  throw new InstructionFault(`invalid signal: ${s}`);
}

/** Go's %q of a []string: ["a" "b"]. */
const goQuoteList = (xs: string[]): string => `[${xs.map(goQuote).join(' ')}]`;

/** Clean an absolute POSIX path (path.Clean). */
function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

/** BuildKit's NormalizeWorkdir: relative paths join the current directory. */
export function normalizeWorkdir(current: string, requested: string): string {
  return requested.startsWith('/') ? cleanPath(requested) : cleanPath(`${current || '/'}/${requested}`);
}

function resolveDest(workdir: string, dest: string): string {
  const dir = dest === '.' || dest === '' || dest.endsWith('/');
  const abs = normalizeWorkdir(workdir, dest === '' ? '.' : dest);
  return dir && abs !== '/' ? abs + '/' : abs;
}

/** Docker's nat.ParsePortSpecs for EXPOSE: "80", "80/udp", "8000-8010/tcp". */
function exposedPorts(spec: string): string[] {
  const slash = spec.indexOf('/');
  const proto = slash < 0 ? 'tcp' : spec.slice(slash + 1).toLowerCase();
  const range = slash < 0 ? spec : spec.slice(0, slash);
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new InstructionFault(`invalid proto: ${proto}`);
  const parts = range.includes(':') ? range.slice(range.lastIndexOf(':') + 1) : range;
  const m = /^(\d+)(?:-(\d+))?$/.exec(parts);
  if (!m) throw new InstructionFault(`invalid containerPort: ${parts}`);
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535 || end < start) throw new InstructionFault(`invalid containerPort: ${parts}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}

function stableKey(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

/** Go's Duration fields as BuildKit prints a HealthcheckConfig with %+v. */
function healthHistory(h: ImageHealthConfig): string {
  const d = (n: number | undefined) => formatGoDuration(n ?? 0);
  return `HEALTHCHECK {Test:[${(h.Test ?? []).join(' ')}] Interval:${d(h.Interval)} Timeout:${d(h.Timeout)} StartPeriod:${d(h.StartPeriod)} StartInterval:${d(h.StartInterval)} Retries:${h.Retries ?? 0}}`;
}

function upperKeyword(c: Command): string {
  const orig = c.original.trim();
  const sp = orig.search(/\s/);
  return sp < 0 ? orig.toUpperCase() : orig.slice(0, sp).toUpperCase() + orig.slice(sp);
}

/** Lowers stage `index` of the plan. Throws DockerfileError at the failing instruction. */
export function lowerStage(plan: BuildPlan, index: number, input: LowerInput = {}): LoweredStage {
  const stage = plan.stages[index];
  const esc = plan.escapeToken;
  const parent = input.parent;
  const config: ContainerConfig = structuredClone(parent ? parent.config : (input.baseConfig ?? {}));
  config.OnBuild = null;
  let author: string | null = parent ? parent.author : null;
  const env = new Map<string, string>(parent ? parent.env : []);
  const args: { key: string; value: string | null }[] = parent ? parent.args.map((a) => ({ ...a })) : [];
  let workdirSet = parent ? parent.workdirSet : false;
  const findings: Finding[] = [];
  const steps: Step[] = [];

  // The base config's variables; PATH is always set.
  const setEnvConfig = (k: string, v: string) => {
    const list = config.Env ?? [];
    const i = list.findIndex((e) => e.split('=', 1)[0] === k);
    if (i >= 0) list[i] = `${k}=${v}`;
    else list.push(`${k}=${v}`);
    config.Env = list;
  };
  if (!(config.Env ?? []).some((e) => e.startsWith('PATH='))) setEnvConfig('PATH', DEFAULT_PATH);
  for (const e of config.Env ?? []) {
    const eq = e.indexOf('=');
    env.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? '' : e.slice(eq + 1));
  }
  let workdir = config.WorkingDir ? normalizeWorkdir('/', config.WorkingDir) : '/';
  if (config.WorkingDir) config.WorkingDir = workdir;

  const tracked: Record<'cmd' | 'entrypoint' | 'healthcheck', SourceLocation | null> = { cmd: null, entrypoint: null, healthcheck: null };

  const resolveFrom = (ref: string, allowIndex: boolean): StepSource => {
    if (allowIndex && /^[+-]?\d+$/.test(ref)) return { stage: Number(ref) };
    const s = plan.stages.find((x) => x.name === ref.toLowerCase());
    return s ? { stage: s.index } : { image: ref };
  };

  const dispatch = (c: Command, onbuild: boolean): void => {
    const vars = (): Record<string, string> => Object.fromEntries(env);
    const expand = (word: string, opts: { words?: boolean; raw?: boolean } = {}) => {
      const r = expandWithUsage(word, vars(), opts.raw ? { escapeToken: '\\', skipQuotes: true } : { escapeToken: esc });
      const declared = new Set(args.map((a) => a.key));
      for (const name of r.unset) {
        if (declared.has(name)) continue;
        const s = suggest(name, env.keys());
        findings.push({ rule: 'UndefinedVar', message: `Usage of undefined variable '$${name}'${s && s !== name ? ` (did you mean $${s}?)` : ''}`, location: c.location });
      }
      return r;
    };
    const word = (w: string) => expand(w).value;
    const secretCheck = (instr: 'ARG' | 'ENV', key: string) => {
      if (SECRET_TOKENS.test(key) && !SECRET_ALLOW.test(key)) {
        findings.push({ rule: 'SecretsUsedInArgOrEnv', message: `Do not use ARG or ENV instructions for sensitive data (${instr} ${goQuote(key)})`, location: c.location });
      }
    };
    const common = (createdBy: string, emptyLayer: boolean, key: unknown): StepCommon => ({
      instruction: c.kind, location: c.location, onbuild, description: (onbuild ? 'ONBUILD ' : '') + upperKeyword(c),
      createdBy, emptyLayer, key: stableKey(key),
    });
    const configStep = (createdBy: string) => {
      steps.push({ kind: 'config', ...common(createdBy, true, { instruction: c.kind, createdBy }) });
    };
    const usedOnce = (which: 'cmd' | 'entrypoint' | 'healthcheck') => {
      const prev = tracked[which];
      if (prev) {
        findings.push({ rule: 'MultipleInstructionsDisallowed', message: `Multiple ${c.keyword} instructions should not be used in the same stage because only the last one will be used`, location: prev });
      }
      tracked[which] = c.location;
    };
    const withShell = (cmd: string[]): string[] => [...(config.Shell && config.Shell.length ? config.Shell : DEFAULT_SHELL), cmd.join(' ')];

    switch (c.kind) {
      case 'arg': {
        const parts: string[] = [];
        for (const def of c.args) {
          secretCheck('ARG', def.key);
          const hasValue = Object.hasOwn(plan.buildArgs, def.key);
          let value: string | null = def.value;
          if (value === null && !hasValue && Object.hasOwn(plan.globalArgs, def.key)) value = plan.globalArgs[def.key];
          else if (hasValue) value = plan.buildArgs[def.key];
          else if (value !== null) value = word(value);
          if (value !== null) env.set(def.key, value);
          const i = args.findIndex((a) => a.key === def.key);
          if (i >= 0) args.splice(i, 1);
          args.push({ key: def.key, value });
          parts.push(value === null ? def.key : `${def.key}=${value}`);
        }
        configStep(`ARG ${parts.join(' ')}`);
        return;
      }
      case 'env': {
        const pairs = c.pairs.map((p) => ({ key: word(p.key), value: word(p.value), legacy: p.legacy }));
        for (const p of pairs) {
          if (p.legacy) findings.push({ rule: 'LegacyKeyValueFormat', message: `"${c.keyword} key=value" should be used instead of legacy "${c.keyword} key value" format`, location: c.location });
          secretCheck('ENV', p.key);
          env.set(p.key, p.value);
          setEnvConfig(p.key, p.value);
        }
        configStep(`ENV ${pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`);
        return;
      }
      case 'label': {
        const pairs = c.pairs.map((p) => ({ key: word(p.key), value: word(p.value), legacy: p.legacy }));
        config.Labels ??= {};
        for (const p of pairs) {
          if (p.legacy) findings.push({ rule: 'LegacyKeyValueFormat', message: `"${c.keyword} key=value" should be used instead of legacy "${c.keyword} key value" format`, location: c.location });
          config.Labels[p.key] = p.value;
        }
        configStep(`LABEL ${pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`);
        return;
      }
      case 'maintainer':
        author = c.maintainer;
        configStep(`MAINTAINER ${c.maintainer}`);
        return;
      case 'workdir': {
        const p = word(c.path);
        if (!workdirSet && !p.startsWith('/')) {
          findings.push({ rule: 'WorkdirRelativePath', message: `Relative workdir ${goQuote(p)} can have unexpected results if the base image changes`, location: c.location });
        }
        workdirSet = true;
        workdir = normalizeWorkdir(workdir, p);
        config.WorkingDir = workdir;
        const user = config.User ?? '';
        steps.push({
          kind: 'workdir', path: workdir, mkdir: workdir !== '/', user,
          ...common(`WORKDIR ${workdir}`, workdir === '/', { instruction: 'workdir', path: workdir, user }),
        });
        return;
      }
      case 'user':
        config.User = word(c.user);
        configStep(`USER ${config.User}`);
        return;
      case 'expose': {
        const ports: string[] = [];
        for (const p of c.ports) for (const w of expand(p, { words: true }).words) ports.push(...exposedPorts(w));
        config.ExposedPorts ??= {};
        for (const p of ports) config.ExposedPorts[p] = {};
        configStep(`EXPOSE map[${[...new Set(ports)].sort().map((p) => `${p}:{}`).join(' ')}]`);
        return;
      }
      case 'volume': {
        const vols = c.paths.map((v) => word(v));
        if (vols.some((v) => v === '')) throw new InstructionFault('VOLUME specified can not be an empty string');
        config.Volumes ??= {};
        for (const v of vols) config.Volumes[v] = {};
        configStep(`VOLUME [${vols.join(' ')}]`);
        return;
      }
      case 'stopsignal': {
        const sig = word(c.signal);
        checkSignal(sig);
        config.StopSignal = sig;
        configStep(`STOPSIGNAL ${sig}`);
        return;
      }
      case 'shell':
        config.Shell = [...c.shell];
        configStep(`SHELL [${c.shell.join(' ')}]`);
        return;
      case 'cmd':
      case 'entrypoint': {
        usedOnce(c.kind);
        let argv = c.command;
        if (c.shell) {
          if (!config.Shell || config.Shell.length === 0) {
            findings.push({ rule: 'JSONArgsRecommended', message: `JSON arguments recommended for ${c.keyword} to prevent unintended behavior related to OS signals`, location: c.location });
          }
          argv = withShell(argv);
        }
        if (c.kind === 'cmd') {
          config.Cmd = argv;
          config.ArgsEscaped = true;
          configStep(`CMD ${goQuoteList(argv)}`);
        } else {
          config.Entrypoint = argv;
          if (!tracked.cmd) config.Cmd = null;
          configStep(`ENTRYPOINT ${goQuoteList(argv)}`);
        }
        return;
      }
      case 'healthcheck': {
        usedOnce('healthcheck');
        const h = c.health;
        const hc: ImageHealthConfig = { Test: h.test, Interval: h.interval, Timeout: h.timeout, StartPeriod: h.startPeriod, StartInterval: h.startInterval, Retries: h.retries };
        configStep(healthHistory(hc));
        // The image config leaves zero durations and retries out (Go's omitempty), as BuildKit writes it.
        for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) if (!hc[k]) delete hc[k];
        config.Healthcheck = hc;
        return;
      }
      case 'onbuild':
        config.OnBuild = [...(config.OnBuild ?? []), c.expression];
        return;
      case 'run': {
        const mounts: RunMount[] = c.mountsRaw.map((raw) => {
          const m = parseMount(raw, (v) => word(v));
          let target = m.target;
          if (target !== null || m.type === 'bind' || m.type === 'cache' || m.type === 'tmpfs') {
            target = normalizeWorkdir(workdir, target ?? '');
            if (target === '/') throw new InstructionFault(`invalid mount target "${target}"`);
          }
          let fromSource: StepSource | null = null;
          if (m.type === 'bind' || m.type === 'cache') fromSource = m.from !== null ? resolveFrom(m.from, false) : m.type === 'bind' ? 'context' : null;
          return { ...m, target, fromSource };
        });
        let argv = c.command;
        let script: RunStep['script'] = null;
        let descSuffix = '';
        if (c.files.length > 0) {
          if (heredocWordName(argv[0]) !== null) {
            const f = c.files[0];
            const data = f.chomp ? chompHeredocContent(f.data) : f.data;
            if (data.startsWith('#!')) {
              script = { name: f.name, data };
              argv = [`/dev/pipes/${f.name}`];
            } else {
              argv = [data];
            }
            const lines = f.data.trim().split(/\r?\n/);
            descSuffix = ` (${lines[0]}${lines.length > 1 ? '...' : ''})`;
          } else {
            argv = [argv[0] + c.files.map((f) => `\n${f.data}${f.name}`).join('')];
          }
        }
        if (c.shell && !script) argv = withShell(argv);
        const runEnv = new Map(env);
        for (const k of PROXY_ARGS) if (Object.hasOwn(plan.buildArgs, k) && !runEnv.has(k)) runEnv.set(k, plan.buildArgs[k]);
        const envList = [...runEnv].map(([k, v]) => `${k}=${v}`);
        // History: ARGs in scope as "|N K=V", then the argv (BuildKit's runCommandString).
        const argParts = args.map((a) => `${a.key}=${env.get(a.key) ?? a.value ?? ''}`);
        const histArgs = argParts.length ? [`|${argParts.length}`, ...argParts] : [];
        const createdBy = `RUN ${[...histArgs, ...argv].join(' ')} # buildkit`;
        const user = config.User ?? '';
        const step: RunStep = {
          kind: 'run', args: argv, env: envList, workdir, user, mounts, network: c.network, security: c.security, script,
          ...common(createdBy, false, { instruction: 'run', args: argv, env: envList, workdir, user, mounts, network: c.network, security: c.security, script }),
        };
        step.description += descSuffix;
        steps.push(step);
        return;
      }
      case 'copy':
      case 'add': {
        const sources = c.sources.map((s) => word(s));
        const contents = c.contents.map((f) => {
          let data = f.chomp ? chompHeredocContent(f.data) : f.data;
          if (f.expand) data = expand(data, { raw: true }).value;
          return { name: f.name, data };
        });
        const destRaw = word(c.dest);
        const dest = resolveDest(workdir, destRaw);
        const chown = c.chown === null ? null : word(c.chown);
        const chmod = c.chmod === null ? null : word(c.chmod);
        if (chmod !== null && chmod !== '') checkChmod(chmod);
        const exclude = c.exclude.map((e) => word(e));
        const source: StepSource = c.kind === 'copy' && c.from !== null ? resolveFrom(c.from, true) : 'context';
        let checksum: string | null = null;
        if (c.kind === 'add' && c.checksum !== null) {
          checksum = word(c.checksum);
          if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(checksum)) throw new InstructionFault(`invalid checksum digest format: ${checksum}`);
        }
        const parents = c.kind === 'copy' ? c.parents : false;
        const flagText = [
          ...(parents ? ['--parents'] : []),
          ...(chown ? [`--chown=${chown}`] : []),
          ...(chmod ? [`--chmod=${chmod}`] : []),
        ];
        const createdBy = `${c.kind.toUpperCase()} ${[...flagText, ...sources, ...contents.map((f) => `<<${f.name}`), destRaw].join(' ')} # buildkit`;
        const fields = {
          source, sources, contents, dest, workdir, chown, chmod, link: c.link, parents, exclude, checksum,
          keepGitDir: c.kind === 'add' ? c.keepGitDir : false, unpack: c.kind === 'add' ? c.unpack : null, user: config.User ?? '',
        };
        steps.push({ kind: c.kind, ...fields, ...common(createdBy, false, { instruction: c.kind, ...fields }) });
        return;
      }
    }
  };

  const run = (c: Command, onbuild: boolean) => {
    try {
      dispatch(c, onbuild);
    } catch (err) {
      if (err instanceof InstructionFault || err instanceof ExpansionError) throw errorAt(onbuild ? stage.location : c.location, err.message, err);
      throw err;
    }
  };

  // ONBUILD triggers of the base run first, at the FROM line.
  const triggers = parent
    ? plan.stages[parent.stage].commands.flatMap((c) => (c.kind === 'onbuild' ? [c.trigger] : []))
    : (input.triggers ?? []);
  for (const t of triggers) run({ ...t, location: stage.location } as Command, true);
  for (const c of stage.commands) run(c, false);

  return { stage: index, name: stage.name, steps, config, author, env: [...env], args, workdirSet, findings };
}
