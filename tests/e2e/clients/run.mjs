#!/usr/bin/env node
// End-to-end tests with the real coding-agent CLIs from npm (issue 7): Claude Code (`claude -p`), Codex
// (`codex exec`) and OpenCode (`opencode run`), each in a temporary HOME that `understudy connect <client>` points
// at the real headless proxy. The proxy's chain starts with a mock provider that answers 429/529 and falls over
// to a mock of another dialect, which plays a model that calls one of the agent's own tools (read a file holding
// a random canary) and, once it sees the tool's result, answers with a marker and the canary.
//
//   node run.mjs --binary path/to/understudy --client claude-code|codex|opencode [--verbose] [--dump DIR]
//
// --verbose prints the CLI's whole output, the tools each upstream request offered and the proxy's events;
// --dump writes every upstream request (headers and body) to DIR/<n>.json.
//
// Checks: the CLI exits 0 and prints the marker with the canary (so the tool really ran on the client's side and
// its result went through the proxy to the fallback), the primary was tried first, the fallback got the request
// in its own dialect, the proxy detected the client from its User-Agent, and `connect --undo` puts the client's
// settings file back byte for byte. The proxy requires an access token: a request without it gets 401, and the
// CLI gets through with only what `connect` wrote into its settings (the token reaches no upstream).
//
// Exit 0 when it passes, 1 when it fails, 77 (CTest SKIP_RETURN_CODE) when the CLI is not installed in
// tests/e2e/clients/node_modules (scripts/setup installs it when the npm registry is reachable).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { AgentUpstream, MARKER } from './agent-upstream.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const SKIP = 77;
const CLI_TIMEOUT_MS = 120000;
const UPSTREAM_KEY = 'e2e-upstream-key-not-a-real-one';
const CLIENT_KEY = 'e2e-client-key-not-a-real-one';
// The proxy requires an access token (listen.accessToken); `understudy connect` writes it into the client.
const ACCESS_TOKEN = 'e2e-fake-secret-access-token-0006';
const FALLBACK_MODEL = 'mock-fallback-model';

// Per client: its npm package, where connect writes, what the user had there before, the chain the proxy runs
// (a failing primary in one dialect, the serving fallback in an OpenAI one), the tool the mock model calls and
// how to run the CLI headless.
const CLIENTS = {
  'claude-code': {
    pkg: '@anthropic-ai/claude-code',
    bin: 'claude',
    settings: (home) => join(home, '.claude', 'settings.json'),
    before: '{\n  "theme": "dark",\n  "env": { "DISABLE_AUTOUPDATER": "1" }\n}\n',
    primary: { type: 'anthropic', fail: 529 },
    fallback: { type: 'openai-chat' },
    tools: (work) => ({ Read: { file_path: join(work, 'canary.txt') } }),
    args: (prompt) => ['-p', prompt, '--allowedTools', 'Read', '--output-format', 'text'],
    env: () => ({
      ANTHROPIC_API_KEY: CLIENT_KEY, DISABLE_TELEMETRY: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1', DISABLE_ERROR_REPORTING: '1',
    }),
  },
  codex: {
    pkg: '@openai/codex',
    bin: 'codex',
    settings: (home) => join(home, '.codex', 'config.toml'),
    before: '# the user\'s own settings stay as they are\nmodel_reasoning_effort = "low"\n\n[history]\npersistence = "none"\n',
    primary: { type: 'openai-responses', fail: 429 },
    fallback: { type: 'openai-chat' },
    tools: (work) => ({ exec_command: { cmd: 'cat canary.txt', workdir: work } }),
    args: (prompt, work) => ['exec', '-m', 'gpt-5.5', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', '--color', 'never',
      '-C', work, prompt],
    env: () => ({}),
  },
  opencode: {
    pkg: 'opencode-ai',
    bin: 'opencode',
    settings: (home) => join(home, '.config', 'opencode', 'opencode.json'),
    before: '{\n  "$schema": "https://opencode.ai/config.json",\n  "autoupdate": false,\n  "share": "disabled"\n}\n',
    primary: { type: 'anthropic', fail: 429 },
    fallback: { type: 'openai-responses' },
    tools: (work) => ({ read: { filePath: join(work, 'canary.txt') } }),
    args: (prompt) => ['run', '-m', 'anthropic/claude-sonnet-4-5', prompt],
    env: () => ({
      ANTHROPIC_API_KEY: CLIENT_KEY, OPENCODE_DISABLE_MODELS_FETCH: '1', OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_DEFAULT_PLUGINS: '1', OPENCODE_DISABLE_LSP_DOWNLOAD: '1', OPENCODE_DISABLE_SHARE: '1',
    }),
  },
};

function parseArgs(argv) {
  const opts = { binary: null, client: null, verbose: false, dump: null };
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--binary') opts.binary = resolve(argv[++i]);
    else if (argv[i] === '--client') opts.client = argv[++i];
    else if (argv[i] === '--verbose') opts.verbose = true;
    else if (argv[i] === '--dump') opts.dump = resolve(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]} (usage: run.mjs --binary FILE --client NAME [--verbose] [--dump DIR])`);
  }
  if (!opts.binary || !CLIENTS[opts.client])
    throw new Error(`usage: run.mjs --binary FILE --client ${Object.keys(CLIENTS).join('|')} [--verbose] [--dump DIR]`);
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const client = CLIENTS[opts.client];
const pkgJson = join(here, 'node_modules', client.pkg, 'package.json');
const cli = join(here, 'node_modules', '.bin', client.bin);
if (!existsSync(pkgJson) || !existsSync(cli)) {
  console.log(`SKIP: ${client.pkg} is not installed in tests/e2e/clients/node_modules; run scripts/setup with the npm ` +
    'registry reachable (or: cd tests/e2e/clients && npm install --no-audit --no-fund)');
  process.exit(SKIP);
}
const cliVersion = JSON.parse(readFileSync(pkgJson, 'utf8')).version;

// ---------------------------------------------------------------------------------------------------------------
// Processes

// The variables that would point a client somewhere other than where connect pointed it, or at the user's own
// files, are not passed on: the test must show that the settings file alone does the job.
function cleanEnv(home, extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(ANTHROPIC_|OPENAI_|CODEX_|OPENCODE_|CLAUDE_|XDG_)/.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'), XDG_STATE_HOME: join(home, '.local', 'state'), CI: 'true', NO_COLOR: '1',
    TERM: 'dumb', ...extra,
  };
}

// Runs a command to its end (or kills it after `timeoutMs`); stdin is closed, as in CI.
function run(command, args, { env, cwd, timeoutMs }) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(command, args, { env: { ...env, PWD: cwd }, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    // The whole process group: the CLIs start helpers (shells, servers) of their own.
    const timer = setTimeout(() => { timedOut = true; try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    child.on('error', (e) => { stderr += String(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* the group is gone */ }
      resolve({ code, signal, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

class ProxyProcess {
  constructor(binary, configFile, env) {
    this.lines = [];
    this.exited = null;
    this.child = spawn(binary, ['--headless', '--config', configFile, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.child.on('exit', (code, signal) => { this.exited = { code, signal }; });
    this.child.stdout.setEncoding('utf8').on('data', (d) => this.#log(d));
    this.port = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`understudy did not say where it listens within 10 s:\n${this.tail()}`)), 10000);
      this.child.stderr.setEncoding('utf8').on('data', (d) => {
        this.#log(d);
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(this.lines.join('\n'));
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      this.child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`understudy exited (code ${code}, signal ${signal}) before listening:\n${this.tail()}`));
      });
    });
  }

  #log(data) { this.lines.push(...data.split('\n').filter(Boolean)); }

  // The JSON events of one type the proxy logged on stderr.
  events(type) {
    return this.lines.filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l); } catch { return null; } })
      .filter((e) => e?.type === type);
  }

  // The proxy logs a request when it has finished answering it, so its line can come after the client is done.
  async waitForEvents(type, accept, count, timeoutMs = 3000) {
    const deadline = Date.now() + timeoutMs;
    while (this.events(type).filter(accept).length < count && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    return this.events(type).filter(accept);
  }

  tail(n = 25) { return this.lines.slice(-n).map((l) => `    | ${l}`).join('\n'); }

  async stop() {
    if (this.exited) return;
    const done = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await done;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------------

function buildConfig(mock) {
  const { primary, fallback } = client;
  return {
    version: 1,
    listen: { host: '127.0.0.1', port: 8790, accessToken: 'env:E2E_ACCESS_TOKEN' },
    providers: {
      primary: { type: primary.type, baseUrl: mock.baseUrl('primary', primary.type), apiKey: 'env:E2E_UPSTREAM_KEY' },
      fallback: { type: fallback.type, baseUrl: mock.baseUrl('fallback', fallback.type), apiKey: 'env:E2E_UPSTREAM_KEY' },
    },
    chains: { e2e: { steps: [{ provider: 'primary' }, { provider: 'fallback', model: FALLBACK_MODEL }] } },
    activeChain: 'e2e',
    failover: { connectTimeoutMs: 2000, firstTokenTimeoutMs: 10000, streamIdleTimeoutMs: 10000, totalBudgetMs: 30000 },
  };
}

function report(title, result) {
  console.log(`  ${title}: exit ${result.code}${result.signal ? ` (${result.signal})` : ''} in ${result.ms} ms` +
    `${result.timedOut ? ' — killed after the time limit' : ''}`);
  const show = (name, text) => {
    const lines = text.trim().split('\n').filter(Boolean);
    if (lines.length) console.log(`  ${name}:\n${lines.slice(opts.verbose ? -80 : -15).map((l) => `    | ${l}`).join('\n')}`);
  };
  show('stdout', result.stdout);
  show('stderr', result.stderr);
}

async function main() {
  const started = Date.now();
  if (opts.dump) mkdirSync(opts.dump, { recursive: true });
  const root = mkdtempSync(join(tmpdir(), `understudy-e2e-${opts.client}-`));
  const home = join(root, 'home');
  const work = join(root, 'work');
  mkdirSync(work, { recursive: true });
  const canary = `canary-${randomBytes(8).toString('hex')}`;
  writeFileSync(join(work, 'canary.txt'), `${canary}\n`);
  // The client looks installed (its settings folder exists) and the user has settings of their own.
  const settings = client.settings(home);
  mkdirSync(dirname(settings), { recursive: true });
  writeFileSync(settings, client.before);

  const mock = await new AgentUpstream().start();
  mock.script('primary', { fail: client.primary.fail }).script('fallback', { agent: { tools: client.tools(work) } });
  const configFile = join(root, 'understudy.json');
  writeFileSync(configFile, JSON.stringify(buildConfig(mock), null, 2));
  const env = cleanEnv(home, { E2E_UPSTREAM_KEY: UPSTREAM_KEY, E2E_ACCESS_TOKEN: ACCESS_TOKEN, QT_QPA_PLATFORM: 'offscreen' });
  const proxy = new ProxyProcess(opts.binary, configFile, env);
  let ok = false;
  try {
    const port = await proxy.port;
    const url = `http://127.0.0.1:${port}`;
    console.log(`e2e ${opts.client}: ${client.pkg} ${cliVersion}; node ${process.version}; understudy on ${url}; ` +
      `mock upstreams on 127.0.0.1:${mock.port}; primary ${client.primary.type} answers ${client.primary.fail}, ` +
      `fallback ${client.fallback.type}`);

    // Without the token the proxy refuses, before any upstream is asked.
    const refused = await fetch(`${url}/v1/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': CLIENT_KEY },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(refused.status, 401, 'a request without the access token is refused');
    assert.equal(mock.requests.length, 0, 'the refused request reached no upstream');

    const connected = await run(opts.binary, ['connect', opts.client, '--url', url, '--config', configFile], { env, cwd: work, timeoutMs: 20000 });
    report(`understudy connect ${opts.client}`, connected);
    assert.equal(connected.code, 0, 'understudy connect succeeded');
    assert.ok(!(connected.stdout + connected.stderr).includes(ACCESS_TOKEN), 'connect did not print the token');
    const edited = readFileSync(settings, 'utf8');
    assert.ok(edited.includes(url), `${settings} names the proxy after connect:\n${edited}`);
    assert.ok(edited.includes(ACCESS_TOKEN), `${settings} has the access token after connect`);

    const prompt = 'Read the file canary.txt in the current directory and tell me what it says.';
    const result = await run(cli, client.args(prompt, work), { env: cleanEnv(home, client.env()), cwd: work, timeoutMs: CLI_TIMEOUT_MS });
    report(`${client.bin} (${result.ms} ms)`, result);
    for (const r of mock.requests)
{
      console.log(`  upstream got ${r.method} ${r.path} → ${r.status ?? '?'}${r.plan ? ` (${r.plan}${r.tool ? ` ${r.tool}` : ''})` : ''}`);
      if (opts.dump) writeFileSync(join(opts.dump, `${mock.requests.indexOf(r)}.json`), JSON.stringify(r, null, 1));
      if (opts.verbose) console.log(`    ${r.headers['user-agent']}; tools: ${(r.body?.tools ?? []).map((t) => t.name ?? t.function?.name ?? t.type).join(' ')}`);
    }
    if (opts.verbose) console.log(`  proxy stderr:\n${proxy.tail(60)}`);

    assert.ok(!result.timedOut, `${client.bin} finished within ${CLI_TIMEOUT_MS / 1000} s`);
    assert.equal(result.code, 0, `${client.bin} exit code`);
    assert.ok(result.stdout.includes(`${MARKER} ${canary}`),
      `${client.bin} printed the final answer with the canary (${MARKER} ${canary})`);

    const primary = mock.received('primary');
    const fallback = mock.received('fallback');
    assert.ok(primary.length >= 1, 'the primary was tried');
    assert.ok(primary.every((r) => r.status === client.primary.fail), `the primary answered ${client.primary.fail}`);
    const dialectOfType = { anthropic: 'anthropic', 'openai-chat': 'openai-chat', 'openai-responses': 'openai-responses' };
    assert.ok(primary.every((r) => r.dialect === dialectOfType[client.primary.type]), 'the primary got its own dialect');
    const call = fallback.find((r) => r.plan === 'call');
    const final = fallback.find((r) => r.plan === 'final');
    assert.ok(call, 'the fallback was asked with the agent\'s tools and answered with a tool call');
    assert.ok(final, 'the fallback got the tool result');
    assert.ok(final.toolResult.includes(canary), `the tool result the fallback saw holds the canary: ${JSON.stringify(final.toolResult)}`);
    assert.ok(fallback.every((r) => r.dialect === dialectOfType[client.fallback.type] && r.body.model === FALLBACK_MODEL),
      'the fallback got its own dialect and its model');
    assert.ok(mock.requests.indexOf(primary[0]) < mock.requests.indexOf(call), 'the primary was tried before the fallback');
    assert.ok(fallback.every((r) => r.headers.authorization === `Bearer ${UPSTREAM_KEY}`), 'the fallback got its own key');
    assert.ok(!JSON.stringify(mock.requests.map((r) => r.headers)).includes(CLIENT_KEY), 'the client\'s key went nowhere');
    assert.ok(!JSON.stringify(mock.requests).includes(ACCESS_TOKEN), 'the access token reached no upstream');

    const servedByFallback = (e) => e.servedBy === `fallback/${FALLBACK_MODEL}`;
    const served = await proxy.waitForEvents('request', servedByFallback, fallback.length);
    // (Codex hangs up at response.completed, often before the upstream's body has ended: served all the same.)
    assert.equal(served.length, fallback.length, 'the proxy logged each request the fallback served');
    assert.ok(served.every((e) => e.client === opts.client), `the proxy detected ${opts.client} from its User-Agent: ` +
      JSON.stringify(served.map((e) => e.client)));

    const undone = await run(opts.binary, ['connect', opts.client, '--undo'], { env, cwd: work, timeoutMs: 20000 });
    report(`understudy connect ${opts.client} --undo`, undone);
    assert.equal(undone.code, 0, 'understudy connect --undo succeeded');
    assert.equal(readFileSync(settings, 'utf8'), client.before, `${settings} is back to what the user had`);
    ok = true;
    console.log(`ok    ${opts.client}: ${client.bin} ${cliVersion} completed a tool round trip through the fallback ` +
      `(CLI ${result.ms} ms)`);
  } catch (e) {
    console.log(`FAIL  ${opts.client}: ${e?.message ?? e}`);
    if (!opts.verbose) console.log(`  proxy stderr (last lines):\n${proxy.tail(8)}`);
  } finally {
    await proxy.stop();
    await mock.stop();
    rmSync(root, { recursive: true, force: true });
  }
  console.log(`e2e ${opts.client}: ${ok ? 'passed' : 'failed'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(ok ? 0 : 1);
}

await main();
