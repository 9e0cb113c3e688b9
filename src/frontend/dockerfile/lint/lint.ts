/**
 * Dockerfile lint with BuildKit's rules and messages (what `docker build --check` reports), over
 * every stage. Honours the `# check=skip=Rule1,Rule2;error=true` directive (`skip=all` too).
 * Invalid Dockerfiles throw DockerfileError; warnings never do, unless error=true is set, when a
 * non-empty result carries `violation` (BuildKit: "lint violation found for rules: …").
 *
 * UndefinedVar needs the base image's Env: for stages built on an image whose config is not
 * supplied (opts.baseConfig), variables are not reported, to avoid false warnings.
 */
import { DockerfileError } from '../../../errors.ts';
import type { ContainerConfig } from '../../../image/types.ts';
import { parseReference } from '../../../image/reference.ts';
import type { Dockerfile } from '../parser/ast.ts';
import { expandWithUsage } from '../shell/lex.ts';
import { validateDockerfile } from '../instructions/parse.ts';
import { suggest } from '../instructions/suggest.ts';
import type { SourceLocation, TypedDockerfile } from '../instructions/types.ts';
import { automaticArgs, planTyped, resolveMetaArgs } from '../stages/plan.ts';
import { lowerStage, type LoweredStage } from '../stages/lower.ts';
import { hostPlatform } from '../../../image/platform.ts';
import { RULES } from './rules.ts';

export interface LintWarning {
  rule: string;
  description: string;
  url: string;
  message: string;
  file: string;
  line: number;
  column: number;
}

export interface LintResult {
  warnings: LintWarning[];
  /** Set when `# check=error=true` and there are warnings. */
  violation: string | null;
}

export interface LintOptions {
  buildArgs?: Record<string, string>;
  /** Config of a base image, when the caller has it (lets UndefinedVar see the image's Env). */
  baseConfig?: (ref: string) => ContainerConfig | undefined;
}

export interface CheckDirective {
  skip: Set<string>;
  skipAll: boolean;
  error: boolean;
}

/** Parses the `check` directive value ("skip=A,B;error=true"). */
export function parseCheckDirective(value: string | undefined, file: string): CheckDirective {
  const out: CheckDirective = { skip: new Set(), skipAll: false, error: false };
  if (!value) return out;
  for (const part of value.split(';')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    const key = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    const val = eq < 0 ? '' : p.slice(eq + 1).trim();
    if (key === 'skip') {
      for (const r of val.split(',').map((x) => x.trim()).filter(Boolean)) {
        if (r === 'all') out.skipAll = true;
        else out.skip.add(r);
      }
    } else if (key === 'error') {
      const v = val.toLowerCase();
      if (!['true', 'false', '1', '0', 't', 'f'].includes(v)) {
        throw new DockerfileError({ file, line: 1, column: 1 }, `failed to parse check options: invalid boolean value ${val}`);
      }
      out.error = v === 'true' || v === '1' || v === 't';
    } else if (key === 'experimental') {
      // No experimental rules are implemented.
    } else {
      throw new DockerfileError({ file, line: 1, column: 1 }, `failed to parse check options: invalid check option ${JSON.stringify(key)}`);
    }
  }
  return out;
}

const RESERVED_STAGE_NAMES = ['scratch', 'context'];

/** Lints a parsed Dockerfile. Pure. */
export function lintDockerfile(df: Dockerfile, opts: LintOptions = {}): LintResult {
  const directive = parseCheckDirective(df.directives.check, df.file);
  const raw: { rule: string; message: string; location: { line: number; column: number } }[] = [];
  const add = (rule: string, message: string, location: { line: number; column: number }) => raw.push({ rule, message, location });

  for (const w of df.warnings) {
    if (/empty continuation/i.test(w.message)) add('NoEmptyContinuation', 'Empty continuation line', { line: w.line, column: 1 });
  }

  const typedDf: TypedDockerfile = validateDockerfile(df);
  const buildArgs = opts.buildArgs ?? {};

  // Stage names and casing.
  const seen = new Set<string>();
  let lower = 0;
  let upper = 0;
  const casing: { name: string; location: SourceLocation }[] = [];
  for (const s of typedDf.stages) {
    const f = s.from;
    if (f.asKeyword !== null) {
      const kw = f.keyword;
      const fromLower = kw === kw.toLowerCase();
      const fromUpper = kw === kw.toUpperCase();
      if ((fromLower && f.asKeyword !== f.asKeyword.toLowerCase()) || (!fromLower && fromUpper && f.asKeyword !== f.asKeyword.toUpperCase())) {
        add('FromAsCasing', `'${f.asKeyword}' and '${kw}' keywords' casing do not match`, f.location);
      }
    }
    if (f.nameRaw !== null && f.nameRaw !== f.nameRaw.toLowerCase()) add('StageNameCasing', `Stage name '${f.nameRaw}' should be lowercase`, f.location);
    if (f.name !== null) {
      if (RESERVED_STAGE_NAMES.includes(f.name)) add('ReservedStageName', `Stage name should not use the same name as reserved stage "${f.name}"`, f.location);
      if (seen.has(f.name)) add('DuplicateStageName', `Duplicate stage name "${f.name}", stage names should be unique`, f.location);
      seen.add(f.name);
    }
    for (const x of [f, ...s.commands]) {
      casing.push({ name: x.keyword, location: x.location });
      if (x.keyword === x.keyword.toLowerCase()) lower++;
      else if (x.keyword === x.keyword.toUpperCase()) upper++;
      if (x.kind === 'maintainer') add('MaintainerDeprecated', 'Maintainer instruction is deprecated in favor of using label', x.location);
    }
  }
  const majorityLower = lower > upper;
  for (const c of casing) {
    if (majorityLower && c.name !== c.name.toLowerCase()) {
      add('ConsistentInstructionCasing', `Command '${c.name}' should match the case of the command majority (lowercase)`, c.location);
    } else if (!majorityLower && c.name !== c.name.toUpperCase()) {
      add('ConsistentInstructionCasing', `Command '${c.name}' should match the case of the command majority (uppercase)`, c.location);
    }
  }

  // FROM lines: undeclared args, and bases that are invalid with the defaults alone.
  const host = hostPlatform();
  const auto = automaticArgs(host, host, typedDf.stages[typedDf.stages.length - 1].from.name ?? '');
  const withDefaults = resolveMetaArgs(typedDf, auto, {}).globalArgs;
  const withArgs = resolveMetaArgs(typedDf, auto, buildArgs).globalArgs;
  const declaredKeys = [...new Set([...typedDf.metaArgs.flatMap((a) => a.args.map((d) => d.key)), ...Object.keys(withArgs)])];
  const esc = typedDf.escapeToken;
  for (const s of typedDf.stages) {
    const f = s.from;
    for (const word of [f.image, ...(f.platform !== null ? [f.platform] : [])]) {
      let unset: string[] = [];
      try {
        unset = expandWithUsage(word, withArgs, { escapeToken: esc }).unset;
      } catch {
        continue; // reported as an error by the planner
      }
      for (const name of unset) {
        if (declaredKeys.includes(name)) continue;
        const sug = suggest(name, declaredKeys);
        add('UndefinedArgInFrom', `FROM argument '${name}' is not declared${sug && sug !== name ? ` (did you mean ${sug}?)` : ''}`, f.location);
      }
    }
    try {
      const base = expandWithUsage(f.image, withDefaults, { escapeToken: esc }).value;
      let invalid = base === '';
      if (!invalid && base !== 'scratch' && !typedDf.stages.some((x) => x.index < s.index && x.from.name === base)) {
        try {
          parseReference(base);
        } catch {
          invalid = true;
        }
      }
      if (invalid && f.image !== base) add('InvalidDefaultArgInFrom', `Default value for ARG ${f.image} results in empty or invalid base image name`, f.location);
    } catch {
      // reported by the planner
    }
  }

  // Every stage lowered, as BuildKit's lint dispatches all of them.
  const plan = planTyped(typedDf, { buildArgs, allStages: true });
  const lowered: LoweredStage[] = [];
  const envKnown: boolean[] = [];
  for (const st of plan.stages) {
    let result: LoweredStage;
    if (typeof st.base === 'object' && 'stage' in st.base) {
      result = lowerStage(plan, st.index, { parent: lowered[st.base.stage] });
      envKnown[st.index] = envKnown[st.base.stage];
    } else if (st.base === 'scratch') {
      result = lowerStage(plan, st.index, { baseConfig: {} });
      envKnown[st.index] = true;
    } else {
      const cfg = st.base.image === '' ? undefined : opts.baseConfig?.(st.base.image);
      result = lowerStage(plan, st.index, { baseConfig: cfg ?? {} });
      envKnown[st.index] = cfg !== undefined;
    }
    lowered[st.index] = result;
    for (const f of result.findings) {
      if (f.rule === 'UndefinedVar' && !envKnown[st.index]) continue;
      add(f.rule, f.message, f.location);
    }
  }

  const unique = new Map<string, LintWarning>();
  for (const r of raw) {
    if (directive.skipAll || directive.skip.has(r.rule)) continue;
    const info = RULES[r.rule];
    const w: LintWarning = {
      rule: r.rule, description: info.description, url: info.url, message: r.message,
      file: df.file, line: r.location.line, column: r.location.column,
    };
    unique.set(`${w.line}\0${w.column}\0${w.rule}\0${w.message}`, w);
  }
  const warnings = [...unique.values()].sort((a, b) => a.line - b.line || a.column - b.column);
  let violation: string | null = null;
  if (directive.error && warnings.length > 0) {
    violation = `lint violation found for rules: ${[...new Set(warnings.map((w) => w.rule))].sort().join(', ')}`;
  }
  return { warnings, violation };
}
