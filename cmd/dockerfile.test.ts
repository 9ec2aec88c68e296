// The Dockerfile, checked statically (no container engine here): it parses and passes
// dockerfile-utils' validator; the build stage copies every source folder the TypeScript build
// compiles and runs npm scripts that exist; the runtime stage holds what flowscope reads at run
// time, no compiler, runs as the non-root uid the manifests' pods use, and starts flowscope.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerfileParser, type Copy, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { DEFAULT_MANIFEST_OPTIONS, renderObjects } from './manifests/render.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TEXT = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

interface Stage {
  from: string;
  name: string | null;
  instructions: Instruction[];
}

function stages(): Stage[] {
  const out: Stage[] = [];
  for (const i of DockerfileParser.parse(TEXT).getInstructions()) {
    if (i.getKeyword() === 'FROM') {
      const args = i.getArguments().map((a) => a.getValue());
      out.push({ from: args[0], name: args[2] ?? null, instructions: [] });
    } else if (out.length > 0) out[out.length - 1].instructions.push(i);
  }
  return out;
}

function args(i: Instruction): string[] {
  return i.getArguments().map((a) => a.getValue());
}

/** COPY's sources (everything but the destination and --flags). */
function copySources(i: Instruction): string[] {
  const a = args(i).filter((x) => !x.startsWith('--'));
  return a.slice(0, -1).map((s) => s.replace(/\/$/, ''));
}

function ignored(): string[] {
  return readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

test('Dockerfile: parses and has no validator diagnostics', () => {
  assert.deepEqual(
    validate(TEXT).map((d) => `${d.range.start.line + 1}: ${d.message}`),
    [],
  );
  const s = stages();
  assert.equal(s.length, 2, 'a build stage and a runtime stage');
  assert.equal(s[0].name, 'build');
});

test('Dockerfile: the build stage copies every compiled source folder from the context, none of it ignored', () => {
  const [build] = stages();
  const copied = build.instructions.filter((i) => i.getKeyword() === 'COPY').flatMap(copySources);
  const include = (JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] }).include.map((g) => g.split('/')[0]);
  for (const folder of include) assert.ok(copied.includes(folder), `build stage copies ${folder}/ (tsconfig.json compiles it)`);
  for (const f of ['package.json', 'package-lock.json', 'binding.gyp', 'tsconfig.json', 'bin', 'scripts', 'collector/bpf', 'collector/perf/native']) {
    assert.ok(copied.includes(f), `build stage copies ${f}`);
  }
  const ignore = ignored();
  for (const src of copied) {
    assert.ok(existsSync(path.join(ROOT, src)), `${src} exists in the build context`);
    assert.ok(!ignore.includes(src.split('/')[0]), `${src} is not excluded by .dockerignore`);
  }
  // The generated output is rebuilt inside the image, never taken from a checkout.
  for (const out of ['node_modules', 'dist', 'build']) assert.ok(ignore.includes(out), `.dockerignore excludes ${out}`);
  const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const runs = build.instructions.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent() ?? '');
  for (const r of runs) for (const m of r.matchAll(/npm run ([\w:-]+)/g)) assert.ok(m[1] in scripts, `npm run ${m[1]} is a package.json script`);
  assert.ok(runs.some((r) => /npm run build:kernel/.test(r)) && runs.some((r) => /npm run build\b(?!:)/.test(r)), 'builds the kernel parts and the TypeScript');
});

test('Dockerfile: the runtime stage has what flowscope reads at run time, no compiler, a non-root user, and starts flowscope', () => {
  const [, run] = stages();
  const keyword = (k: string): Instruction[] => run.instructions.filter((i) => i.getKeyword() === k);
  const copies = keyword('COPY');
  for (const c of copies) assert.equal((c as Copy).getFromFlag()?.getValue(), 'build', 'runtime files come from the build stage');
  const copied = copies.flatMap(copySources).map((s) => s.replace(/^\/src\//, ''));
  // package.json: version and package root; binding.gyp: the addon's package root (collector/perf/native.ts);
  // build/: addon and BPF objects; proto/: loaded at run time; dashboards: `flowscope manifests`.
  for (const f of ['package.json', 'binding.gyp', 'node_modules', 'build', 'dist', 'bin', 'proto', 'dashboards/grafana', 'dashboards/alerts']) {
    assert.ok(copied.includes(f), `runtime stage has ${f}`);
  }
  const installs = keyword('RUN')
    .map((i) => i.getArgumentsContent() ?? '')
    .join(' ');
  for (const tool of ['clang', 'gcc', 'llvm', 'make', 'libbpf-dev']) assert.ok(!new RegExp(`\\b${tool}\\b`).test(installs), `no ${tool} at run time`);
  for (const lib of ['libbpf1', 'libelf1', 'zlib1g']) assert.ok(installs.includes(lib), `the addon's ${lib} is installed`);

  const user = keyword('USER');
  assert.equal(user.length, 1);
  const [uid, gid] = args(user[0])[0].split(':').map(Number);
  assert.ok(uid > 0, 'runs as a non-root uid');
  // The relay and API pods say which uid they run as; it must be the image's.
  for (const d of renderObjects({ ...DEFAULT_MANIFEST_OPTIONS, clickhouseUrl: 'http://ch:8123' }).filter((o) => o.kind === 'Deployment')) {
    const sc = (d as unknown as { spec: { template: { spec: { securityContext: { runAsUser: number; runAsGroup: number } } } } }).spec.template.spec
      .securityContext;
    assert.deepEqual([sc.runAsUser, sc.runAsGroup], [uid, gid], `${d.metadata.name} runs as the image's user`);
  }

  const workdir = args(keyword('WORKDIR')[0])[0];
  const entry = JSON.parse(keyword('ENTRYPOINT')[0].getArgumentsContent() ?? '') as string[];
  assert.equal(entry[0], 'node');
  assert.equal(path.posix.relative(workdir, entry[1]), 'bin/flowscope.js', 'ENTRYPOINT runs the flowscope executable');
  assert.ok(existsSync(path.join(ROOT, 'bin/flowscope.js')));
});
