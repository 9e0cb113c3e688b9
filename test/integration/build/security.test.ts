/**
 * `jettison build` keeps secrets and the host safe: a secret (file or environment variable) mounted into a RUN
 * is in no blob, cache record, log or export; COPY never reads outside the build context (symlinks to host
 * paths, `../` paths), and COPY --from never follows a stage's symlinks out of the stage's root.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BaseImages } from '../../support/base-images.ts';
import { copyFixture, grepTree, jettison, show, withBaseImages } from '../../fixtures/build/harness.ts';

let base: BaseImages;
let dir: string;

withBaseImages('security', (b, d) => {
  base = b;
  dir = d;
});

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

test('secrets from a file and from the environment are used but appear in no blob, cache, log or export', { timeout: 5 * 60_000 }, async () => {
  const work = join(dir, 'secret');
  mkdirSync(work);
  const root = join(work, 'root');
  const ctx = copyFixture('secret', join(work, 'ctx'));
  const fileSecret = `file-secret-${randomBytes(16).toString('hex')}`;
  const envSecret = `env-secret-${randomBytes(16).toString('hex')}`;
  const secretFile = join(work, 'tok.txt');
  writeFileSync(secretFile, fileSecret, { mode: 0o600 });
  const secretArgs = ['--secret', `id=tok,src=${secretFile}`, '--secret', 'id=envtok,env=JT_TEST_TOKEN'];
  const env = { JT_TEST_TOKEN: envSecret };
  const outputs: string[] = [];
  const ok = async (args: string[]) => {
    const r = await jettison(root, base.mirrorArgs, ['build', ...secretArgs, ...args, ctx], { env });
    outputs.push(r.stdout, r.stderr);
    assert.equal(r.code, 0, show(r));
    return r;
  };
  await ok(['--progress', 'plain', '-t', 'sec:1', '--metadata-file', join(work, 'meta.json')]);
  await ok(['--progress', 'json', '--no-cache', '-t', 'sec:2']);
  const oci = join(work, 'sec.oci.tar');
  await ok(['--progress', 'plain', '-o', `type=oci,dest=${oci}`]);
  const local = join(work, 'local');
  await ok(['--progress', 'plain', '-o', `type=local,dest=${local}`]);

  // The RUNs did see the secrets: the image holds their hashes.
  const ran = await jettison(root, [], ['run', '--rm', 'sec:1']);
  assert.equal(ran.stdout, `${sha256(fileSecret)}\n${sha256(envSecret)}\n${sha256(envSecret)}\n`, show(ran));
  assert.ok(!existsSync(join(local, 'run', 'secrets', 'tok')), 'the secret mount point is not in the image');
  assert.ok(!existsSync(join(local, 'etc', 'envtok')), 'the secret mount point is not in the image');

  const ociDir = join(work, 'oci');
  mkdirSync(ociDir);
  execFileSync('tar', ['-xf', oci, '-C', ociDir]);
  for (const [where, tree] of [['store (blobs, refs, cache records, worker state, cache mounts)', root], ['OCI export', ociDir], ['local export', local], ['metadata file', join(work, 'meta.json')]] as const) {
    const inTree = tree.endsWith('.json') ? { hits: readFileSync(tree, 'utf8').includes(fileSecret) ? [tree] : [], files: 1 } : grepTree(tree, fileSecret);
    assert.ok(inTree.files > 0, `${where}: searched nothing`);
    assert.deepEqual(inTree.hits, [], `the file secret is in the ${where}`);
    if (!tree.endsWith('.json')) assert.deepEqual(grepTree(tree, envSecret).hits, [], `the env secret is in the ${where}`);
  }
  // Control: the search finds what a layer holds, in the store's (uncompressed) layers and inside the OCI
  // export's gzip-compressed ones (the hash the RUN wrote).
  assert.ok(grepTree(join(root, 'blobs'), sha256(fileSecret)).hits.length > 0, 'grep finds what a stored layer holds');
  assert.ok(grepTree(ociDir, sha256(fileSecret)).hits.length > 0, 'grep finds what a compressed layer holds');
  for (const out of outputs) {
    assert.ok(!out.includes(fileSecret) && !out.includes(envSecret), 'a secret is in the build output');
  }
});

describe('COPY from the build context stays inside it', () => {
  let work: string;
  let root: string;
  let token: string;
  const hostPasswd = readFileSync('/etc/passwd', 'utf8');

  before(() => {
    work = join(dir, 'context-escape');
    root = join(work, 'root');
    const outside = join(work, 'outside');
    mkdirSync(outside, { recursive: true });
    token = `outside-token-${randomBytes(12).toString('hex')}`;
    writeFileSync(join(outside, 'token.txt'), `${token}\n`);
    for (const name of ['plain', 'fake-etc']) {
      const ctx = join(work, name);
      mkdirSync(ctx);
      writeFileSync(join(ctx, 'inside.txt'), 'inside\n');
      writeFileSync(join(ctx, 'my-notes.txt'), 'notes\n');
      symlinkSync('/etc/passwd', join(ctx, 'abs-passwd'));
      symlinkSync(join(outside, 'token.txt'), join(ctx, 'abs-outside'));
      symlinkSync('../outside/token.txt', join(ctx, 'rel-outside'));
      symlinkSync(outside, join(ctx, 'dir-outside'));
    }
    // A context with its own etc/passwd: a symlink to /etc/passwd resolves to it (BuildKit scopes to the context).
    mkdirSync(join(work, 'fake-etc', 'etc'));
    writeFileSync(join(work, 'fake-etc', 'etc', 'passwd'), 'context passwd\n');
  });

  // [name, context, COPY line, what BuildKit does: 'not found', the content of /got, or 'safe' (the security
  // checks, and the build either works or fails with "not found": the matched symlinks may be copied as links)]
  const cases: [string, 'plain' | 'fake-etc', string, 'not found' | 'safe' | string][] = [
    ['a symlink to /etc/passwd', 'plain', 'COPY abs-passwd /got', 'not found'],
    ['../../etc/passwd', 'plain', 'COPY ../../etc/passwd /got', 'not found'],
    ['a symlink to a host file outside the context', 'plain', 'COPY abs-outside /got', 'not found'],
    ['a relative symlink out of the context', 'plain', 'COPY rel-outside /got', 'not found'],
    ['a file below a symlink to a host dir', 'plain', 'COPY dir-outside/token.txt /got', 'not found'],
    ['../outside/token.txt', 'plain', 'COPY ../outside/token.txt /got', 'not found'],
    ['a wildcard over the symlinks', 'plain', 'COPY *-outside /got/', 'safe'],
    ['ADD of a symlink to a host file', 'plain', 'ADD abs-outside /got', 'not found'],
    ['a wildcard with a dash matching a file inside (control)', 'plain', 'COPY my-*.txt /got', 'notes\n'],
    ['a symlink to /etc/passwd, context has etc/passwd', 'fake-etc', 'COPY abs-passwd /got', 'context passwd\n'],
    ['../../etc/passwd, context has etc/passwd', 'fake-etc', 'COPY ../../etc/passwd /got', 'context passwd\n'],
  ];
  for (const [name, ctxName, line, expected] of cases) {
    test(`${line} (${name})`, async () => {
      const caseDir = join(work, 'cases', name.replace(/[^a-z0-9]+/gi, '-'));
      mkdirSync(caseDir, { recursive: true });
      const dockerfile = join(caseDir, 'Dockerfile');
      writeFileSync(dockerfile, `FROM busybox\n${line}\n`);
      const out = join(caseDir, 'out');
      const ctx = join(work, ctxName);
      const r = await jettison(root, base.mirrorArgs, ['build', '--progress', 'plain', '-f', dockerfile, '-o', `type=local,dest=${out}`, ctx]);
      // Security first: whatever happened, nothing from outside the context was read.
      assert.ok(!(r.stdout + r.stderr).includes(token), 'the outside file was read');
      if (existsSync(out)) {
        assert.deepEqual(grepTree(out, token).hits, [], 'the outside file is in the output');
        const got = join(out, 'got');
        if (existsSync(got) && lstatSync(got).isFile()) assert.notEqual(readFileSync(got, 'utf8'), hostPasswd, "the host's /etc/passwd was copied");
      }
      assert.deepEqual(grepTree(join(root, 'blobs'), token).hits, [], 'the outside file is in the store');
      // Then BuildKit's behaviour.
      if (expected === 'not found') {
        assert.notEqual(r.code, 0, show(r));
        assert.match(r.stderr + r.stdout, /not found/);
      } else if (expected === 'safe') {
        assert.ok(r.code === 0 || /not found/.test(r.stderr + r.stdout), show(r));
      } else {
        assert.equal(r.code, 0, show(r));
        assert.equal(readFileSync(join(out, 'got'), 'utf8'), expected);
      }
    });
  }

  test('COPY . copies the symlinks themselves, never their targets', async () => {
    const dockerfile = join(work, 'Dockerfile.all');
    writeFileSync(dockerfile, 'FROM busybox\nCOPY . /ctx/\n');
    const out = join(work, 'out-all');
    const r = await jettison(root, base.mirrorArgs, ['build', '--progress', 'plain', '-f', dockerfile, '-o', `type=local,dest=${out}`, join(work, 'plain')]);
    assert.equal(r.code, 0, show(r));
    assert.equal(readFileSync(join(out, 'ctx', 'inside.txt'), 'utf8'), 'inside\n');
    assert.equal(readlinkSync(join(out, 'ctx', 'abs-passwd')), '/etc/passwd');
    assert.equal(readlinkSync(join(out, 'ctx', 'rel-outside')), '../outside/token.txt');
    assert.equal(readlinkSync(join(out, 'ctx', 'dir-outside')), join(work, 'outside'));
    assert.deepEqual(grepTree(out, token).hits, []);
    assert.deepEqual(grepTree(join(root, 'blobs'), token).hits, []);
  });
});

describe('COPY --from=stage stays inside the stage', () => {
  let work: string;
  let root: string;
  let outside: string;
  let token: string;
  const hostPasswd = readFileSync('/etc/passwd', 'utf8');

  before(() => {
    work = join(dir, 'stage-escape');
    root = join(work, 'root');
    outside = join(work, 'outside');
    mkdirSync(outside, { recursive: true });
    token = `stage-token-${randomBytes(12).toString('hex')}`;
    writeFileSync(join(outside, 'token.txt'), `${token}\n`);
    mkdirSync(join(work, 'ctx'));
  });

  const stage = (copy: string) => `FROM busybox AS src
ARG OUTSIDE
RUN mkdir -p /data && echo inside > /data/file \\
 && ln -s "$OUTSIDE/token.txt" /data/abs \\
 && ln -s "../../../../../../../../..$OUTSIDE/token.txt" /data/rel \\
 && ln -s "$OUTSIDE" /data/dir \\
 && ln -s /etc/passwd /data/passwd
FROM busybox
${copy}
`;
  // [COPY line, what BuildKit does: 'not found', the content of /got, or 'links' (symlinks copied as they are)]
  const cases: [string, 'not found' | 'links' | ((busyboxPasswd: string) => string)][] = [
    ['COPY --from=src /data/abs /got', 'not found'],
    ['COPY --from=src /data/rel /got', 'not found'],
    ['COPY --from=src /data/dir/token.txt /got', 'not found'],
    // Resolved in the stage's root: the stage's own /etc/passwd, not the host's.
    ['COPY --from=src /data/passwd /got', (bb) => bb],
    ['COPY --from=src /data/ /got/', 'links'],
  ];
  for (const [line, expected] of cases) {
    test(line, async () => {
      const caseDir = join(work, 'cases', line.replace(/[^a-z0-9]+/gi, '-'));
      mkdirSync(caseDir, { recursive: true });
      const dockerfile = join(caseDir, 'Dockerfile');
      writeFileSync(dockerfile, stage(line));
      const out = join(caseDir, 'out');
      const r = await jettison(root, base.mirrorArgs, ['build', '--progress', 'plain', '--build-arg', `OUTSIDE=${outside}`, '-f', dockerfile, '-o', `type=local,dest=${out}`, join(work, 'ctx')]);
      assert.ok(!(r.stdout + r.stderr).includes(token), 'the host file was read');
      if (existsSync(out)) {
        assert.deepEqual(grepTree(out, token).hits, [], 'the host file is in the output');
        const got = join(out, 'got');
        if (existsSync(got) && lstatSync(got).isFile()) assert.notEqual(readFileSync(got, 'utf8'), hostPasswd, "the host's /etc/passwd was copied");
      }
      assert.deepEqual(grepTree(join(root, 'blobs'), token).hits, [], 'the host file is in the store');
      if (expected === 'not found') {
        assert.notEqual(r.code, 0, show(r));
        assert.match(r.stderr + r.stdout, /not found/);
      } else if (expected === 'links') {
        assert.equal(r.code, 0, show(r));
        assert.equal(readFileSync(join(out, 'got', 'file'), 'utf8'), 'inside\n');
        assert.equal(readlinkSync(join(out, 'got', 'abs')), `${outside}/token.txt`);
        assert.equal(readlinkSync(join(out, 'got', 'dir')), outside);
        assert.equal(readlinkSync(join(out, 'got', 'passwd')), '/etc/passwd');
      } else {
        assert.equal(r.code, 0, show(r));
        const busyboxPasswd = readFileSync(join(out, 'etc', 'passwd'), 'utf8');
        assert.match(busyboxPasswd, /^www:x:1000:1000:/m, 'the busybox image has its own passwd');
        assert.equal(readFileSync(join(out, 'got'), 'utf8'), expected(busyboxPasswd));
      }
    });
  }
});
