/**
 * Where `jettison build` takes its context and Dockerfile from, end to end, as docker buildx does: a
 * directory, `-` (a tar on stdin, Dockerfile inside it), a git URL (`file:///…repo.git#ref:subdir`, a local
 * bare repository), `-f` outside the context, `-f -` (the Dockerfile on stdin) with a directory context,
 * and `<Dockerfile>.dockerignore` beside the Dockerfile winning over the context's `.dockerignore`.
 * Each case builds FROM a busybox rootfs imported into one store and checks the exported files.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { busyboxRootfs } from '../../support/images.ts';
import { runCli } from '../../support/cli.ts';
import { cleanupDir, jettison, show, tempDir } from '../../fixtures/build/harness.ts';

let dir: string;
let root: string;
let gitRepo: string;
let v1Commit: string;

function write(base: string, files: Record<string, string>): void {
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(base, p)), { recursive: true });
    writeFileSync(join(base, p), content);
  }
}

/** "file 644 0:0 "text"" / "dir 755 0:0" / null: a path of the exported result. */
function describePath(p: string): string | null {
  if (!existsSync(p)) return null;
  const st = lstatSync(p);
  const head = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
  return st.isDirectory() ? `dir ${head}` : `file ${head} ${JSON.stringify(readFileSync(p, 'utf8'))}`;
}

interface Case {
  name: string;
  /** Prepares the case's work dir; returns the build arguments (without -o) and optional stdin. */
  setup(work: string): { args: string[]; stdin?: Buffer | string; cwd?: string };
  expect?: Record<string, string | null>;
  error?: RegExp;
}

const DF = 'FROM busybox\nCOPY . /ctx/\n';

const cases: Case[] = [
  {
    name: 'a directory, relative to the working directory',
    setup(work) {
      write(join(work, 'ctx'), { Dockerfile: DF, 'a.txt': 'A', 'sub/b.txt': 'B' });
      return { args: ['ctx'], cwd: work };
    },
    expect: { 'ctx/a.txt': 'file 644 0:0 "A"', 'ctx/sub/b.txt': 'file 644 0:0 "B"', 'ctx/Dockerfile': `file 644 0:0 ${JSON.stringify(DF)}` },
  },
  {
    name: 'a directory that does not exist',
    setup: () => ({ args: ['/nonexistent/jettison-context'] }),
    error: /unable to prepare context: path "\/nonexistent\/jettison-context" not found/,
  },
  {
    name: '"-": a tar on stdin holding the Dockerfile and the files (its .dockerignore applies, owners reset)',
    setup(work) {
      const src = join(work, 'src');
      write(src, { Dockerfile: DF, 'a.txt': 'A', 'skip.log': 'S', '.dockerignore': '*.log\n', 'd/e.txt': 'E' });
      const tar = execFileSync('tar', ['-c', '-f', '-', '--owner=4321', '--group=4321', '-C', src, '.']);
      return { args: ['-'], stdin: tar };
    },
    expect: { 'ctx/a.txt': 'file 644 0:0 "A"', 'ctx/d/e.txt': 'file 644 0:0 "E"', 'ctx/skip.log': null, 'ctx/.dockerignore': 'file 644 0:0 "*.log\\n"' },
  },
  {
    name: '"-" with -f: the Dockerfile is the named file inside the tar, its <Dockerfile>.dockerignore applies',
    setup(work) {
      const src = join(work, 'src');
      write(src, { 'build/app.Dockerfile': DF, 'build/app.Dockerfile.dockerignore': 'b.txt\n', 'a.txt': 'A', 'b.txt': 'B' });
      write(work, { Dockerfile: 'FROM scratch\nCOPY --from=nowhere / /\n' }); // a same-named file outside must not be read
      const tar = execFileSync('tar', ['-c', '-f', '-', '-C', src, '.']);
      return { args: ['-f', 'build/app.Dockerfile', '-'], stdin: tar, cwd: work };
    },
    expect: { 'ctx/a.txt': 'file 644 0:0 "A"', 'ctx/b.txt': null, 'ctx/build/app.Dockerfile': 'file 644 0:0 ' + JSON.stringify(DF) },
  },
  {
    name: '"-" with -f naming a symlink that points out of the tar: resolved inside the context, so not found',
    setup(work) {
      const src = join(work, 'src');
      write(src, { 'a.txt': 'A' });
      write(work, { 'outside.Dockerfile': DF });
      symlinkSync(join(work, 'outside.Dockerfile'), join(src, 'Dockerfile.dev'));
      const tar = execFileSync('tar', ['-c', '-f', '-', '-C', src, '.']);
      return { args: ['-f', 'Dockerfile.dev', '-'], stdin: tar, cwd: work };
    },
    error: /failed to read dockerfile: open Dockerfile.dev: no such file or directory/,
  },
  {
    name: 'a directory whose Dockerfile is a symlink out of it (a monorepo\'s ../common/Dockerfile): read on the host, as docker\'s client does',
    setup(work) {
      write(join(work, 'common'), { Dockerfile: DF });
      write(join(work, 'ctx'), { 'a.txt': 'A' });
      symlinkSync('../common/Dockerfile', join(work, 'ctx', 'Dockerfile'));
      return { args: ['ctx'], cwd: work };
    },
    expect: { 'ctx/a.txt': 'file 644 0:0 "A"' },
  },
  {
    name: '"-" whose .dockerignore is a symlink to a host file: not followed out of the tar, so nothing is ignored',
    setup(work) {
      const src = join(work, 'src');
      write(src, { Dockerfile: DF, 'a.txt': 'A', 'skip.log': 'S' });
      write(work, { 'host.ignore': '*.log\n' });
      symlinkSync(join(work, 'host.ignore'), join(src, '.dockerignore'));
      const tar = execFileSync('tar', ['-c', '-f', '-', '-C', src, '.']);
      return { args: ['-'], stdin: tar };
    },
    expect: { 'ctx/a.txt': 'file 644 0:0 "A"', 'ctx/skip.log': 'file 644 0:0 "S"' },
  },
  {
    name: '"-" with -f whose <Dockerfile>.dockerignore is a symlink out of the tar: not followed; .dockerignore applies',
    setup(work) {
      const src = join(work, 'src');
      write(src, { 'app.Dockerfile': DF, '.dockerignore': 'b.txt\n', 'a.txt': 'A', 'b.txt': 'B', 'skip.log': 'S' });
      write(work, { 'host.ignore': '*.log\n' });
      symlinkSync(join(work, 'host.ignore'), join(src, 'app.Dockerfile.dockerignore'));
      const tar = execFileSync('tar', ['-c', '-f', '-', '-C', src, '.']);
      return { args: ['-f', 'app.Dockerfile', '-'], stdin: tar, cwd: work };
    },
    expect: { 'ctx/a.txt': 'file 644 0:0 "A"', 'ctx/b.txt': null, 'ctx/skip.log': 'file 644 0:0 "S"' },
  },
  {
    name: 'a git URL with a branch and a subdirectory (file:// bare repository); .git is not part of it',
    setup: () => ({ args: [`file://${gitRepo}#feature:app`] }),
    expect: {
      'ctx/app.txt': 'file 644 0:0 "feature app\\n"',
      'ctx/Dockerfile': `file 644 0:0 ${JSON.stringify(DF)}`,
      'ctx/ignored.tmp': null,
      'ctx/top.txt': null,
      'ctx/.git': null,
    },
  },
  {
    name: 'a git URL with -f: the Dockerfile is read from the repository, not the working directory',
    setup(work) {
      write(work, { app: 'not a directory here' });
      return { args: ['-f', 'app/Dockerfile', `file://${gitRepo}#feature`], cwd: work };
    },
    expect: { 'ctx/app/app.txt': 'file 644 0:0 "feature app\\n"', 'ctx/.git': null },
  },
  {
    name: 'a git URL at a tag, whole repository',
    setup: () => ({ args: [`file://${gitRepo}#v1`] }),
    expect: { 'ctx/top.txt': 'file 644 0:0 "v1\\n"', 'ctx/app': null, 'ctx/.git': null },
  },
  {
    name: 'a git URL at a commit id',
    setup: () => ({ args: [`file://${gitRepo}#${v1Commit}`] }),
    expect: { 'ctx/top.txt': 'file 644 0:0 "v1\\n"', 'ctx/app': null },
  },
  {
    name: 'a git URL at a ref that does not exist',
    setup: () => ({ args: [`file://${gitRepo}#no-such-branch`] }),
    error: /failed to fetch git context/,
  },
  {
    name: '-f outside the context, with <Dockerfile>.dockerignore beside it winning over .dockerignore',
    setup(work) {
      write(join(work, 'ctx'), { 'a.txt': 'A', 'b.txt': 'B', 'c.txt': 'C', '.dockerignore': 'a.txt\n' });
      write(join(work, 'dockerfiles'), { 'app.Dockerfile': DF, 'app.Dockerfile.dockerignore': 'b.txt\n' });
      return { args: ['-f', join(work, 'dockerfiles', 'app.Dockerfile'), join(work, 'ctx')] };
    },
    expect: { 'ctx/a.txt': 'file 644 0:0 "A"', 'ctx/b.txt': null, 'ctx/c.txt': 'file 644 0:0 "C"', 'ctx/app.Dockerfile': null },
  },
  {
    name: '-f relative to the working directory; a Dockerfile excluded by .dockerignore still builds',
    setup(work) {
      write(join(work, 'ctx'), { 'build/Dockerfile.dev': DF, 'x.txt': 'X', '.dockerignore': 'build\n' });
      return { args: ['-f', 'ctx/build/Dockerfile.dev', 'ctx'], cwd: work };
    },
    expect: { 'ctx/x.txt': 'file 644 0:0 "X"', 'ctx/build': null },
  },
  {
    name: '-f -: the Dockerfile on stdin, the context a directory',
    setup(work) {
      write(join(work, 'ctx'), { 'a.txt': 'A', Dockerfile: 'FROM busybox\nRUN false\n' });
      return { args: ['-f', '-', join(work, 'ctx')], stdin: 'FROM busybox\nCOPY a.txt /from-stdin\n' };
    },
    expect: { 'from-stdin': 'file 644 0:0 "A"' },
  },
  {
    name: '-f naming a missing file',
    setup(work) {
      write(join(work, 'ctx'), { 'a.txt': 'A' });
      return { args: ['-f', join(work, 'nope.Dockerfile'), join(work, 'ctx')] };
    },
    error: /failed to read dockerfile/,
  },
];

before(async () => {
  dir = tempDir('contexts');
  root = join(dir, 'root');
  const r = await jettison(root, [], ['import', await busyboxRootfs(), 'busybox:latest']);
  assert.equal(r.code, 0, show(r));

  // A bare repository: tag v1 (top.txt), then branch feature with app/ (Dockerfile, .dockerignore).
  const work = join(dir, 'git-work');
  gitRepo = join(dir, 'ctx-repo.git');
  const git = (args: string[], cwd = work) =>
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'init.defaultBranch=main', ...args], { cwd });
  mkdirSync(work);
  git(['init', '-q']);
  write(work, { 'top.txt': 'v1\n', Dockerfile: DF });
  git(['add', '.']);
  git(['commit', '-q', '-m', 'v1']);
  git(['tag', 'v1']);
  v1Commit = git(['rev-parse', 'HEAD']).toString().trim();
  git(['checkout', '-q', '-b', 'feature']);
  write(work, { 'app/Dockerfile': DF, 'app/app.txt': 'feature app\n', 'app/ignored.tmp': 'x', 'app/.dockerignore': '*.tmp\n' });
  git(['add', '.']);
  git(['commit', '-q', '-m', 'feature']);
  git(['clone', '-q', '--bare', work, gitRepo], dir);
});

after(() => {
  if (dir) cleanupDir(dir);
});

describe('jettison build: contexts and Dockerfile sources', () => {
  let n = 0;
  for (const c of cases) {
    test(c.name, async () => {
      const work = join(dir, `case-${++n}`);
      mkdirSync(work, { recursive: true });
      const { args, stdin, cwd } = c.setup(work);
      const out = join(work, 'out');
      const r = await runCli(['--root', root, 'build', '--progress', 'plain', '-o', `type=local,dest=${out}`, ...args], { ...(cwd ? { cwd } : {}), ...(stdin !== undefined ? { stdin } : {}) });
      if (c.error) {
        assert.notEqual(r.code, 0, `expected a failure\n${show(r)}`);
        assert.match(r.stderr, c.error, show(r));
        return;
      }
      assert.equal(r.code, 0, show(r));
      const got: Record<string, string | null> = {};
      for (const p of Object.keys(c.expect ?? {})) got[p] = describePath(join(out, p));
      assert.deepEqual(got, c.expect);
    });
  }
});

test('a tar on stdin or a git URL leaves no context hash cache behind (each build unpacks into a new directory); a directory does', async () => {
  const own = join(dir, 'hash-cache-root');
  cpSync(root, own, { recursive: true });
  const hashes = () => (existsSync(join(own, 'context-hashes')) ? readdirSync(join(own, 'context-hashes')) : []);
  const before = hashes().length;
  const src = join(dir, 'hash-cache-src');
  write(src, { Dockerfile: DF, 'a.txt': 'A' });
  const tar = execFileSync('tar', ['-c', '-f', '-', '-C', src, '.']);
  for (const args of [['-'], [`file://${gitRepo}#v1`]]) {
    const r = await runCli(['--root', own, 'build', '-q', ...args], { stdin: tar });
    assert.equal(r.code, 0, show(r));
  }
  assert.equal(hashes().length, before, 'no hash cache for unpacked contexts');
  const r = await runCli(['--root', own, 'build', '-q', src]);
  assert.equal(r.code, 0, show(r));
  assert.equal(hashes().length, before + 1, 'a directory context keeps one');
});
