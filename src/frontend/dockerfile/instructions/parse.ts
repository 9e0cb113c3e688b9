/**
 * Syntax tree → typed instructions, with BuildKit's validation and messages: argument counts,
 * unknown instructions ("did you mean"), flags per instruction, --mount specs, HEALTHCHECK
 * options, ONBUILD restrictions, stage names, instructions before the first FROM, no stages.
 * Every error is a DockerfileError at the instruction's FILE:LINE:COL.
 */
import { DockerfileError } from '../../../errors.ts';
import { parseChmodSpec } from '../../../util/chmod.ts';
import type { Dockerfile, Heredoc, Instruction } from '../parser/ast.ts';
import { parseGoDuration } from './duration.ts';
import { InstructionFault } from './fault.ts';
import { parseFlags, type FlagKind } from './flags.ts';
import { parseMount } from './mount.ts';
import { withSuggestion } from './suggest.ts';
import type {
  ArgDefinition,
  ArgInstruction,
  Command,
  FromInstruction,
  InlineFile,
  KeyValue,
  NetworkMode,
  SecurityMode,
  SourceLocation,
  StageSyntax,
  TypedDockerfile,
  TypedInstruction,
} from './types.ts';

/** Every instruction keyword BuildKit knows, lower case. */
export const INSTRUCTION_NAMES = [
  'add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label', 'maintainer',
  'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir',
];

const STAGE_NAME = /^[a-z][a-z0-9\-_.]*$/;

export function locationOf(inst: Instruction, file: string): SourceLocation {
  return { file, line: inst.range.start, endLine: inst.range.end, column: inst.column };
}

/** A DockerfileError at an instruction. */
export function errorAt(loc: SourceLocation, detail: string, cause?: unknown): DockerfileError {
  return new DockerfileError({ file: loc.file, line: loc.line, column: loc.column }, detail, cause === undefined ? undefined : { cause });
}

const atLeastOne = (cmd: string) => new InstructionFault(`${cmd} requires at least one argument`);
const exactlyOne = (cmd: string) => new InstructionFault(`${cmd} requires exactly one argument`);
const noDestination = (cmd: string) =>
  new InstructionFault(`${cmd} requires at least two arguments, but only one was provided. Destination could not be determined`);

/** Tabs stripped from the start of every line, for <<- heredocs. */
export function chompHeredocContent(content: string): string {
  return content.replace(/^\t+/gm, '');
}

/** Name of the heredoc a word refers to (`<<EOF`, `<<-"EOF"`, `3<<EOF`), or null. */
export function heredocWordName(word: string): string | null {
  const m = /^\d*<<-?\s*(["']?)([^"'\s]+)\1$/.exec(word);
  return m ? m[2] : null;
}

function toFiles(heredocs: Heredoc[]): InlineFile[] {
  return heredocs.map((h) => ({ name: h.name, data: h.content, expand: h.expand, chomp: h.chomp }));
}

function kvPairs(args: string[], cmd: string): KeyValue[] {
  if (args.length === 0) throw atLeastOne(cmd);
  if (args.length % 3 !== 0) throw new InstructionFault(`Bad input to ${cmd}, too many arguments`);
  const out: KeyValue[] = [];
  for (let i = 0; i < args.length; i += 3) {
    if (args[i].length === 0) throw new InstructionFault(`${cmd} names can not be blank`);
    out.push({ key: args[i], value: args[i + 1], legacy: args[i + 2] === '' });
  }
  return out;
}

/** Checks a --chmod value (octal up to 07777, or a symbolic mode: src/util/chmod.ts). */
export function checkChmod(value: string): void {
  const ok = parseChmodSpec(value) !== undefined;
  if (!ok) throw new InstructionFault(`invalid chmod parameter: '${value}'. it should be octal string and between 0 and 07777`);
}

function sourcesAndDest(inst: Instruction, cmd: string): { sources: string[]; contents: InlineFile[]; dest: string } {
  const args = inst.args;
  const dest = args[args.length - 1];
  if (heredocWordName(dest) !== null) throw new InstructionFault(`${cmd} cannot accept a heredoc as a destination`);
  const byName = new Map(inst.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const contents: InlineFile[] = [];
  for (const src of args.slice(0, -1)) {
    const name = inst.json ? null : heredocWordName(src);
    const h = name === null ? undefined : byName.get(name);
    if (h) contents.push({ name: h.name, data: h.content, expand: h.expand, chomp: h.chomp });
    else sources.push(src);
  }
  return { sources, contents, dest };
}

function parseRunFlags(inst: Instruction) {
  const f = parseFlags(inst.flags, { mount: 'strings', network: 'string', security: 'string' });
  const network = f.string('network') ?? 'default';
  if (!['default', 'none', 'host'].includes(network)) throw new InstructionFault(`unsupported network mode "${network}"`);
  const security = f.string('security') ?? 'sandbox';
  if (!['sandbox', 'insecure'].includes(security)) throw new InstructionFault(`security "${security}" is not valid`);
  const mountsRaw = f.strings('mount');
  const mounts = mountsRaw.map((m) => parseMount(m, null));
  return { network: network as NetworkMode, security: security as SecurityMode, mounts, mountsRaw };
}

function noFlags(inst: Instruction): void {
  parseFlags(inst.flags, {});
}

function commandLine(inst: Instruction): { command: string[]; shell: boolean } {
  return { command: inst.json ? [...inst.args] : inst.args.length ? [inst.args.join(' ')] : [], shell: !inst.json };
}

function parseHealth(inst: Instruction, loc: SourceLocation) {
  if (inst.args.length === 0) throw atLeastOne('HEALTHCHECK');
  const typ = inst.args[0].toUpperCase();
  const rest = inst.args.slice(1);
  if (typ === 'NONE') {
    if (rest.length !== 0) throw new InstructionFault('HEALTHCHECK NONE takes no arguments');
    noFlags(inst);
    return { test: ['NONE'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
  }
  const spec: Record<string, FlagKind> = { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' };
  const f = parseFlags(inst.flags, spec);
  if (typ !== 'CMD') throw new InstructionFault(`Unknown type "${typ}" in HEALTHCHECK (try CMD)`);
  const cmd = inst.json ? rest : rest.length ? [rest.join(' ')] : [];
  if (cmd.length === 0) throw new InstructionFault('Missing command after HEALTHCHECK CMD');
  const interval = (name: string): number => {
    const v = f.string(name);
    if (v === null || v === '') return 0;
    const d = parseGoDuration(v);
    if (d === 0) return 0;
    if (d < 1e6) throw new InstructionFault(`Interval "${name}" cannot be less than 1ms`);
    return d;
  };
  let retries = 0;
  const r = f.string('retries');
  if (r !== null && r !== '') {
    if (!/^[+-]?\d+$/.test(r)) throw new InstructionFault(`strconv.ParseInt: parsing "${r}": invalid syntax`);
    retries = Number(r);
    if (retries > 2 ** 31 - 1 || retries < -(2 ** 31)) throw new InstructionFault(`strconv.ParseInt: parsing "${r}": value out of range`);
    if (retries < 0) throw new InstructionFault(`--retries cannot be negative (${retries})`);
  }
  void loc;
  return {
    test: [inst.json ? 'CMD' : 'CMD-SHELL', ...cmd],
    interval: interval('interval'),
    timeout: interval('timeout'),
    startPeriod: interval('start-period'),
    startInterval: interval('start-interval'),
    retries,
  };
}

function parseArgDefs(args: string[]): ArgDefinition[] {
  if (args.length === 0) throw atLeastOne('ARG');
  return args.map((a) => {
    const eq = a.indexOf('=');
    if (eq < 0) return { key: a, value: null };
    if (eq === 0) throw new InstructionFault('ARG names can not be blank');
    return { key: a.slice(0, eq), value: a.slice(eq + 1) };
  });
}

function typed(inst: Instruction, file: string): TypedInstruction {
  const loc = locationOf(inst, file);
  const common = { keyword: inst.keywordRaw, location: loc, original: inst.original };
  const a = inst.args;
  switch (inst.keyword) {
    case 'from': {
      let name: string | null = null;
      let nameRaw: string | null = null;
      let asKeyword: string | null = null;
      if (a.length === 3 && a[1].toLowerCase() === 'as') {
        name = a[2].toLowerCase();
        nameRaw = a[2];
        asKeyword = a[1];
        if (!STAGE_NAME.test(name)) {
          throw new InstructionFault(`invalid name for build stage: "${a[2]}", name can't start with a number or contain symbols`);
        }
      } else if (a.length !== 1) {
        throw new InstructionFault('FROM requires either one or three arguments');
      }
      const f = parseFlags(inst.flags, { platform: 'string' });
      return { kind: 'from', ...common, image: a[0], name, nameRaw, asKeyword, platform: f.string('platform') };
    }
    case 'arg':
      noFlags(inst);
      return { kind: 'arg', ...common, args: parseArgDefs(a) };
    case 'env':
      noFlags(inst);
      return { kind: 'env', ...common, pairs: kvPairs(a, 'ENV') };
    case 'label':
      noFlags(inst);
      return { kind: 'label', ...common, pairs: kvPairs(a, 'LABEL') };
    case 'maintainer':
      if (a.length !== 1) throw exactlyOne('MAINTAINER');
      noFlags(inst);
      return { kind: 'maintainer', ...common, maintainer: a[0] };
    case 'run': {
      const flags = parseRunFlags(inst);
      const { command, shell } = commandLine(inst);
      const files = toFiles(inst.heredocs);
      if (files.length > 0 && (command.length !== 1 || !shell)) {
        throw new InstructionFault(`parsing produced an invalid run command: [${command.join(' ')}]`);
      }
      return {
        kind: 'run', ...common, command, shell, files, mounts: flags.mounts, mountsRaw: flags.mountsRaw,
        network: flags.network, security: flags.security, flags: [...inst.flags],
      };
    }
    case 'cmd': {
      noFlags(inst);
      return { kind: 'cmd', ...common, ...commandLine(inst) };
    }
    case 'entrypoint': {
      noFlags(inst);
      return { kind: 'entrypoint', ...common, ...commandLine(inst) };
    }
    case 'copy': {
      if (a.length < 2) throw noDestination('COPY');
      const f = parseFlags(inst.flags, { chown: 'string', chmod: 'string', from: 'string', link: 'bool', parents: 'bool', exclude: 'strings' });
      const chmod = f.string('chmod');
      if (chmod !== null && !chmod.includes('$')) checkChmod(chmod);
      const from = f.string('from');
      if (from !== null && /\$/.test(from)) {
        throw new InstructionFault('variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround');
      }
      return {
        kind: 'copy', ...common, ...sourcesAndDest(inst, 'COPY'), from, chown: f.string('chown'), chmod,
        link: f.bool('link'), parents: f.bool('parents'), exclude: f.strings('exclude'),
      };
    }
    case 'add': {
      if (a.length < 2) throw noDestination('ADD');
      const f = parseFlags(inst.flags, {
        chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', exclude: 'strings', unpack: 'bool',
      });
      const chmod = f.string('chmod');
      if (chmod !== null && !chmod.includes('$')) checkChmod(chmod);
      const sd = sourcesAndDest(inst, 'ADD');
      const checksum = f.string('checksum');
      if (checksum !== null && sd.sources.length + sd.contents.length > 1) {
        throw new InstructionFault("checksum can't be specified for multiple sources");
      }
      return {
        kind: 'add', ...common, ...sd, chown: f.string('chown'), chmod, link: f.bool('link'),
        keepGitDir: f.bool('keep-git-dir'), checksum, exclude: f.strings('exclude'),
        unpack: f.used.has('unpack') ? f.bool('unpack') : null,
      };
    }
    case 'workdir':
      if (a.length !== 1) throw exactlyOne('WORKDIR');
      noFlags(inst);
      return { kind: 'workdir', ...common, path: a[0] };
    case 'user':
      if (a.length !== 1) throw exactlyOne('USER');
      noFlags(inst);
      return { kind: 'user', ...common, user: a[0] };
    case 'expose':
      if (a.length === 0) throw atLeastOne('EXPOSE');
      noFlags(inst);
      return { kind: 'expose', ...common, ports: [...a].sort() };
    case 'volume': {
      if (a.length === 0) throw atLeastOne('VOLUME');
      noFlags(inst);
      const paths = a.map((v) => v.trim());
      if (paths.some((v) => v === '')) throw new InstructionFault('VOLUME specified can not be an empty string');
      return { kind: 'volume', ...common, paths };
    }
    case 'stopsignal':
      if (a.length !== 1) throw exactlyOne('STOPSIGNAL');
      noFlags(inst);
      return { kind: 'stopsignal', ...common, signal: a[0] };
    case 'healthcheck':
      return { kind: 'healthcheck', ...common, health: parseHealth(inst, loc) };
    case 'shell': {
      noFlags(inst);
      if (a.length === 0) throw atLeastOne('SHELL');
      if (!inst.json) throw new InstructionFault('SHELL requires the arguments to be in JSON form');
      return { kind: 'shell', ...common, shell: [...a] };
    }
    case 'onbuild': {
      const trigger = inst.trigger;
      if (!trigger) throw atLeastOne('ONBUILD');
      noFlags(inst);
      const word = trigger.keyword.toUpperCase();
      if (word === 'ONBUILD') throw new InstructionFault('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (word === 'MAINTAINER' || word === 'FROM') throw new InstructionFault(`${word} isn't allowed as an ONBUILD trigger`);
      let expression = inst.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of inst.heredocs.length ? inst.heredocs : trigger.heredocs) expression += `\n${h.content}${h.name}`;
      return { kind: 'onbuild', ...common, expression, trigger: typed(trigger, file) as Command };
    }
    default:
      throw new InstructionFault(
        withSuggestion(`unknown instruction: ${inst.keywordRaw}`, inst.keyword, INSTRUCTION_NAMES, false),
      );
  }
}

/** Validates one instruction. Throws DockerfileError at its position. */
export function parseInstruction(inst: Instruction, file: string): TypedInstruction {
  try {
    return typed(inst, file);
  } catch (err) {
    if (err instanceof InstructionFault) throw errorAt(locationOf(inst, file), err.message);
    throw err;
  }
}

/**
 * Validates a whole Dockerfile: ARGs before the first FROM become meta args, every other
 * instruction belongs to the stage opened by the FROM before it.
 */
export function validateDockerfile(df: Dockerfile): TypedDockerfile {
  const metaArgs: ArgInstruction[] = [];
  const stages: StageSyntax[] = [];
  for (const inst of df.instructions) {
    const t = parseInstruction(inst, df.file);
    if (t.kind === 'from') {
      stages.push({ index: stages.length, from: t as FromInstruction, commands: [] });
      continue;
    }
    if (stages.length === 0) {
      if (t.kind === 'arg') {
        metaArgs.push(t);
        continue;
      }
      throw errorAt(t.location, 'no build stage in current context');
    }
    stages[stages.length - 1].commands.push(t);
  }
  if (stages.length === 0) {
    throw new DockerfileError({ file: df.file, line: 1, column: 1 }, 'dockerfile contains no stages to build');
  }
  return { file: df.file, escapeToken: df.escapeToken, metaArgs, stages };
}
