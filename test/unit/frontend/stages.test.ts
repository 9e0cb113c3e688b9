/**
 * Lowering stages: which values each instruction sees (BuildKit's rules for ENV, ARG, meta args,
 * build args, automatic platform args, proxy args, base image Env, inheritance from a base stage),
 * and the steps handed to the build engine (argv, env, history text, destinations, triggers).
 * A table: Dockerfile, options, the stage's lowering, what to look at, the expected value.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostPlatform } from '../../../src/image/platform.ts';
import type { ContainerConfig } from '../../../src/image/types.ts';
import {
  lowerStage,
  parseDockerfile,
  parseOnbuildTriggers,
  planBuild,
  type LoweredStage,
  type PlanOptions,
} from '../../../src/frontend/dockerfile/index.ts';

/** Lowers every stage of the target's build, parents first. */
function lowerAll(text: string, opts: PlanOptions = {}, baseConfig: ContainerConfig = {}): LoweredStage[] {
  const plan = planBuild(parseDockerfile(text, { file: 'Dockerfile' }), opts);
  const out: LoweredStage[] = [];
  for (const i of plan.build) {
    const b = plan.stages[i].base;
    out[i] = typeof b === 'object' && 'stage' in b ? lowerStage(plan, i, { parent: out[b.stage] }) : lowerStage(plan, i, { baseConfig });
  }
  return out;
}
const envOf = (l: LoweredStage, k: string) => (l.config.Env ?? []).find((e) => e.startsWith(`${k}=`))?.slice(k.length + 1);
const last = (ls: LoweredStage[]) => ls[ls.length - 1];
const runs = (l: LoweredStage) => l.steps.filter((s) => s.kind === 'run');

type Case = [name: string, text: string, opts: PlanOptions, base: ContainerConfig, look: (ls: LoweredStage[]) => unknown, want: unknown];
const arch = hostPlatform().architecture;

const cases: Case[] = [
  ['ENV sees values from before its line', 'FROM scratch\nENV A=1\nENV A=2 B=$A\n', {}, {}, (ls) => envOf(last(ls), 'B'), '1'],
  ['meta ARG is invisible in a stage until redeclared', 'ARG V=1\nFROM scratch\nENV X=$V\nARG V\nENV Y=$V\n', {}, {}, (ls) => [envOf(last(ls), 'X'), envOf(last(ls), 'Y')], ['', '1']],
  ['meta ARG default expands earlier meta ARGs', 'ARG A=x\nARG B=${A}y\nFROM scratch\nARG B\nENV B=$B\n', {}, {}, (ls) => envOf(last(ls), 'B'), 'xy'],
  ['ARG without a value is unset', 'FROM scratch\nARG U\nENV X=${U-unset}\n', {}, {}, (ls) => envOf(last(ls), 'X'), 'unset'],
  ['build args override defaults', 'ARG M=1\nFROM scratch\nARG M\nARG V=1\nENV X=$V$M\n', { buildArgs: { V: '2', M: '3' } }, {}, (ls) => envOf(last(ls), 'X'), '23'],
  ['build args need an ARG', 'FROM scratch\nENV X=${V:-none}\n', { buildArgs: { V: '2' } }, {}, (ls) => envOf(last(ls), 'X'), 'none'],
  ['base image Env is visible', 'FROM busybox\nENV X=$FOO\n', {}, { Env: ['FOO=bar'] }, (ls) => envOf(last(ls), 'X'), 'bar'],
  ['PATH is always set', 'FROM scratch\n', {}, {}, (ls) => envOf(last(ls), 'PATH'), '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  ['automatic platform args need ARG', 'FROM scratch\nENV A=x$TARGETARCH\nARG TARGETARCH\nENV B=$TARGETARCH\n', {}, {}, (ls) => [envOf(last(ls), 'A'), envOf(last(ls), 'B')], ['x', arch]],
  ['--platform sets TARGET* args', 'FROM scratch\nARG TARGETPLATFORM\nARG TARGETVARIANT\nENV P=$TARGETPLATFORM V=$TARGETVARIANT\n', { platform: 'linux/arm/v7' }, {}, (ls) => [envOf(last(ls), 'P'), envOf(last(ls), 'V')], ['linux/arm/v7', 'v7']],
  ['ARG values reach RUN and its history', 'FROM busybox\nARG V=1\nRUN echo $V\n', {}, {}, (ls) => [runs(last(ls))[0].createdBy, (runs(last(ls))[0] as { env: string[] }).env.includes('V=1')], ['RUN |1 V=1 /bin/sh -c echo $V # buildkit', true]],
  ['ARG values are not image Env', 'FROM busybox\nARG V=1\n', {}, {}, (ls) => envOf(last(ls), 'V'), undefined],
  ['proxy args reach RUN without ARG and stay out of history', 'FROM busybox\nRUN wget x\n', { buildArgs: { HTTPS_PROXY: 'http://p:3128' } }, {}, (ls) => [(runs(last(ls))[0] as { env: string[] }).env.at(-1), runs(last(ls))[0].createdBy], ['HTTPS_PROXY=http://p:3128', 'RUN /bin/sh -c wget x # buildkit']],
  ['a stage inherits ARGs and ENV of its base stage', 'FROM busybox AS a\nARG V=1\nENV E=2\nFROM a\nRUN true\n', {}, {}, (ls) => [runs(last(ls))[0].createdBy, envOf(last(ls), 'E')], ['RUN |1 V=1 /bin/sh -c true # buildkit', '2']],
  ['SHELL changes the shell form', 'FROM busybox\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN a | b\nCMD run\n', {}, {}, (ls) => [(runs(last(ls))[0] as { args: string[] }).args, last(ls).config.Cmd], [['/bin/bash', '-o', 'pipefail', '-c', 'a | b'], ['/bin/bash', '-o', 'pipefail', '-c', 'run']]],
  ['exec form is kept', 'FROM busybox\nRUN ["echo", "$HOME"]\n', {}, {}, (ls) => (runs(last(ls))[0] as { args: string[] }).args, ['echo', '$HOME']],
  ['RUN heredoc runs its body', 'FROM busybox\nRUN <<EOF\necho a\necho b\nEOF\n', {}, {}, (ls) => [(runs(last(ls))[0] as { args: string[] }).args, runs(last(ls))[0].description], [['/bin/sh', '-c', 'echo a\necho b\n'], 'RUN <<EOF (echo a...)']],
  ['RUN heredoc with a shebang becomes a script', 'FROM busybox\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n', {}, {}, (ls) => [(runs(last(ls))[0] as { args: string[] }).args, (runs(last(ls))[0] as { script: unknown }).script], [['/dev/pipes/EOF'], { name: 'EOF', data: '#!/usr/bin/env python3\nprint(1)\n' }]],
  ['WORKDIR resolves against the previous one', 'FROM busybox\nWORKDIR /a\nWORKDIR b/../c\n', {}, { WorkingDir: '/x' }, (ls) => [last(ls).config.WorkingDir, last(ls).steps.map((s) => s.createdBy)], ['/a/c', ['WORKDIR /a', 'WORKDIR /a/c']]],
  ['COPY destinations resolve against WORKDIR', 'FROM busybox\nWORKDIR /app\nCOPY a .\nCOPY b sub/\nCOPY c /abs\n', {}, {}, (ls) => last(ls).steps.flatMap((s) => (s.kind === 'copy' ? [s.dest] : [])), ['/app/', '/app/sub/', '/abs']],
  ['COPY sources and flags are expanded, --from resolved', 'FROM busybox AS b\nFROM busybox\nARG F=x U=1000\nCOPY --from=B --chown=$U $F /d/\nCOPY --from=0 a /\nCOPY --from=alpine:3 a /\n', {}, {}, (ls) => last(ls).steps.flatMap((s) => (s.kind === 'copy' ? [[s.source, s.sources, s.chown, s.createdBy]] : [])), [[{ stage: 0 }, ['x'], '1000', 'COPY --chown=1000 x /d/ # buildkit'], [{ stage: 0 }, ['a'], null, 'COPY a / # buildkit'], [{ image: 'alpine:3' }, ['a'], null, 'COPY a / # buildkit']]],
  ['COPY heredoc content is expanded unless quoted', "FROM busybox\nARG N=world\nCOPY <<A <<'B' /d/\nhello $N \"q\"\nA\nhello $N\nB\n", {}, {}, (ls) => last(ls).steps.flatMap((s) => (s.kind === 'copy' ? s.contents : [])), [{ name: 'A', data: 'hello world "q"\n' }, { name: 'B', data: 'hello $N\n' }]],
  ['RUN mounts are expanded and resolved', 'FROM busybox AS deps\nFROM busybox\nWORKDIR /w\nARG C=go\nRUN --mount=type=cache,id=$C,target=cache --mount=from=deps,target=/d --mount=type=secret,id=tok true\n', {}, {}, (ls) => (runs(last(ls))[0] as { mounts: { type: string; target: string | null; id: string | null; fromSource: unknown }[] }).mounts.map((m) => [m.type, m.target, m.id, m.fromSource]), [['cache', '/w/cache', 'go', null], ['bind', '/d', null, { stage: 0 }], ['secret', '/run/secrets/tok', 'tok', null]]],
  ['config instructions', 'FROM busybox\nLABEL a=1 "b c"=2\nEXPOSE 80 53/udp 9000-9001\nVOLUME /data\nUSER 65534:65534\nSTOPSIGNAL SIGINT\nHEALTHCHECK --interval=30s CMD wget -q localhost\nENTRYPOINT ["x"]\n', {}, { Cmd: ['sh'] }, (ls) => last(ls).config, {
    Cmd: null, OnBuild: null, Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: { a: '1', 'b c': '2' },
    ExposedPorts: { '80/tcp': {}, '53/udp': {}, '9000/tcp': {}, '9001/tcp': {} }, Volumes: { '/data': {} }, User: '65534:65534', StopSignal: 'SIGINT',
    Healthcheck: { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 30e9 }, Entrypoint: ['x'],
  }],
  ['history text of config instructions', 'FROM busybox\nENV A=1 B=2\nEXPOSE 443 80\nCMD ["a", "b c"]\nHEALTHCHECK --interval=1m30s --retries=2 CMD ["true"]\n', {}, {}, (ls) => last(ls).steps.map((s) => s.createdBy), [
    'ENV A=1 B=2', 'EXPOSE map[443/tcp:{} 80/tcp:{}]', 'CMD ["a" "b c"]', 'HEALTHCHECK {Test:[CMD true] Interval:1m30s Timeout:0s StartPeriod:0s StartInterval:0s Retries:2}',
  ]],
  ['ONBUILD of a base stage runs first; own ONBUILD is stored', 'FROM busybox AS t\nONBUILD RUN echo trig\nFROM t\nONBUILD RUN later\nRUN main\n', {}, {}, (ls) => [last(ls).steps.map((s) => [s.onbuild, s.description]), last(ls).config.OnBuild], [[[true, 'ONBUILD RUN echo trig'], [false, 'RUN main']], ['RUN later']]],
];

describe('stage lowering', () => {
  for (const [name, text, opts, base, look, want] of cases) {
    it(name, () => assert.deepEqual(look(lowerAll(text, opts, base)), want));
  }
});

describe('steps', () => {
  it('are deterministic: same input, same key; different input, different key', () => {
    const a = lowerAll('FROM busybox\nRUN make\n');
    const b = lowerAll('FROM busybox\nRUN make\n');
    const c = lowerAll('FROM busybox\nRUN make all\n');
    assert.equal(runs(last(a))[0].key, runs(last(b))[0].key);
    assert.notEqual(runs(last(a))[0].key, runs(last(c))[0].key);
  });
  it('are JSON-serialisable', () => {
    const l = lowerAll('FROM busybox\nARG V=1\nRUN --mount=type=cache,target=/c echo $V\nCOPY a /b\n');
    assert.deepEqual(JSON.parse(JSON.stringify(l)), l);
  });
});

describe('ONBUILD triggers of a base image', () => {
  it('parse into instructions that run before the stage', () => {
    const triggers = parseOnbuildTriggers(['COPY . /app', 'RUN make -C /app'], 'busybox ONBUILD');
    const plan = planBuild(parseDockerfile('FROM busybox\nRUN true\n', { file: 'Dockerfile' }));
    const l = lowerStage(plan, 0, { baseConfig: { OnBuild: ['COPY . /app', 'RUN make -C /app'] }, triggers });
    assert.deepEqual(l.steps.map((s) => [s.kind, s.onbuild, s.location.line]), [['copy', true, 1], ['run', true, 1], ['run', false, 2]]);
    assert.equal(l.config.OnBuild, null);
  });
  it('reject FROM and chained ONBUILD', () => {
    assert.throws(() => parseOnbuildTriggers(['FROM x']), /FROM isn't allowed as an ONBUILD trigger/);
    assert.throws(() => parseOnbuildTriggers(['ONBUILD RUN x']), /Chaining ONBUILD/);
  });
});

describe('stages replaced by named contexts (PlanOptions.namedContexts)', () => {
  const text = 'FROM alpine AS deps\nRUN make\nFROM busybox AS other\nFROM deps AS Tree\nENV LEAK=1\nCOPY --from=other / /\nFROM tree\nRUN true\n';
  const cases: [name: string, named: string[], look: (p: ReturnType<typeof planBuild>) => unknown, want: unknown][] = [
    ['the replaced stage is FROM the context, with no commands', ['tree'], (p) => [p.stages[2].base, p.stages[2].commands.length, p.stages[2].replaced], [{ image: 'tree' }, 0, true]],
    ['what only it needed is not built', ['tree'], (p) => p.build, [2, 3]],
    ['without it everything is needed', [], (p) => p.build, [0, 1, 2, 3]],
    ['names match case-insensitively', ['TREE'], (p) => p.stages[2].replaced, true],
    ['a name that is no stage changes nothing', ['nothing'], (p) => p.stages.map((s) => s.replaced ?? false), [false, false, false, false]],
  ];
  for (const [name, named, look, want] of cases) {
    it(name, () => {
      const plan = planBuild(parseDockerfile(text, { file: 'Dockerfile' }), { namedContexts: named });
      assert.deepEqual(look(plan), want);
    });
  }
});
