// The production install (docs/DEPLOYMENT.md "Install"): `make deb` builds the Debian
// package, which is inspected (control fields, contents, conffiles, maintainer scripts),
// unpacked into a scratch root where systemd-analyze verifies its unit offline and
// rates its hardening, and whose parleyd runs from there with the installed config;
// `make install DESTDIR=...` lays out the same files under PREFIX and keeps an existing
// config. Runs once (tests/run-all.sh stage "Debian package and make install"), not per
// build type. PARLEY_DEB=path skips the build and checks that package instead.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO, BIN_DIR, waitUntil } from '../integration/helpers.mjs';

const run = promisify(execFile);
const VERSION = /project\(parley VERSION ([0-9.]+)/.exec(readFileSync(path.join(REPO, 'CMakeLists.txt'), 'utf8'))[1];
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });

function get(port, p) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    }).on('error', reject);
  });
}

/** Starts an installed parleyd with its installed config, runs check(port), stops it. */
async function runInstalled(bin, conf, extra, check) {
  const child = spawn(bin, ['--config', conf, '--http', '127.0.0.1:0', '--media-port', '0', ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((r) => child.on('exit', (code) => r(code)));
  try {
    const port = await waitUntil(() => {
      if (child.exitCode !== null) throw new Error(`parleyd exited: ${stderr}`);
      return Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1] ?? 0);
    }, { timeout: 10000, what: 'the installed parleyd listening' });
    await check(port);
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `parleyd exit code; stderr:\n${stderr}`);
  }
}

describe('make deb', () => {
  let out, deb, root;
  before(async () => {
    out = mkdtempSync(path.join(os.tmpdir(), 'parley-deb-'));
    if (process.env.PARLEY_DEB) {
      deb = process.env.PARLEY_DEB;
    } else {
      const started = Date.now();
      const { stdout } = await run('make', ['-C', REPO, '--no-print-directory', 'deb', `DEB_DIR=${out}`], { maxBuffer: 64 << 20 });
      deb = stdout.trim().split('\n').pop();
      console.log(`make deb took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    assert.ok(existsSync(deb), `no package at ${deb}`);
    root = path.join(out, 'root');
    sh('dpkg', ['-x', deb, root]);
    mkdirSync(path.join(root, 'DEBIAN'));
    sh('dpkg', ['-e', deb, path.join(root, 'DEBIAN')]);
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  test('control: name, version from CMake, Depends from shlibs and adduser', () => {
    const info = sh('dpkg-deb', ['-I', deb]);
    assert.match(info, /^ Package: parley$/m);
    assert.match(info, new RegExp(`^ Version: ${VERSION.replace(/\./g, '\\.')}$`, 'm'));
    const depends = /^ Depends: (.*)$/m.exec(info)?.[1] ?? '';
    for (const lib of ['adduser', 'libc6', 'libh2o', 'libuv1', 'libssl3', 'libsrtp2', 'libopus0', 'libsqlite3', 'libjansson4', 'libcurl4', 'libc-ares2']) {
      assert.ok(depends.includes(lib), `Depends lacks ${lib}: ${depends}`);
    }
  });

  test('contents: programs, web client, config, data dir, unit, sysusers entry', () => {
    const list = sh('dpkg', ['--contents', deb]);
    const paths = list.split('\n').map((l) => l.split(/\s+/).slice(5).join(' ').replace(/^\./, '').replace(/ -> .*/, ''));
    for (const p of ['/usr/bin/parleyd', '/usr/bin/parleyctl', '/usr/bin/parley', '/usr/share/parley/web/index.html',
      '/usr/share/parley/web/app/main.js', '/usr/share/parley/web/app/app.css',
      '/etc/parley/parley.conf', '/usr/share/parley/parley.conf.example', '/var/lib/parley/',
      '/lib/systemd/system/parley.service', '/usr/lib/sysusers.d/parley.conf',
      '/usr/share/doc/parley/DEPLOYMENT.md']) {
      assert.ok(paths.includes(p), `${p} is not in the package:\n${list}`);
    }
    assert.ok(!paths.some((p) => /test_|bench|fuzz_/.test(p.split('/').pop())), 'no tests, benchmarks or fuzzers');
    assert.match(list, /^-rwxr-xr-x .* \.\/usr\/bin\/parleyd$/m);
  });

  test('conffiles: /etc/parley/parley.conf, with the installed paths', () => {
    assert.equal(readFileSync(path.join(root, 'DEBIAN/conffiles'), 'utf8').trim(), '/etc/parley/parley.conf');
    const conf = readFileSync(path.join(root, 'etc/parley/parley.conf'), 'utf8');
    assert.match(conf, /^data-dir = \/var\/lib\/parley$/m);
    assert.match(conf, /^web-dir = \/usr\/share\/parley\/web$/m);
  });

  test('maintainer scripts: the parley user, enabling the unit, purge', () => {
    const postinst = readFileSync(path.join(root, 'DEBIAN/postinst'), 'utf8');
    const postrm = readFileSync(path.join(root, 'DEBIAN/postrm'), 'utf8');
    for (const s of ['postinst', 'postrm', 'prerm']) sh('sh', ['-n', path.join(root, 'DEBIAN', s)]);
    assert.match(postinst, /adduser --system --group .*parley|adduser --system --group[^\n]*\\\n[^\n]*parley/);
    assert.match(postinst, /chown parley:parley \/var\/lib\/parley/);
    assert.match(postinst, /deb-systemd-helper .*enable.*parley\.service|deb-systemd-helper unmask 'parley\.service'/);
    assert.match(postinst, /deb-systemd-invoke (\$_dh_action|start|restart) 'parley\.service'/);
    assert.match(postrm, /purge[\s\S]*deluser --system --quiet parley/);
    assert.match(postrm, /rm -rf \/var\/lib\/parley/);
  });

  test('the unit: hardening as documented; systemd-analyze verify and security pass offline', () => {
    const unit = readFileSync(path.join(root, 'lib/systemd/system/parley.service'), 'utf8');
    for (const line of ['User=parley', 'ExecStart=/usr/bin/parleyd --config /etc/parley/parley.conf',
      'ExecReload=/bin/kill -HUP $MAINPID', 'Restart=on-failure', 'StateDirectory=parley',
      'ProtectSystem=strict', 'ReadWritePaths=/var/lib/parley', 'NoNewPrivileges=yes', 'PrivateTmp=yes',
      'ProtectHome=yes', 'ProtectKernelTunables=yes', 'ProtectKernelModules=yes', 'ProtectKernelLogs=yes',
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK', 'AmbientCapabilities=CAP_NET_BIND_SERVICE',
      'CapabilityBoundingSet=CAP_NET_BIND_SERVICE', 'LimitNOFILE=65536']) {
      assert.ok(unit.split('\n').includes(line), `the unit lacks "${line}"`);
    }
    // Offline: the scratch root gets the targets the unit's default dependencies name and
    // the /bin/kill of ExecReload, which the package does not ship.
    const units = path.join(root, 'lib/systemd/system');
    for (const f of readdirSync('/lib/systemd/system').filter((f) => f.endsWith('.target'))) {
      cpSync(path.join('/lib/systemd/system', f), path.join(units, f), { dereference: true });
    }
    mkdirSync(path.join(root, 'bin'), { recursive: true });
    cpSync('/bin/kill', path.join(root, 'bin/kill'));
    const verify = (() => {
      try {
        return { code: 0, out: sh('systemd-analyze', ['verify', `--root=${root}`, 'parley.service'], { stdio: ['ignore', 'pipe', 'pipe'] }) };
      } catch (e) {
        return { code: e.status, out: `${e.stdout}${e.stderr}` };
      }
    })();
    assert.equal(verify.code, 0, `systemd-analyze verify:\n${verify.out}`);
    assert.equal(verify.out.trim(), '', `systemd-analyze verify printed:\n${verify.out}`);
    // The exposure score (0 safest, 10 worst) stays where the unit put it: 1.6 "OK".
    const sec = sh('systemd-analyze', ['security', '--offline=true', `--root=${root}`, '--threshold=25', '--no-pager',
      '/lib/systemd/system/parley.service'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const score = Number(/Overall exposure level for parley\.service: ([0-9.]+)/.exec(sec)?.[1]);
    assert.ok(score <= 2.5, `exposure ${score}:\n${sec}`);
  });

  test('the installed parleyd runs: --version, the installed config, the web client', async () => {
    const bin = path.join(root, 'usr/bin/parleyd');
    assert.match(sh(bin, ['--version']), new RegExp(`^parleyd ${VERSION.replace(/\./g, '\\.')}( \\(git [^)]+\\))?\\n$`));
    assert.match(sh(path.join(root, 'usr/bin/parleyctl'), ['--version']), /^parleyctl /);
    assert.match(sh(path.join(root, 'usr/bin/parley'), ['--version']), /^parley /);
    const data = path.join(root, 'data');
    mkdirSync(data);
    // The web dir and data dir are the scratch root's; everything else as installed.
    await runInstalled(bin, path.join(root, 'etc/parley/parley.conf'),
      ['--data-dir', data, '--web-dir', path.join(root, 'usr/share/parley/web')], async (port) => {
        const page = await get(port, '/web/');
        assert.equal(page.status, 200);
        assert.match(page.text, /<html/i);
      });
  });
});

describe('make install DESTDIR=...', () => {
  let dest;
  before(() => { dest = mkdtempSync(path.join(os.tmpdir(), 'parley-install-')); });
  after(() => rmSync(dest, { recursive: true, force: true }));

  const install = () => run('make', ['-C', REPO, '--no-print-directory', 'install', `DESTDIR=${dest}`,
    `INSTALL_BUILD=${BIN_DIR}`, 'PREFIX=/usr/local'], { maxBuffer: 64 << 20 });

  test('lays out the files under PREFIX, /etc/parley and /var/lib/parley', async () => {
    await install();
    for (const p of ['usr/local/bin/parleyd', 'usr/local/bin/parleyctl', 'usr/local/bin/parley', 'usr/local/share/parley/web/index.html',
      'usr/local/share/parley/web/app/main.js',
      'usr/local/share/parley/parley.conf.example', 'etc/parley/parley.conf', 'var/lib/parley',
      'usr/local/lib/systemd/system/parley.service', 'usr/local/lib/sysusers.d/parley.conf']) {
      assert.ok(existsSync(path.join(dest, p)), `${p} was not installed`);
    }
    assert.ok(statSync(path.join(dest, 'var/lib/parley')).isDirectory());
    const unit = readFileSync(path.join(dest, 'usr/local/lib/systemd/system/parley.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/usr\/local\/bin\/parleyd --config \/etc\/parley\/parley\.conf$/m);
    const conf = readFileSync(path.join(dest, 'etc/parley/parley.conf'), 'utf8');
    assert.match(conf, /^web-dir = \/usr\/local\/share\/parley\/web$/m);
    assert.match(conf, /^data-dir = \/var\/lib\/parley$/m);
    assert.match(sh(path.join(dest, 'usr/local/bin/parleyd'), ['--version']), /^parleyd \d+\.\d+\.\d+/);
  });

  test('keeps an existing /etc/parley/parley.conf', async () => {
    const conf = path.join(dest, 'etc/parley/parley.conf');
    writeFileSync(conf, 'log-level = warn\n');
    const { stdout } = await install();
    assert.match(stdout, /Keeping existing: .*parley\.conf/);
    assert.equal(readFileSync(conf, 'utf8'), 'log-level = warn\n');
  });
});
