/**
 * The Dockerfile frontend's public surface: parse (parser/), expand words (shell/), validate into
 * typed instructions (instructions/), plan stages and lower them into expanded steps (stages/),
 * and lint (lint/). Everything here is pure: text and values in, values out.
 *
 *   const df = parseDockerfile(text, { file: 'Dockerfile' });
 *   const plan = planBuild(df, { target, buildArgs });          // stages, edges, build order, levels
 *   const lowered = lowerStage(plan, i, { baseConfig | parent, triggers }); // steps + image config
 *   const { warnings } = lintDockerfile(df, { buildArgs });
 */
export { parseDockerfile, type ParseOptions } from './parser/index.ts';
export { expandWord, expandWords, expandWithUsage } from './shell/lex.ts';
export type { ExpandOptions, ExpansionResult } from './shell/lex.ts';
export { validateDockerfile, parseInstruction, INSTRUCTION_NAMES } from './instructions/parse.ts';
export type * from './instructions/types.ts';
export { planBuild, planTyped, automaticArgs, PROXY_ARGS } from './stages/plan.ts';
export type { BuildPlan, PlannedStage, PlanOptions, StageBase, StageEdge, EdgeKind, SkippedStage, MetaArg } from './stages/plan.ts';
export { lowerStage, normalizeWorkdir, DEFAULT_PATH, DEFAULT_SHELL } from './stages/lower.ts';
export type { LoweredStage, LowerInput, Step, RunStep, CopyStep, WorkdirStep, ConfigStep, RunMount, StepSource, Finding } from './stages/lower.ts';
export { parseOnbuildTriggers } from './stages/onbuild.ts';
export { lintDockerfile, parseCheckDirective } from './lint/lint.ts';
export type { LintWarning, LintResult, LintOptions } from './lint/lint.ts';
export { RULES as LINT_RULES, type RuleInfo } from './lint/rules.ts';
