/**
 * `jettison build` instruction semantics, end to end, against BuildKit's behaviour: one table of cases,
 * each a Dockerfile and its context files, built FROM a busybox rootfs imported into a fresh store (no
 * registry), exported with `-o type=local`; then the resulting files (type, mode, owner, content) and the
 * image config (`jettison inspect`) are compared with what BuildKit produces for the same Dockerfile.
 *
 * Covers COPY (--chown by name/id, --chmod, wildcards, directory contents, destinations, .dockerignore,
 * --link, --parents, --exclude, heredocs, --from stage/image/named context), ADD (local archives, http with
 * --checksum and Last-Modified, git refs and --keep-git-dir), RUN (heredocs, tmpfs and bind mounts,
 * --network=none, exec form, SHELL, USER, WORKDIR ownership, ENV/ARG), image metadata and ONBUILD.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { busyboxRootfs } from '../../support/images.ts';
import { snapshotTree } from '../../support/trees.ts';
import { cleanupDir, jettison, show, tempDir } from '../../fixtures/build/harness.ts';

/** A context file: text, text with a mode, a symlink, an empty directory, a tar made from files, or a copy of a host file. */
type FileSpec =
  | string
  | { content: string; mode?: number; mtime?: number }
  | { link: string }
  | { dir: true; mode?: number }
  | { tar: Record<string, string>; compress?: 'gzip' | 'xz' | 'bzip2'; owner?: number; truncate?: number }
  | { gzipOf: string }
  | { copyOf: string };

interface Case {
  name: string;
  /** `{{http}}` is the test HTTP server's origin, `{{git}}` a bare repository's file:// URL. */
  dockerfile: string;
  files?: Record<string, FileSpec>;
  /** Extra `jettison build` arguments (`{{ctx}}` is replaced by the case's work dir). */
  args?: string[];
  /** Other directories to create in the case's work dir (`{{ctx}}/NAME`), e.g. named contexts. */
  dirs?: Record<string, Record<string, FileSpec>>;
  /** Images to build first into the same store: [tag, Dockerfile, files]. */
  pre?: { tag: string; dockerfile: string; files?: Record<string, FileSpec> }[];
  /** Path in the result → its description (see describe()), or null when it must not exist. */
  expect?: Record<string, string | RegExp | null>;
  /** Fields of the image's Config that must equal these values (undefined = absent). */
  config?: Record<string, unknown>;
  /** created_by of the history entries after the base image's, "(empty)" appended for empty_layer ones. */
  history?: string[];
  /** The build must fail with this message. */
  error?: RegExp;
  /** A known gap outside this suite's files: reported as TODO (node:test), still run. */
  todo?: string;
}

let dir: string;
let root: string;
let server: Server;
let http = '';
let gitRepo = '';
const LAST_MODIFIED = 'Wed, 21 Oct 2015 07:28:00 GMT';
const REMOTE = 'remote file\n';
/** Incompressible text (hex of a hash chain), so a cut-off .xz of it has a readable start only. */
function noise(bytes: number): string {
  let out = '';
  let h = 'seed';
  while (out.length < bytes) out += h = createHash('sha256').update(h).digest('hex');
  return out.slice(0, bytes);
}
const sha = (s: string | Buffer) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

function writeTree(base: string, files: Record<string, FileSpec>): void {
  for (const [p, spec] of Object.entries(files)) {
    const full = join(base, p);
    mkdirSync(dirname(full), { recursive: true });
    if (typeof spec === 'string') writeFileSync(full, spec);
    else if ('link' in spec) symlinkSync(spec.link, full);
    else if ('dir' in spec) {
      mkdirSync(full, { recursive: true });
      if (spec.mode !== undefined) chmodSync(full, spec.mode);
    } else if ('copyOf' in spec) {
      copyFileSync(spec.copyOf, full);
      chmodSync(full, 0o755);
    } else if ('gzipOf' in spec) {
      writeFileSync(full, gzipSync(spec.gzipOf));
    } else if ('tar' in spec) {
      const src = `${full}.src`;
      writeTree(src, spec.tar);
      const names = readdirSync(src).sort();
      const flags = { gzip: ['-z'], xz: ['-J'], bzip2: ['-j'], none: [] }[spec.compress ?? 'none'];
      execFileSync('tar', ['-c', ...flags, '-f', full, '--numeric-owner', `--owner=${spec.owner ?? 0}`, `--group=${spec.owner ?? 0}`, '--mtime=@1000000000', '-C', src, ...names]);
      execFileSync('rm', ['-rf', src]);
      if (spec.truncate !== undefined) execFileSync('truncate', ['-s', String(spec.truncate), full]);
    } else {
      writeFileSync(full, spec.content);
      if (spec.mode !== undefined) chmodSync(full, spec.mode);
      if (spec.mtime !== undefined) utimesSync(full, spec.mtime, spec.mtime);
    }
  }
}

/** "file 644 0:0 "text"", "dir 755 1000:1000", "link -> target 0:0": what a path in the result is. */
function describePath(p: string): string | null {
  if (!existsSync(p) && !isLink(p)) return null;
  const st = lstatSync(p);
  const owner = `${st.uid}:${st.gid}`;
  const mode = (st.mode & 0o7777).toString(8);
  if (st.isSymbolicLink()) return `link -> ${readlinkSync(p)} ${owner}`;
  if (st.isDirectory()) return `dir ${mode} ${owner}`;
  const data = readFileSync(p);
  const text = data.length <= 200 ? JSON.stringify(data.toString('utf8')) : `${data.length} bytes`;
  return `file ${mode} ${owner} ${text}`;
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

const fill = (s: string, work: string) => s.replaceAll('{{http}}', http).replaceAll('{{git}}', `file://${gitRepo}`).replaceAll('{{ctx}}', work);

interface Inspected {
  Config: Record<string, unknown>;
  History: { created_by?: string; empty_layer?: boolean }[];
}

async function inspectImage(tag: string): Promise<Inspected> {
  const r = await jettison(root, [], ['inspect', tag]);
  assert.equal(r.code, 0, show(r));
  return (JSON.parse(r.stdout) as Inspected[])[0];
}

let serial = 0;
async function runCase(c: Case): Promise<void> {
  const work = join(dir, `case-${++serial}`);
  for (const [name, files] of Object.entries(c.dirs ?? {})) writeTree(join(work, name), files);
  for (const p of c.pre ?? []) {
    const pctx = join(work, `pre-${p.tag.replace(/[^a-z0-9]/g, '_')}`);
    writeTree(pctx, { Dockerfile: fill(p.dockerfile, work), ...(p.files ?? {}) });
    const r = await jettison(root, [], ['build', '--progress', 'plain', '-t', p.tag, pctx]);
    assert.equal(r.code, 0, show(r));
  }
  const ctx = join(work, 'ctx');
  writeTree(ctx, { Dockerfile: fill(c.dockerfile, work), ...(c.files ?? {}) });
  const out = join(work, 'out');
  const tag = `case-${serial}:latest`;
  const r = await jettison(root, [], ['build', '--progress', 'plain', '-t', tag, '-o', `type=local,dest=${out}`, '-o', 'type=image', ...(c.args ?? []).map((a) => fill(a, work)), ctx]);
  if (c.error) {
    assert.notEqual(r.code, 0, `expected a failure\n${show(r)}`);
    assert.match(r.stderr, c.error, show(r));
    return;
  }
  assert.equal(r.code, 0, show(r));
  const got: Record<string, string | null> = {};
  const want: Record<string, string | RegExp | null> = {};
  for (const [p, d] of Object.entries(c.expect ?? {})) {
    const actual = describePath(join(out, p));
    if (d instanceof RegExp) {
      assert.match(actual ?? '(absent)', d, `${p}`);
      continue;
    }
    got[p] = actual;
    want[p] = d;
  }
  assert.deepEqual(got, want);
  if (c.history) {
    const h = (await inspectImage(tag)).History.slice(1).map((e) => `${e.created_by}${e.empty_layer ? ' (empty)' : ''}`);
    assert.deepEqual(h, c.history);
  }
  if (c.config) {
    const config = (await inspectImage(tag)).Config;
    const picked: Record<string, unknown> = {};
    for (const k of Object.keys(c.config)) picked[k] = config[k] ?? undefined;
    assert.deepEqual(picked, c.config);
  }
}

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const cases: Case[] = [
  // ---- COPY --chown / --chmod -------------------------------------------------------------------
  {
    name: 'COPY --chown by name, name:group, numeric id (gid = uid), id:id, root:group; created dirs owned',
    dockerfile: `FROM busybox
ARG WHO=www
COPY --chown=www f /c/byname
COPY --chown=www:staff f /c/name-group
COPY --chown=1234 f /c/id-only
COPY --chown=1000 f /c/www-id
COPY --chown=1234:5678 f /c/ids
COPY --chown=root:users f /c/root-users
COPY --chown=$WHO f /c/expanded
COPY --chown=www d /new/sub/
`,
    files: { f: 'F\n', 'd/x': 'X', 'd/inner/y': 'Y' },
    expect: {
      // Directories a COPY creates get the --chown owner too (fsutil's MkdirAll with the chowner).
      'c': 'dir 755 1000:1000',
      'c/byname': 'file 644 1000:1000 "F\\n"',
      'c/name-group': 'file 644 1000:50 "F\\n"',
      'c/id-only': 'file 644 1234:1234 "F\\n"',
      'c/www-id': 'file 644 1000:1000 "F\\n"',
      'c/ids': 'file 644 1234:5678 "F\\n"',
      'c/root-users': 'file 644 0:100 "F\\n"',
      'c/expanded': 'file 644 1000:1000 "F\\n"',
      'new': 'dir 755 1000:1000',
      'new/sub': 'dir 755 1000:1000',
      'new/sub/x': 'file 644 1000:1000 "X"',
      'new/sub/inner': 'dir 755 1000:1000',
      'new/sub/inner/y': 'file 644 1000:1000 "Y"',
    },
  },
  {
    name: 'COPY --chown with an unknown user name fails',
    dockerfile: 'FROM busybox\nCOPY --chown=nosuchuser f /f\n',
    files: { f: 'F' },
    error: /unable to find user nosuchuser/,
  },
  {
    name: 'COPY --chmod on files and on the files and directories of a copied directory',
    dockerfile: `FROM busybox
COPY --chmod=755 f /m/exec
COPY --chmod=0600 d /m/dir/
COPY f /m/plain
COPY --chmod=640 --chown=www f /m/both
`,
    files: { f: { content: 'F', mode: 0o644 }, 'd/a': { content: 'A', mode: 0o755 }, 'd/sub/b': 'B' },
    expect: {
      'm/exec': 'file 755 0:0 "F"',
      'm/dir': 'dir 755 0:0',
      'm/dir/a': 'file 600 0:0 "A"',
      'm/dir/sub': 'dir 600 0:0',
      'm/dir/sub/b': 'file 600 0:0 "B"',
      'm/plain': 'file 644 0:0 "F"',
      'm/both': 'file 640 1000:1000 "F"',
    },
  },
  {
    name: "COPY --chmod with symbolic modes (dockerfile 1.14): each entry's own mode changed, X only for directories and executables; heredocs too",
    dockerfile: `FROM busybox
COPY --chmod=u+x,go-w f /s/f
COPY --chmod=a=rX,u+w d /s/d/
COPY --chmod=g=u,o= f /s/g
COPY --chmod=+x <<EOF /s/h
echo hi
EOF
`,
    files: { f: { content: 'F', mode: 0o664 }, 'd/a': { content: 'A', mode: 0o750 }, 'd/sub/b': { content: 'B', mode: 0o600 } },
    expect: {
      's/f': 'file 744 0:0 "F"',
      's/d/a': 'file 755 0:0 "A"',
      's/d/sub': 'dir 755 0:0',
      's/d/sub/b': 'file 644 0:0 "B"',
      's/g': 'file 660 0:0 "F"',
      's/h': 'file 755 0:0 "echo hi\\n"',
    },
  },
  // ---- wildcards, directory contents, destinations ----------------------------------------------
  {
    name: 'wildcards: *, ?, [class], per directory level; several matches onto one file name: the last wins',
    dockerfile: `FROM busybox
COPY *.txt /w/star/
COPY ?.md /w/q/
COPY [ab].txt /w/class/
COPY src/*/main.c /w/deep/
COPY jars/*.jar /w/app.jar
COPY nomatch*.none b.txt /w/mixed/
`,
    files: { 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c', 'x.md': 'x', 'xy.md': 'xy', 'src/one/main.c': '1', 'src/two/main.c': '2', 'src/two/other.c': 'o', 'jars/a-1.jar': 'A', 'jars/b-2.jar': 'B' },
    expect: {
      'w/star/a.txt': 'file 644 0:0 "a"',
      'w/star/c.txt': 'file 644 0:0 "c"',
      'w/star/x.md': null,
      'w/q/x.md': 'file 644 0:0 "x"',
      'w/q/xy.md': null,
      'w/class/a.txt': 'file 644 0:0 "a"',
      'w/class/b.txt': 'file 644 0:0 "b"',
      'w/class/c.txt': null,
      'w/deep/main.c': 'file 644 0:0 "2"',
      'w/deep/other.c': null,
      'w/app.jar': 'file 644 0:0 "B"',
      'w/mixed/b.txt': 'file 644 0:0 "b"',
    },
  },
  {
    name: 'a directory source copies its contents; into a new path, an existing directory (merged), a file name',
    dockerfile: `FROM busybox
RUN mkdir -p /exists/old && echo old > /exists/old/keep && chmod 700 /exists
COPY d /new
COPY d /exists
COPY f /exists
COPY f /renamed
COPY f /slash/
COPY . /whole/
`,
    files: { 'd/x': 'X', 'd/sub/y': 'Y', f: 'F', '.dockerignore': 'Dockerfile\n.dockerignore\n' },
    expect: {
      'new': 'dir 755 0:0',
      'new/x': 'file 644 0:0 "X"',
      'new/sub/y': 'file 644 0:0 "Y"',
      'new/d': null,
      'exists': 'dir 700 0:0',
      'exists/old/keep': 'file 644 0:0 "old\\n"',
      'exists/x': 'file 644 0:0 "X"',
      'exists/sub/y': 'file 644 0:0 "Y"',
      'exists/f': 'file 644 0:0 "F"',
      'renamed': 'file 644 0:0 "F"',
      'slash': 'dir 755 0:0',
      'slash/f': 'file 644 0:0 "F"',
      'whole/f': 'file 644 0:0 "F"',
      'whole/d/sub/y': 'file 644 0:0 "Y"',
      'whole/Dockerfile': null,
    },
  },
  {
    name: 'destinations relative to WORKDIR, "." and trailing slashes; symlinks in a copied directory stay symlinks',
    dockerfile: `FROM busybox
WORKDIR /app
COPY f .
COPY f sub/
COPY f rel
COPY f ./dot/./file
WORKDIR nested
COPY f ../up
COPY links /links/
`,
    files: { f: 'F', 'links/target': 'T', 'links/l': { link: 'target' }, 'links/abs': { link: '/etc/passwd' } },
    expect: {
      'app/f': 'file 644 0:0 "F"',
      'app/sub': 'dir 755 0:0',
      'app/sub/f': 'file 644 0:0 "F"',
      'app/rel': 'file 644 0:0 "F"',
      'app/dot/file': 'file 644 0:0 "F"',
      'app/nested': 'dir 755 0:0',
      'app/up': 'file 644 0:0 "F"',
      'links/l': 'link -> target 0:0',
      'links/abs': 'link -> /etc/passwd 0:0',
      'links/target': 'file 644 0:0 "T"',
    },
  },
  {
    name: 'a missing source is "not found"',
    dockerfile: 'FROM busybox\nCOPY missing.txt /x\n',
    error: /"\/missing\.txt": not found/,
  },
  {
    name: '.dockerignore with ! exceptions and ** patterns',
    dockerfile: 'FROM busybox\nCOPY . /ctx/\n',
    files: {
      '.dockerignore': '# comment\n*.log\n!keep.log\n**/*.tmp\ndocs/**\n!docs/README.md\nsecret\n/build\n',
      'a.log': 'a', 'keep.log': 'k', 'x.tmp': 't', 'sub/y.tmp': 't', 'sub/deeper/z.tmp': 't', 'sub/z.txt': 'z', 'sub/n.log': 'n',
      'docs/README.md': 'r', 'docs/other.md': 'o', 'docs/sub/x': 'x', secret: 's', 'build/out': 'o', 'app/build/keep': 'k',
    },
    expect: {
      'ctx/keep.log': 'file 644 0:0 "k"',
      'ctx/a.log': null,
      'ctx/x.tmp': null,
      'ctx/sub/y.tmp': null,
      'ctx/sub/deeper/z.tmp': null,
      'ctx/sub/z.txt': 'file 644 0:0 "z"',
      'ctx/sub/n.log': 'file 644 0:0 "n"',
      'ctx/docs/README.md': 'file 644 0:0 "r"',
      'ctx/docs/other.md': null,
      'ctx/docs/sub': null,
      'ctx/secret': null,
      'ctx/build': null,
      'ctx/app/build/keep': 'file 644 0:0 "k"',
      'ctx/.dockerignore': /^file 644 0:0 /,
      'ctx/Dockerfile': /^file 644 0:0 /,
    },
  },
  {
    name: 'a file excluded by .dockerignore cannot be copied by name',
    dockerfile: 'FROM busybox\nCOPY secret /s\n',
    files: { '.dockerignore': 'secret\n', secret: 's' },
    error: /"\/secret": not found/,
  },
  // ---- --parents, --exclude ------------------------------------------------------------------------
  {
    name: 'COPY --parents keeps source paths (from /./ when present)',
    dockerfile: `FROM busybox
COPY --parents a/b/c.txt x/*/z.txt /p/
COPY --parents ./a/./b/c.txt /q/
COPY --parents a/b /r/
`,
    files: { 'a/b/c.txt': 'c', 'a/d.txt': 'd', 'x/y/z.txt': 'z', 'x/w/z.txt': 'w' },
    expect: {
      'p/a/b/c.txt': 'file 644 0:0 "c"',
      'p/a/d.txt': null,
      'p/x/y/z.txt': 'file 644 0:0 "z"',
      'p/x/w/z.txt': 'file 644 0:0 "w"',
      'q/b/c.txt': 'file 644 0:0 "c"',
      'q/a': null,
      'r/a/b/c.txt': 'file 644 0:0 "c"',
    },
  },
  {
    name: 'COPY --exclude drops matching paths below the source',
    dockerfile: `FROM busybox
COPY --exclude=*.log --exclude=skip dir /e/
COPY --exclude=**/*.o src /o/
`,
    files: { 'dir/a.txt': 'a', 'dir/b.log': 'b', 'dir/skip/x': 'x', 'dir/keep/y': 'y', 'src/m.c': 'm', 'src/m.o': 'o', 'src/lib/n.o': 'o', 'src/lib/n.c': 'n' },
    expect: {
      'e/a.txt': 'file 644 0:0 "a"',
      'e/b.log': null,
      'e/skip': null,
      'e/keep/y': 'file 644 0:0 "y"',
      'o/m.c': 'file 644 0:0 "m"',
      'o/m.o': null,
      'o/lib/n.o': null,
      'o/lib/n.c': 'file 644 0:0 "n"',
    },
  },
  // ---- heredocs -------------------------------------------------------------------------------------
  {
    name: 'COPY heredocs: expanded unless quoted, several into a directory, --chmod/--chown',
    dockerfile: `FROM busybox
ARG NAME=world
COPY <<EOF /h/one
hello $NAME
EOF
COPY <<'EOF' /h/two
raw $NAME
EOF
COPY <<a.txt <<b.txt /h/multi/
A
a.txt
B
b.txt
COPY --chmod=755 --chown=www <<EOF /h/script.sh
#!/bin/sh
EOF
`,
    expect: {
      'h/one': 'file 644 0:0 "hello world\\n"',
      'h/two': 'file 644 0:0 "raw $NAME\\n"',
      'h/multi/a.txt': 'file 644 0:0 "A\\n"',
      'h/multi/b.txt': 'file 644 0:0 "B\\n"',
      'h/script.sh': 'file 755 1000:1000 "#!/bin/sh\\n"',
    },
  },
  {
    name: 'RUN heredocs: a shell script, a #! program, a command with heredoc stdin, ARGs visible',
    dockerfile: `FROM busybox
ARG X=argval
RUN <<EOF
set -e
echo one > /r1
echo "two $X" >> /r1
EOF
RUN <<EOF
#!/bin/sh
echo "prog=$0" > /r2
EOF
RUN cat <<EOF > /r3
home=$HOME
EOF
RUN cat <<A > /r4 && cat <<'B' >> /r4
first $X
A
second $X
B
`,
    expect: {
      r1: 'file 644 0:0 "one\\ntwo argval\\n"',
      r2: 'file 644 0:0 "prog=/dev/pipes/EOF\\n"',
      r3: 'file 644 0:0 "home=/root\\n"',
      r4: 'file 644 0:0 "first argval\\nsecond $X\\n"',
      'dev/pipes': null,
    },
  },
  // ---- --link, --from --------------------------------------------------------------------------------
  {
    name: 'COPY --link: the same files, owners and modes as without it',
    dockerfile: `FROM busybox
RUN mkdir -p /app && echo base > /app/base
COPY --link d /app/
COPY --link --chown=1000:50 f /app/owned
COPY --link --chown=www:staff f /app/named
COPY --link --chown=www <<EOF /app/heredoc
hi
EOF
COPY --link f /deep/new/dir/
`,
    files: { 'd/x': 'X', 'd/s/y': 'Y', f: 'F' },
    expect: {
      'app/base': 'file 644 0:0 "base\\n"',
      'app/x': 'file 644 0:0 "X"',
      'app/s/y': 'file 644 0:0 "Y"',
      'app/owned': 'file 644 1000:50 "F"',
      'app/named': 'file 644 1000:50 "F"',
      'app/heredoc': 'file 644 1000:1000 "hi\\n"',
      'deep/new/dir/f': 'file 644 0:0 "F"',
      'deep/new': 'dir 755 0:0',
    },
  },
  {
    name: 'COPY --from a stage (by name and index) keeps owners and modes; --from an image; RUN bind mount from a stage',
    dockerfile: `FROM busybox AS build
RUN mkdir /out && echo built > /out/x && chown 1000:50 /out/x && chmod 640 /out/x && ln -s x /out/l
FROM busybox
COPY --from=build /out/x /s/x
COPY --from=0 /out /s/all/
COPY --from=busybox:latest /etc/group /s/group
COPY --from=build --chown=1234:1234 /out/x /s/chowned
RUN --mount=type=bind,from=build,source=/out,target=/mnt cat /mnt/x > /s/bind1
RUN --mount=type=bind,from=build,target=/m2 sh -c 'cat /m2/out/x > /s/bind2; touch /m2/w 2>/dev/null && echo rw > /s/bind3 || echo ro > /s/bind3'
RUN --mount=type=bind,source=ctxfile,target=/c/file cat /c/file > /s/bind4
`,
    files: { ctxfile: 'from the context\n' },
    expect: {
      's/x': 'file 640 1000:50 "built\\n"',
      's/all/x': 'file 640 1000:50 "built\\n"',
      's/all/l': 'link -> x 0:0',
      's/group': /^file 644 0:0 "root:x:0:\\nstaff/,
      's/chowned': 'file 640 1234:1234 "built\\n"',
      's/bind1': 'file 644 0:0 "built\\n"',
      's/bind2': 'file 644 0:0 "built\\n"',
      's/bind3': 'file 644 0:0 "ro\\n"',
      's/bind4': 'file 644 0:0 "from the context\\n"',
      mnt: null,
      m2: null,
      c: null,
    },
  },
  {
    name: '--build-context NAME=DIR for COPY --from and bind mounts; NAME=docker-image://busybox as FROM and --from',
    dockerfile: `FROM base
COPY --from=extra e.txt /n/e.txt
COPY --from=extra . /n/all/
COPY --from=base /etc/passwd /n/passwd
RUN --mount=type=bind,from=extra,target=/x cat /x/e.txt > /n/bind
`,
    args: ['--build-context', 'extra={{ctx}}/extra', '--build-context', 'base=docker-image://busybox'],
    dirs: { extra: { 'e.txt': 'named\n', 'sub/s': 'S' } },
    expect: {
      'n/e.txt': 'file 644 0:0 "named\\n"',
      'n/all/e.txt': 'file 644 0:0 "named\\n"',
      'n/all/sub/s': 'file 644 0:0 "S"',
      'n/passwd': /^file 644 0:0 "root:x:0:0:/,
      'n/bind': 'file 644 0:0 "named\\n"',
      'bin/busybox': /^file 755 0:0 /,
    },
  },
  {
    name: 'RUN --mount=type=secret not given: skipped when optional (no file, no variable)',
    dockerfile: `FROM busybox
RUN --mount=type=secret,id=nope --mount=type=secret,id=nope2,env=NOPE (test -e /run/secrets/nope && echo there || echo absent) > /file && echo "\${NOPE:-unset}" > /envvar
`,
    expect: { file: 'file 644 0:0 "absent\\n"', envvar: 'file 644 0:0 "unset\\n"' },
  },
  {
    name: 'RUN --mount=type=secret,required=true not given: the build fails and names it',
    dockerfile: `FROM busybox
RUN --mount=type=secret,id=needed,required=true true
`,
    error: /secret needed: not found/,
  },
  {
    name: 'RUN --mount=type=bind of the context: .dockerignore applies (ignored files are not there), for a directory and a file',
    dockerfile: `FROM busybox
RUN --mount=type=bind,target=/src ls -A /src > /all && (test -e /src/secret.env && echo seen || echo hidden) > /env
RUN --mount=type=bind,source=app,target=/app ls -A /app > /app-ls
RUN --mount=type=bind,source=app/a.txt,target=/one cat /one > /one-content
`,
    files: { '.dockerignore': 'secret.env\n**/*.log\n', 'secret.env': 'TOKEN=x\n', 'app/a.txt': 'A', 'app/x.log': 'L' },
    expect: {
      all: 'file 644 0:0 ".dockerignore\\nDockerfile\\napp\\n"',
      env: 'file 644 0:0 "hidden\\n"',
      'app-ls': 'file 644 0:0 "a.txt\\n"',
      'one-content': 'file 644 0:0 "A"',
    },
  },
  {
    name: 'a stage named like a --build-context is replaced by it (its steps, config and dependencies are not used); FROM a named DIR is that file system',
    dockerfile: `FROM busybox AS src
RUN echo "not run" > /from-stage
FROM jettison-test/no-such-image:1 AS broken
RUN exit 1
FROM broken AS tree
COPY --from=src / /t/
ENV LEAK=from-the-replaced-stage
FROM tree
COPY --from=src . /n/
RUN cat /t/e.txt /n/sub/s > /ran && echo "\${LEAK:-unset}" > /leak
`,
    args: ['--build-context', 'src={{ctx}}/extra', '--build-context', 'tree={{ctx}}/tree'],
    dirs: { extra: { 'e.txt': 'named\n', 'sub/s': 'S' }, tree: { 't/e.txt': 'tree\n', 'bin/sh': { link: '/x/busybox' }, 'bin/cat': { link: '/x/busybox' }, 'x/busybox': { copyOf: '/bin/busybox' } } },
    expect: {
      'n/e.txt': 'file 644 0:0 "named\\n"',
      'n/sub/s': 'file 644 0:0 "S"',
      'n/from-stage': null,
      't/e.txt': 'file 644 0:0 "tree\\n"',
      ran: 'file 644 0:0 "tree\\nS"',
      leak: 'file 644 0:0 "unset\\n"',
      'bin/busybox': null,
    },
  },
  // ---- ADD ----------------------------------------------------------------------------------------------
  {
    name: 'ADD local archives (tar, tar.gz, tar.xz) are extracted with their owners, modes and mtimes; others copied',
    dockerfile: `FROM busybox
ADD plain.tar /x/tar/
ADD comp.tar.gz /x/gz
ADD comp.tar.xz /x/xz/
ADD comp.tar.bz2 /x/bz2/
ADD fake.tar.gz /x/fake/
ADD note.txt /x/note.txt
ADD --chown=www chown.tar /x/chown/
`,
    files: {
      'plain.tar': { tar: { 'a.txt': 'A', 'dir/b.txt': 'B' }, owner: 1234 },
      'comp.tar.gz': { tar: { 'g.txt': 'G' }, compress: 'gzip' },
      'comp.tar.xz': { tar: { 'x.txt': 'X' }, compress: 'xz' },
      'comp.tar.bz2': { tar: { 'b.txt': 'B2' }, compress: 'bzip2' },
      'fake.tar.gz': 'not an archive\n',
      'note.txt': 'note',
      'chown.tar': { tar: { 'c.txt': 'C', 'cd/d.txt': 'D' }, owner: 4321 },
    },
    expect: {
      'x/tar/a.txt': 'file 644 1234:1234 "A"',
      'x/tar/dir': 'dir 755 1234:1234',
      'x/tar/dir/b.txt': 'file 644 1234:1234 "B"',
      'x/tar/plain.tar': null,
      'x/gz/g.txt': 'file 644 0:0 "G"',
      'x/xz/x.txt': 'file 644 0:0 "X"',
      'x/bz2/b.txt': 'file 644 0:0 "B2"',
      'x/fake/fake.tar.gz': 'file 644 0:0 "not an archive\\n"',
      'x/note.txt': 'file 644 0:0 "note"',
      'x/chown/c.txt': 'file 644 1000:1000 "C"',
      'x/chown/cd': 'dir 755 1000:1000',
      'x/chown/cd/d.txt': 'file 644 1000:1000 "D"',
    },
  },
  {
    name: 'ADD of files that only look like archives copies them as they are (a .gz of text, a cut-off .tar.xz)',
    dockerfile: 'FROM busybox\nADD notes.txt.gz cut.tar.xz /x/\n',
    files: { 'notes.txt.gz': { gzipOf: 'just text\n' }, 'cut.tar.xz': { tar: { 'big.txt': 'x'.repeat(100000) }, compress: 'xz', truncate: 40 } },
    expect: { 'x/notes.txt.gz': /^file 644 0:0 /, 'x/cut.tar.xz': /^file 644 0:0 /, 'x/big.txt': null },
  },
  {
    name: 'ADD of a .tar.xz cut off after its first entry fails (never a partial extraction)',
    dockerfile: 'FROM busybox\nADD broken.tar.xz /x/\n',
    files: { 'broken.tar.xz': { tar: { 'a.txt': 'A', 'big.bin': noise(300000) }, compress: 'xz', truncate: 30000 } },
    error: /failed to decompress broken\.tar\.xz \(xz\)/,
  },
  {
    name: 'ADD http URL: 0600, named after the URL path, Last-Modified as mtime, archives not extracted, --checksum',
    dockerfile: `FROM busybox
ADD {{http}}/files/remote.txt /dl/
ADD {{http}}/files/remote.txt /dl/renamed
ADD {{http}}/files/archive.tar.gz /dl/
ADD --checksum=${sha(REMOTE)} {{http}}/files/remote.txt /dl/checked
ADD --chown=www --chmod=644 {{http}}/files/remote.txt /dl/owned
RUN stat -c %Y /dl/remote.txt > /dl/mtime
`,
    expect: {
      'dl/remote.txt': 'file 600 0:0 "remote file\\n"',
      'dl/renamed': 'file 600 0:0 "remote file\\n"',
      'dl/archive.tar.gz': /^file 600 0:0 /,
      'dl/checked': 'file 600 0:0 "remote file\\n"',
      'dl/owned': 'file 644 1000:1000 "remote file\\n"',
      'dl/mtime': `file 644 0:0 "${Date.parse(LAST_MODIFIED) / 1000}\\n"`,
    },
  },
  {
    name: 'ADD --checksum that does not match fails naming both digests',
    dockerfile: `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} {{http}}/files/remote.txt /dl/\n`,
    error: new RegExp(`digest mismatch ${sha(REMOTE)}: sha256:${'0'.repeat(64)}`),
  },
  {
    name: 'ADD http URL answering 404 fails',
    dockerfile: 'FROM busybox\nADD {{http}}/missing /dl/\n',
    error: /invalid response status 404/,
  },
  {
    name: 'ADD git repository: a tag, the default branch, a subdirectory, --keep-git-dir',
    dockerfile: `FROM busybox
ADD {{git}}#v1 /g/v1
ADD {{git}} /g/head/
ADD {{git}}#main:sub /g/sub
ADD --keep-git-dir=true {{git}}#main /g/keep
`,
    expect: {
      'g/v1/a.txt': 'file 644 0:0 "one\\n"',
      'g/v1/sub': null,
      'g/v1/.git': null,
      'g/head/a.txt': 'file 644 0:0 "two\\n"',
      'g/head/run.sh': 'file 755 0:0 "#!/bin/sh\\n"',
      'g/head/sub/b.txt': 'file 644 0:0 "bee\\n"',
      'g/head/.git': null,
      'g/sub/b.txt': 'file 644 0:0 "bee\\n"',
      'g/sub/a.txt': null,
      'g/keep/a.txt': 'file 644 0:0 "two\\n"',
      'g/keep/.git': 'dir 755 0:0',
      'g/keep/.git/HEAD': /^file 644 0:0 /,
    },
  },
  // ---- RUN ----------------------------------------------------------------------------------------------
  {
    name: 'RUN --mount=type=tmpfs: a tmpfs, nothing of it in the layer',
    dockerfile: `FROM busybox
RUN --mount=type=tmpfs,target=/scratch sh -c 'echo x > /scratch/f && grep " /scratch " /proc/mounts | cut -d" " -f3 > /fstype'
`,
    expect: { fstype: 'file 644 0:0 "tmpfs\\n"', scratch: null },
  },
  {
    name: 'RUN --network=none has only lo; exec form is not shell-expanded; SHELL applies to RUN',
    dockerfile: `FROM busybox
RUN --network=none sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " > /net'
RUN ["/bin/sh", "-c", "echo \\"$0\\" > /exec", "$HOME"]
SHELL ["/usr/bin/env", "VIA_SHELL=yes", "/bin/sh", "-c"]
RUN echo "$VIA_SHELL" > /shell
`,
    expect: { net: 'file 644 0:0 "lo\\n"', exec: 'file 644 0:0 "$HOME\\n"', shell: 'file 644 0:0 "yes\\n"' },
    config: { Shell: ['/usr/bin/env', 'VIA_SHELL=yes', '/bin/sh', '-c'] },
  },
  {
    name: 'USER by name and by id for RUN; WORKDIR created owned by USER; ENV/ARG visibility and --build-arg',
    dockerfile: `FROM busybox
ARG A=fromarg
ENV B=fromenv C=\${A}-c
RUN echo "$A|$B|$C|$D" > /vars
ARG D
RUN echo "D=$D" >> /vars
USER www
RUN id -u > /tmp/u1 && id -g >> /tmp/u1 && id -G >> /tmp/u1
WORKDIR /home/www/app/sub
USER 1234:5678
RUN id -u > /tmp/u2 && id -g >> /tmp/u2
USER 2345
WORKDIR /w2
USER root
WORKDIR /tmp
`,
    args: ['--build-arg', 'A=cli', '--build-arg', 'D=late'],
    expect: {
      vars: 'file 644 0:0 "cli|fromenv|cli-c|\\nD=late\\n"',
      'tmp/u1': 'file 644 1000:1000 "1000\\n1000\\n1000 50 100\\n"',
      'tmp/u2': 'file 644 1234:5678 "1234\\n5678\\n"',
      'home/www/app': 'dir 755 1000:1000',
      'home/www/app/sub': 'dir 755 1000:1000',
      w2: 'dir 755 2345:2345',
      tmp: 'dir 1777 0:0',
    },
    config: { Env: [PATH, 'B=fromenv', 'C=cli-c'], User: 'root', WorkingDir: '/tmp' },
  },
  // ---- image metadata -------------------------------------------------------------------------------------
  {
    name: 'ENV LABEL EXPOSE VOLUME STOPSIGNAL HEALTHCHECK USER WORKDIR ENTRYPOINT CMD in the config; --label wins',
    dockerfile: `FROM busybox
ENV E1=v1 E2="two words"
LABEL l1=x "l 2"="y z"
EXPOSE 80 53/udp 8000-8001
VOLUME /data
VOLUME ["/logs"]
STOPSIGNAL SIGUSR1
USER www:staff
WORKDIR /srv
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hi"]
`,
    args: ['--label', 'l3=cli', '--label', 'l1=over'],
    expect: { srv: 'dir 755 1000:50' },
    history: [
      'ENV E1=v1 E2=two words (empty)',
      'LABEL l1=x l 2=y z (empty)',
      'EXPOSE map[53/udp:{} 80/tcp:{} 8000/tcp:{} 8001/tcp:{}] (empty)',
      'VOLUME [/data] (empty)',
      'VOLUME [/logs] (empty)',
      'STOPSIGNAL SIGUSR1 (empty)',
      'USER www:staff (empty)',
      'WORKDIR /srv',
      'ENTRYPOINT ["/bin/sh" "-c"] (empty)',
      'CMD ["echo hi"] (empty)',
    ],
    config: {
      Env: [PATH, 'E1=v1', 'E2=two words'],
      Labels: { l1: 'over', 'l 2': 'y z', l3: 'cli' },
      ExposedPorts: { '80/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} },
      Volumes: { '/data': {}, '/logs': {} },
      StopSignal: 'SIGUSR1',
      User: 'www:staff',
      WorkingDir: '/srv',
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['echo hi'],
    },
  },
  {
    name: 'history entries of RUN (with ARGs), COPY and ADD flags as BuildKit writes them',
    dockerfile: 'FROM busybox\nARG V=1\nRUN echo $V > /v\nCOPY --chown=www --chmod=600 f /f\nADD f /g\nRUN true\n',
    files: { f: 'F' },
    expect: { v: 'file 644 0:0 "1\\n"', f: 'file 600 1000:1000 "F"', g: 'file 644 0:0 "F"' },
    history: [
      'ARG V=1 (empty)',
      'RUN |1 V=1 /bin/sh -c echo $V > /v # buildkit',
      'COPY --chown=www --chmod=600 f /f # buildkit',
      'ADD f /g # buildkit',
      'RUN |1 V=1 /bin/sh -c true # buildkit (empty)',
    ],
  },
  {
    name: 'HEALTHCHECK in the config: durations in ns, zero fields omitted as BuildKit (omitempty) writes them',
    dockerfile: 'FROM busybox\nHEALTHCHECK --interval=30s --timeout=5s --start-period=1s --retries=4 CMD wget -q -O- localhost || exit 1\n',
    config: { Healthcheck: { Test: ['CMD-SHELL', 'wget -q -O- localhost || exit 1'], Interval: 30e9, Timeout: 5e9, StartPeriod: 1e9, Retries: 4 } },
  },
  {
    name: 'HEALTHCHECK NONE disables the base image\'s check',
    pre: [{ tag: 'withhc:1', dockerfile: 'FROM busybox\nHEALTHCHECK CMD true\n' }],
    dockerfile: 'FROM withhc:1\nHEALTHCHECK NONE\n',
    config: { Healthcheck: { Test: ['NONE'] } },
  },
  {
    name: 'ENTRYPOINT resets an inherited CMD; shell forms are wrapped with SHELL',
    pre: [{ tag: 'withcmd:1', dockerfile: 'FROM busybox\nCMD ["base-cmd"]\n' }],
    dockerfile: `FROM withcmd:1
SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
ENTRYPOINT exec echo hi
`,
    config: { Entrypoint: ['/bin/ash', '-eo', 'pipefail', '-c', 'exec echo hi'], Cmd: undefined, Shell: ['/bin/ash', '-eo', 'pipefail', '-c'] },
  },
  {
    name: 'CMD before ENTRYPOINT in the same stage is kept; CMD shell form with the default shell',
    pre: [{ tag: 'withcmd:2', dockerfile: 'FROM busybox\nCMD ["base-cmd"]\n' }],
    dockerfile: 'FROM withcmd:2\nCMD echo "$HOME"\nENTRYPOINT ["/bin/env"]\n',
    config: { Entrypoint: ['/bin/env'], Cmd: ['/bin/sh', '-c', 'echo "$HOME"'] },
  },
  {
    name: 'ONBUILD triggers of a base image run at FROM (RUN and COPY from the child context), not inherited',
    pre: [{ tag: 'onbuild:1', dockerfile: 'FROM busybox\nONBUILD RUN echo triggered > /onbuild\nONBUILD COPY child.txt /from-child\nRUN echo parent > /parent\n' }],
    dockerfile: 'FROM onbuild:1\nRUN cat /onbuild /from-child > /check\n',
    files: { 'child.txt': 'child\n' },
    expect: {
      parent: 'file 644 0:0 "parent\\n"',
      onbuild: 'file 644 0:0 "triggered\\n"',
      'from-child': 'file 644 0:0 "child\\n"',
      check: 'file 644 0:0 "triggered\\nchild\\n"',
    },
    config: { OnBuild: undefined },
  },
];

before(async () => {
  dir = tempDir('instructions');
  root = join(dir, 'root');
  const imported = await jettison(root, [], ['import', await busyboxRootfs(), 'busybox:latest']);
  assert.equal(imported.code, 0, show(imported));

  // An HTTP server for ADD URL cases.
  const archive = join(dir, 'archive.tar.gz');
  writeTree(dir, { 'archive.tar.gz': { tar: { 'in.txt': 'in' }, compress: 'gzip' } });
  const archiveData = readFileSync(archive);
  server = createServer((req, res) => {
    if (req.url === '/files/remote.txt') {
      res.writeHead(200, { 'Last-Modified': LAST_MODIFIED, 'Content-Type': 'text/plain' });
      res.end(REMOTE);
    } else if (req.url === '/files/archive.tar.gz') {
      res.writeHead(200, { 'Content-Type': 'application/gzip' });
      res.end(archiveData);
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  http = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // A bare git repository: tag v1 (a.txt = one), then main (a.txt = two, sub/b.txt, an executable).
  const work = join(dir, 'git-work');
  gitRepo = join(dir, 'repo.git');
  const git = (args: string[], cwd = work) =>
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'init.defaultBranch=main', ...args], { cwd });
  mkdirSync(work);
  git(['init', '-q']);
  writeFileSync(join(work, 'a.txt'), 'one\n');
  git(['add', '.']);
  git(['commit', '-q', '-m', 'one']);
  git(['tag', 'v1']);
  writeFileSync(join(work, 'a.txt'), 'two\n');
  mkdirSync(join(work, 'sub'));
  writeFileSync(join(work, 'sub', 'b.txt'), 'bee\n');
  writeFileSync(join(work, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  git(['add', '.']);
  git(['commit', '-q', '-m', 'two']);
  git(['clone', '-q', '--bare', work, gitRepo], dir);
});

after(async () => {
  server?.close();
  if (dir) cleanupDir(dir);
});

describe('jettison build: instruction semantics (BuildKit behaviour)', () => {
  for (const c of cases) test(c.name, c.todo ? { todo: c.todo } : {}, () => runCase(c));

  test('COPY --link gives the same file system as COPY (every path, type, mode, owner, content)', async () => {
    const work = join(dir, 'link-compare');
    const files: Record<string, FileSpec> = { 'd/x': 'X', 'd/s/y': { content: 'Y', mode: 0o600 }, 'd/l': { link: 'x' }, f: 'F' };
    const body = (link: string) => `FROM busybox
RUN mkdir -p /app/keep && echo base > /app/keep/base
COPY ${link} d /app/
COPY ${link} --chown=1234:5678 f /app/owned
COPY ${link} --chmod=755 f /deep/new/exec
COPY ${link} d /app/keep
`;
    const outs: Record<string, string>[] = [];
    for (const link of ['--link', '']) {
      const ctx = join(work, `ctx${link}`);
      writeTree(ctx, { Dockerfile: body(link), ...files });
      const out = join(work, `out${link}`);
      const r = await jettison(root, [], ['build', '--progress', 'plain', '-o', `type=local,dest=${out}`, ctx]);
      assert.equal(r.code, 0, show(r));
      const tree = snapshotTree(out, { mtimes: false, xattrs: false });
      outs.push(Object.fromEntries(Object.entries(tree).filter(([p]) => /^(app|deep)(\/|$)/.test(p))));
    }
    // (A --link layer is made on scratch and carries the directories it creates, 0755 root: over a base whose
    // directory on the path had another mode or owner, that changes, in BuildKit too. Here they are 0755.)
    assert.ok(Object.keys(outs[0]).includes('app/owned'), 'the build wrote /app/owned');
    assert.equal(outs[0]['app/keep/base'], 'file 0644 size=5 sha=f34848ca92665c34 0:0', 'the base file is kept under the merged directory');
    assert.deepEqual(outs[0], outs[1]);
  });
});
