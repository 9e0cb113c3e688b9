/**
 * Artifacts and build contexts with real files: the artifact cache, checksum verification of every
 * kind (path, url over a local HTTP server, plain from the cache), git module repositories (a local
 * bare repository and a file:// URL), and prepareContext writing what the Dockerfile's COPY lines use.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DigestMismatchError, JettisonError } from '../../../../src/errors.ts';
import { ArtifactCache, generate, prepareContext } from '../../../../src/frontend/cekit/index.ts';

let dir: string;
let server: Server;
let baseUrl: string;
let hits = 0;
const payload = 'downloaded artifact\n';
const sum = (algo: string, data: string) => createHash(algo).update(data).digest('hex');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jettison-cekit-ctx-'));
  server = createServer((req, res) => {
    hits++;
    if (req.url === '/app.jar') res.end(payload);
    else if (req.url === '/my.repo') res.end('[my]\nbaseurl=http://example.com\n');
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  baseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

function workspace(name: string, image: string, files: Record<string, string> = {}): string {
  const w = join(dir, name);
  mkdirSync(w, { recursive: true });
  writeFileSync(join(w, 'image.yaml'), image);
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(join(w, p, '..'), { recursive: true });
    writeFileSync(join(w, p), content);
  }
  return w;
}

test('cache add stores the file under its sha256 with an index of all four digests', async () => {
  const root = join(dir, 'root-add');
  const f = join(dir, 'some.bin');
  writeFileSync(f, 'hello');
  const cache = new ArtifactCache(root);
  const e = await cache.addFile(f);
  assert.equal(e.sha256, sum('sha256', 'hello'));
  assert.equal(e.md5, sum('md5', 'hello'));
  assert.equal(e.sha1, sum('sha1', 'hello'));
  assert.equal(e.sha512, sum('sha512', 'hello'));
  assert.equal(readFileSync(join(root, 'cekit', 'artifacts', e.sha256), 'utf8'), 'hello');
  assert.equal(cache.find({ md5: e.md5 })?.sha256, e.sha256);
  assert.equal(cache.find({ md5: e.md5, sha1: '0'.repeat(40) }), undefined, 'every given checksum must match');
  await cache.addFile(f);
  assert.equal(cache.entries().length, 1, 'adding twice keeps one entry');
});

test('path, url, plain artifacts are verified and written where the Dockerfile copies them from', async () => {
  const root = join(dir, 'root-ok');
  const cache = new ArtifactCache(root);
  writeFileSync(join(dir, 'plain.bin'), 'plain content');
  await cache.addFile(join(dir, 'plain.bin'));
  const w = workspace(
    'ok',
    `name: t
version: 1
from: busybox
artifacts:
  - path: files/local.txt
    sha1: ${sum('sha1', 'local\n')}
  - name: app
    url: ${baseUrl}/app.jar
    sha512: ${sum('sha512', payload)}
    target: app.jar
    dest: /opt/
  - name: plain
    sha256: ${sum('sha256', 'plain content')}
  - name: tree
    path: files/tree
packages:
  repositories:
    - name: my
      url:
        repository: ${baseUrl}/my.repo
`,
    { 'files/local.txt': 'local\n', 'files/tree/a/b.txt': 'b' },
  );
  const result = await generate(join(w, 'image.yaml'), { cacheDir: join(root, 'cekit'), displayRoot: w });
  const ctx = join(dir, 'ctx-ok');
  await prepareContext(result, ctx, { root });
  assert.match(result.dockerfile, /^COPY artifacts\/local\.txt\/local\.txt artifacts\/plain\/plain \/tmp\/artifacts\/$/m);
  assert.match(result.dockerfile, /^COPY artifacts\/app\/app\.jar \/opt\/$/m);
  assert.match(result.dockerfile, /^COPY artifacts\/tree\/tree \/tmp\/artifacts\/tree\/$/m);
  assert.match(result.dockerfile, /^COPY repos\/my\.repo \/etc\/yum\.repos\.d\/$/m);
  for (const line of result.dockerfile.split('\n').filter((l) => l.startsWith('COPY ') && !l.includes('--from'))) {
    for (const src of line.split(' ').slice(1, -1)) assert.ok(existsSync(join(ctx, src)), `${src} is in the context`);
  }
  assert.equal(readFileSync(join(ctx, 'artifacts/app/app.jar'), 'utf8'), payload);
  assert.equal(readFileSync(join(ctx, 'artifacts/plain/plain'), 'utf8'), 'plain content');
  assert.equal(readFileSync(join(ctx, 'artifacts/tree/tree/a/b.txt'), 'utf8'), 'b');
  assert.equal(readFileSync(join(ctx, 'Dockerfile'), 'utf8'), result.dockerfile);
  // The download went into the cache: a second context needs no request.
  const before = hits;
  await prepareContext(result, join(dir, 'ctx-ok-2'), { root });
  assert.equal(hits, before + 1, 'only the repository file is fetched again');
  assert.ok(new ArtifactCache(root).find({ sha512: sum('sha512', payload) }));
});

for (const algo of ['md5', 'sha1', 'sha256', 'sha512']) {
  test(`a ${algo} mismatch names the artifact, the expected and the actual digest`, async () => {
    const wrong = algo === 'md5' ? 'f'.repeat(32) : algo === 'sha1' ? 'f'.repeat(40) : algo === 'sha256' ? 'f'.repeat(64) : 'f'.repeat(128);
    const w = workspace(`bad-${algo}`, `name: t\nversion: 1\nfrom: busybox\nartifacts:\n  - name: broken\n    url: ${baseUrl}/app.jar\n    ${algo}: "${wrong}"\n`);
    const result = await generate(join(w, 'image.yaml'), { displayRoot: w });
    const root = join(dir, `root-bad-${algo}`);
    await assert.rejects(prepareContext(result, join(dir, `ctx-bad-${algo}`), { root }), (err: unknown) => {
      assert.ok(err instanceof DigestMismatchError);
      assert.match(err.message, new RegExp(`artifact 'broken' \\(image\\.yaml:5:5\\) \\(${algo}\\): digest mismatch: expected ${wrong}, got ${sum(algo, payload)}`));
      return true;
    });
    assert.equal(new ArtifactCache(root).entries().length, 0, 'nothing mismatched is cached');
    assert.ok(!existsSync(join(dir, `ctx-bad-${algo}`, 'artifacts/broken/app.jar')));
  });
}

test('a path artifact that does not match its checksum is refused', async () => {
  const w = workspace('bad-path', `name: t\nversion: 1\nfrom: busybox\nartifacts:\n  - path: f.txt\n    md5: ${'0'.repeat(31)}a\n`, { 'f.txt': 'x' });
  const result = await generate(join(w, 'image.yaml'), { displayRoot: w });
  await assert.rejects(prepareContext(result, join(dir, 'ctx-bad-path'), { root: join(dir, 'root-bad-path') }), DigestMismatchError);
});

test('a plain artifact missing from the cache is an error naming the checksum', async () => {
  const w = workspace('missing', `name: t\nversion: 1\nfrom: busybox\nartifacts:\n  - name: secret.zip\n    md5: ${'a'.repeat(32)}\n`);
  const result = await generate(join(w, 'image.yaml'), { displayRoot: w });
  await assert.rejects(prepareContext(result, join(dir, 'ctx-missing'), { root: join(dir, 'root-missing') }), (err: unknown) => {
    assert.ok(err instanceof JettisonError);
    assert.match(err.message, /artifact 'secret\.zip' \(image\.yaml:5:5\): not found in the artifact cache \(md5:a{32}\); add the file with `jettison cekit cache add FILE`/);
    return true;
  });
});

test('a missing path artifact is reported at generate time with its position', async () => {
  const w = workspace('nopath', 'name: t\nversion: 1\nfrom: busybox\nartifacts:\n  - path: nowhere.bin\n');
  await assert.rejects(generate(join(w, 'image.yaml'), { displayRoot: w }), /^SourceError: image\.yaml:5:5: key artifacts\[0\]\.path: artifact 'nowhere\.bin': nowhere\.bin does not exist$/);
});

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd, stdio: 'ignore' });
}

test('git module repositories: a local bare repository and a file:// URL, at a ref', async () => {
  const src = join(dir, 'git-src');
  mkdirSync(join(src, 'mods', 'hello'), { recursive: true });
  writeFileSync(join(src, 'mods', 'hello', 'module.yaml'), 'name: hello\nversion: 1.0\nexecute:\n  - script: run.sh\n');
  writeFileSync(join(src, 'mods', 'hello', 'run.sh'), 'echo v1\n');
  git(src, 'init', '-q');
  git(src, 'add', '.');
  git(src, 'commit', '-q', '-m', 'v1');
  git(src, 'tag', 'v1');
  writeFileSync(join(src, 'mods', 'hello', 'module.yaml'), 'name: hello\nversion: 2.0\nexecute:\n  - script: run.sh\n');
  git(src, 'commit', '-q', '-am', 'v2');
  const bare = join(dir, 'modules.git');
  execFileSync('git', ['clone', '-q', '--bare', src, bare]);

  for (const [label, url, ref, version] of [
    ['bare path', bare, 'v1', '1.0'],
    ['file URL', pathToFileURL(bare).href, 'main', '2.0'],
  ] as const) {
    const w = workspace(`git-${version}`, `name: t\nversion: 1\nfrom: busybox\nmodules:\n  repositories:\n    - git:\n        url: ${url}\n        ref: ${ref}\n  install:\n    - name: hello\n`);
    const root = join(dir, `root-git-${version}`);
    const result = await generate(join(w, 'image.yaml'), { cacheDir: join(root, 'cekit'), displayRoot: w });
    assert.match(result.dockerfile, new RegExp(`START module 'hello:${version.replace('.', '\\.')}'`), label);
    assert.match(result.dockerfile, /^COPY modules\/hello \/tmp\/scripts\/hello$/m);
    const ctx = join(dir, `ctx-git-${version}`);
    await prepareContext(result, ctx, { root });
    assert.equal(readFileSync(join(ctx, 'modules/hello/run.sh'), 'utf8'), 'echo v1\n');
    assert.ok(!existsSync(join(ctx, 'modules/hello/.git')));
  }

  const w = workspace('git-badref', `name: t\nversion: 1\nfrom: busybox\nmodules:\n  repositories:\n    - git:\n        url: ${bare}\n        ref: no-such-ref\n`);
  await assert.rejects(generate(join(w, 'image.yaml'), { cacheDir: join(dir, 'root-git-bad'), displayRoot: w }), /module repository 'modules': cannot clone .* at no-such-ref/);
});
