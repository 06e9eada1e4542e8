// Escape suite, files: denied files and directories (directly, through
// symlinks, through /proc), writes outside the grants (directly, through a
// workspace symlink, through hard links), device nodes, set-user-ID binaries,
// renaming a denied directory (or its parent) out of the way, a write grant
// swapped for a symlink between two runs, and a denied path that does not
// exist yet. Judged from outside: canary files never leak into the output or
// the workspace, files outside the grants keep their bytes, inode and link
// count, and the attempts are in the audit log under the persona's name.
import { chmodSync, copyFileSync, existsSync, lchownSync, lstatSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execsWith, filesContaining, makeVisibleHome, missing, mkdirs, own, put, runEnv, sandbox, sessionEvents, startRun, succeeded, testUsers, until, type Home } from './lib.js';

const CANARY_FILE = 'CANARY-FILE-4f1c9a';
const CANARY_DIR = 'CANARY-DIR-7b22e0';
const CANARY_NESTED = 'CANARY-NESTED-93ad1f';
const CANARY_LATE = 'CANARY-LATE-51e7c2';
const CANARY_ROTATED = 'CANARY-ROTATED-2c90bd';
const PUBLIC = 'PUBLIC-CONTROL-0d6a33';
const OUTSIDE = 'OUTSIDE-ORIGINAL-88f1';

for (const as of testUsers()) {
  describe(`files, as ${as.label}`, () => {
    let h: Home;
    let base: string;
    let ws: string;
    const canaries = [CANARY_FILE, CANARY_DIR, CANARY_NESTED];

    beforeAll(() => {
      h = makeVisibleHome(as);
      base = h.dir;
      ws = h.workspace;
      put(h, 'public.txt', PUBLIC);
      put(h, 'secret.txt', CANARY_FILE);
      put(h, 'secret-dir/canary.txt', CANARY_DIR);
      put(h, 'outside/existing.txt', OUTSIDE);
      put(h, 'ws/a/private/s.txt', CANARY_NESTED);
      mkdirs(h, h.path('ws', 'build'));
      for (const [name, target] of [['link-file', h.path('secret.txt')], ['link-dir', h.path('secret-dir')], ['link-out', h.path('outside')]] as const) {
        symlinkSync(target, h.path('ws', name));
        if (as.uid !== undefined) lchownSync(h.path('ws', name), as.uid, as.gid ?? as.uid);
      }
      // A set-user-ID root copy of `id` outside the grants: running it must not make anyone root.
      copyFileSync('/usr/bin/id', h.path('suid-id'));
      chmodSync(h.path('suid-id'), 0o4755);
      h.writePersona({
        name: 'filer',
        agent: 'shell',
        execution_mode: 'autonomous',
        filesystem: {
          write: ['{workspace}', '{workspace}/build'],
          read_deny: [h.path('secret.txt'), h.path('secret-dir'), '{workspace}/a/private', '{workspace}/notyet', h.path('late.txt'), h.path('rotated.txt')],
        },
      });
      h.writePersona({ name: 'wsonly', agent: 'shell', execution_mode: 'autonomous', filesystem: { write: ['{workspace}'] } });
    });

    afterAll(() => h.cleanup());

    it('cannot read a denied file or directory, directly, through symlinks, /proc or copies', async () => {
      const s = `
cat ${base}/public.txt; echo
t file cat ${base}/secret.txt
t dir_list sh -c 'ls -A ${base}/secret-dir | grep -q canary'
t dir_file cat ${base}/secret-dir/canary.txt
t link_file cat ${ws}/link-file
t link_dir cat ${ws}/link-dir/canary.txt
t nested cat ${ws}/a/private/s.txt
t nested_list sh -c 'ls -A ${ws}/a/private | grep -q s.txt'
ln -s ${base}/secret.txt ${ws}/own-link; t own_link cat ${ws}/own-link
ln -s ${base}/secret-dir ${ws}/own-dlink; t own_dlink cat ${ws}/own-dlink/canary.txt
t proc_root cat /proc/self/root${base}/secret.txt
t proc_root1 cat /proc/1/root${base}/secret-dir/canary.txt
t py python3 -c 'print(open("${base}/secret.txt").read())'
t cp cp ${base}/secret-dir/canary.txt ${ws}/copied.txt
t tar sh -c 'tar -C ${base} -cf - secret-dir secret.txt | tar -C ${ws} -xf -'
find ${base} -maxdepth 3 -name '*.txt' -exec cat {} + 2>/dev/null; echo
cat ${ws}/link-file ${ws}/link-dir/* ${ws}/a/private/* 2>&1
`;
      const r = await sandbox(h, 'filer', s);
      // Control: the base directory is visible, so the denials below are the sandbox's doing.
      expect(r.output).toContain(PUBLIC);
      for (const c of canaries) expect(r.output).not.toContain(c);
      const names = ['file', 'dir_list', 'dir_file', 'link_file', 'link_dir', 'nested', 'nested_list', 'own_link', 'own_dlink', 'proc_root', 'proc_root1', 'py', 'cp'];
      expect(missing(r, names)).toEqual([]);
      expect(succeeded(r, names)).toEqual([]);
      // Nothing of the canaries landed in the workspace (the nested canary's own file aside).
      for (const c of canaries) expect(filesContaining(ws, c).filter((f) => f !== 'a/private/s.txt')).toEqual([]);
      const events = await sessionEvents(h, r.session);
      expect(events.every((e) => e.persona === 'filer')).toBe(true);
      expect(execsWith(events, `${base}/secret.txt`).length).toBeGreaterThan(0);
      expect(execsWith(events, `${ws}/link-dir/canary.txt`).length).toBeGreaterThan(0);
    });

    it('cannot write outside its grants: directly, through workspace symlinks, hard links, device nodes', async () => {
      const before = lstatSync(h.path('outside', 'existing.txt'));
      const secretBefore = lstatSync(h.path('secret.txt'));
      const s = `
t new sh -c 'echo x > ${base}/outside/new.txt'
t append sh -c 'echo x >> ${base}/outside/existing.txt'
t etc sh -c 'echo x > /etc/personae-escape-test'
t ws_link sh -c 'echo x > ${ws}/link-out/via-link.txt'
ln -s ${base}/outside/existing.txt ${ws}/l2; t own_link sh -c 'echo x >> ${ws}/l2'
t hard_out ln ${base}/outside/existing.txt ${ws}/hard-out
t hard_secret ln ${base}/secret.txt ${ws}/hard-secret
t hard_py python3 -c 'import os; os.link("${base}/outside/existing.txt", "${ws}/hard-py")'
t mknod_c mknod ${ws}/cdev c 1 3
t mknod_b mknod ${ws}/bdev b 8 0
t mknod_py python3 -c 'import os, stat; os.mknod("${ws}/pydev", stat.S_IFCHR | 0o666, os.makedev(1, 7))'
t touch_home sh -c 'echo x > ${base}/home/personas/evil.yaml'
t rm_outside rm -f ${base}/outside/existing.txt
t mv_outside mv ${base}/outside/existing.txt ${base}/outside/moved.txt
t chmod_outside chmod 777 ${base}/outside/existing.txt
t truncate_outside truncate -s 0 ${base}/outside/existing.txt
t inside sh -c 'echo fine > ${ws}/inside.txt'
`;
      const r = await sandbox(h, 'filer', s);
      const names = ['new', 'append', 'etc', 'ws_link', 'own_link', 'hard_out', 'hard_secret', 'hard_py', 'mknod_c', 'mknod_b', 'mknod_py', 'touch_home', 'rm_outside', 'mv_outside', 'chmod_outside', 'truncate_outside'];
      expect(missing(r, names)).toEqual([]);
      expect(succeeded(r, names)).toEqual([]);
      expect(r.marks.inside).toBe('0');
      // Judged from outside: the files outside the grants are exactly as they were.
      const after = lstatSync(h.path('outside', 'existing.txt'));
      expect(readFileSync(h.path('outside', 'existing.txt'), 'utf8')).toBe(OUTSIDE);
      expect([after.ino, after.nlink, after.mode, after.mtimeMs]).toEqual([before.ino, before.nlink, before.mode, before.mtimeMs]);
      expect(lstatSync(h.path('secret.txt')).nlink).toBe(secretBefore.nlink);
      for (const p of ['outside/new.txt', 'outside/via-link.txt', 'outside/moved.txt', 'home/personas/evil.yaml', 'ws/hard-out', 'ws/hard-secret', 'ws/hard-py', 'ws/cdev', 'ws/bdev', 'ws/pydev']) {
        expect(existsSync(h.path(p)), p).toBe(false);
      }
      expect(existsSync('/etc/personae-escape-test')).toBe(false);
      expect(readFileSync(h.path('ws', 'inside.txt'), 'utf8')).toBe('fine\n');
      const events = await sessionEvents(h, r.session);
      expect(events.every((e) => e.persona === 'filer')).toBe(true);
      expect(execsWith(events, `${ws}/cdev`).some((e) => e.tool === 'mknod')).toBe(true);
      expect(execsWith(events, `${base}/secret.txt`).some((e) => e.tool === 'ln')).toBe(true);
    });

    it('set-user-ID binaries give no privileges, and none can be planted in the workspace', async () => {
      const s = `
say euid "$(${base}/suid-id -u)"
say nnp "$(grep NoNewPrivs /proc/self/status | tr -d ' \\t')"
t chmod_u sh -c 'cp /usr/bin/id ${ws}/planted && chmod 4755 ${ws}/planted'
t chmod_g chmod g+s ${ws}/planted
t install install -m 4755 /usr/bin/id ${ws}/planted2
t py_create python3 -c 'import os; os.close(os.open("${ws}/planted3", os.O_CREAT | os.O_WRONLY, 0o4755))'
t py_chmod python3 -c 'import os; os.chmod("${ws}/planted", 0o6755)'
t su su -c true root
`;
      const r = await sandbox(h, 'filer', s);
      expect(missing(r, ['euid', 'chmod_u', 'chmod_g', 'install', 'py_create', 'py_chmod', 'su'])).toEqual([]);
      // Run by a non-root user, a set-user-ID root binary still runs as that user.
      if (as.uid !== undefined) expect(r.marks.euid).toBe(String(as.uid));
      expect(r.marks.nnp).toBe('NoNewPrivs:1');
      expect(succeeded(r, ['chmod_u', 'chmod_g', 'install', 'py_create', 'py_chmod', 'su'])).toEqual([]);
      // Judged from outside: no file in the workspace carries a set-ID bit.
      for (const f of ['planted', 'planted2', 'planted3']) {
        if (existsSync(h.path('ws', f))) expect(statSync(h.path('ws', f)).mode & 0o6000, f).toBe(0);
      }
    });

    it('cannot rename a denied directory, or its parent, out of the way (not in this run, not for the next)', async () => {
      const s = `
t mv_denied mv ${ws}/a/private ${ws}/a/unhidden
t mv_parent mv ${ws}/a ${ws}/b
t rm_parent rm -rf ${ws}/a
t mv_outside mv ${base}/secret-dir ${base}/moved-dir
t py_rename python3 -c 'import os; os.rename("${ws}/a", "${ws}/c")'
t cat_moved sh -c 'cat ${ws}/b/private/s.txt || cat ${ws}/a/unhidden/s.txt || cat ${ws}/c/private/s.txt'
`;
      const r = await sandbox(h, 'filer', s);
      expect(missing(r, ['mv_denied', 'mv_parent', 'rm_parent', 'mv_outside', 'py_rename', 'cat_moved'])).toEqual([]);
      expect(succeeded(r, ['mv_denied', 'mv_parent', 'rm_parent', 'mv_outside', 'py_rename', 'cat_moved'])).toEqual([]);
      // Judged from outside: the denied directories are where they were, with their content.
      expect(readFileSync(h.path('ws', 'a', 'private', 's.txt'), 'utf8')).toBe(CANARY_NESTED);
      expect(readFileSync(h.path('secret-dir', 'canary.txt'), 'utf8')).toBe(CANARY_DIR);
      for (const p of ['ws/b', 'ws/c', 'ws/a/unhidden', 'moved-dir']) expect(existsSync(h.path(p)), p).toBe(false);
      // And a second run finds nothing new to read either.
      const again = await sandbox(h, 'filer', `cat ${ws}/*/private/* ${ws}/*/*/s.txt ${ws}/a/unhidden/* 2>/dev/null; true`);
      expect(again.code).toBe(0);
      expect(again.output).not.toContain(CANARY_NESTED);
    });

    it('refuses a run whose write grant was swapped for a symlink between two runs', async () => {
      const ws2 = mkdirs(h, h.path('ws2'));
      mkdirs(h, h.path('ws2', 'build'));
      // While granted, the directory is a mount point: it cannot be swapped from inside that run.
      const granted = await sandbox(h, 'filer', `t swap sh -c 'rm -rf ${ws2}/build && ln -s ${base}/outside ${ws2}/build'`, { workspace: ws2 });
      expect(granted.marks.swap).not.toBe('0');
      expect(lstatSync(h.path('ws2', 'build')).isDirectory()).toBe(true);
      // A run that may write the workspace (but was not granted build itself) swaps it...
      const swap = await sandbox(h, 'wsonly', `t swap sh -c 'rm -rf ${ws2}/build && ln -s ${base}/outside ${ws2}/build'`, { workspace: ws2 });
      expect(swap.marks.swap).toBe('0');
      expect(lstatSync(h.path('ws2', 'build')).isSymbolicLink()).toBe(true);
      // ...and the next run granted build is refused before anything runs.
      const second = await sandbox(h, 'filer', `echo pwned > ${ws2}/build/pwned.txt; say wrote $?`, { workspace: ws2 });
      expect(second.code).toBe(3);
      expect(second.stderr).toMatch(/symlink/);
      expect(second.marks.wrote).toBeUndefined();
      expect(second.session).toBe('');
      expect(existsSync(h.path('outside', 'pwned.txt'))).toBe(false);
      expect(readFileSync(h.path('outside', 'existing.txt'), 'utf8')).toBe(OUTSIDE);
    });

    it('a denied path that does not exist yet cannot be created from inside, and stays absent afterwards', async () => {
      const s = `
t mkdir mkdir ${ws}/notyet
t write sh -c 'echo x > ${ws}/notyet/file'
t link ln -s ${base}/outside ${ws}/notyet
t mv sh -c 'mkdir ${ws}/elsewhere && mv ${ws}/elsewhere ${ws}/notyet'
say listed "$(ls -A ${ws}/notyet | wc -l)"
`;
      const r = await sandbox(h, 'filer', s);
      expect(missing(r, ['mkdir', 'write', 'link', 'mv'])).toEqual([]);
      expect(succeeded(r, ['mkdir', 'write', 'link', 'mv'])).toEqual([]);
      expect(r.marks.listed).toBe('0');
      // The placeholder that held its place is gone; nothing was created on the host.
      expect(existsSync(h.path('ws', 'notyet'))).toBe(false);
      expect(existsSync(h.path('outside', 'file'))).toBe(false);
    });

    // The host acts while the sandbox runs: a mount covers one directory entry, so a
    // path the host creates or renames over would show. personae hides it again inside
    // the running sandbox within milliseconds and records that; the test waits for the
    // record, then lets the sandbox read. (The milliseconds before are a window, not zero.)
    // The sandbox says it is running (a file in the workspace), then waits for a go file
    // (visible, read-only) so the host acts while the sandbox's mounts are in place.
    const hostActsDuringRun = async (act: () => void, read: string): Promise<string> => {
      const tag = String(Date.now());
      const go = h.path(`go-${tag}`);
      const ready = h.path('ws', `ready-${tag}`);
      const script = `touch ${ready}; i=0; while [ ! -e ${go} ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; cat ${read} 2>/dev/null; true`;
      const run = await startRun(h, ['filer', '--', 'sh', '-c', script], { env: runEnv(h), timeoutMs: 60_000 });
      expect(await until(() => existsSync(ready), 10_000)).toBe(true);
      act();
      const rehidden = async (): Promise<boolean> =>
        (await sessionEvents(h, run.session)).some((e) => e.kind === 'decision' && e.target === read && e.decision === 'deny' && e.persona === 'filer');
      const deadline = Date.now() + 25_000;
      while (!(await rehidden()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      writeFileSync(go, '');
      const r = await run.done;
      // On failure, say what the session recorded instead.
      const said = (await sessionEvents(h, run.session)).filter((e) => e.kind === 'error' || e.kind === 'decision').map((e) => `${e.kind} ${e.target ?? ''} ${e.reason ?? ''}`);
      expect(await rehidden(), said.join('\n')).toBe(true);
      return r.stdout + r.stderr;
    };

    it('a denied path outside the grants that the host creates during the session is hidden at once', async () => {
      const late = h.path('late.txt');
      const out = await hostActsDuringRun(() => {
        writeFileSync(late, CANARY_LATE);
        own(h, late);
      }, late);
      expect(out).not.toContain(CANARY_LATE);
    }, 90_000);

    it('a denied file the host replaces by rename during the session is hidden again', async () => {
      const rotated = put(h, 'rotated.txt', 'old');
      const out = await hostActsDuringRun(() => {
        put(h, 'rotated.tmp', CANARY_ROTATED);
        renameSync(h.path('rotated.tmp'), rotated);
      }, rotated);
      expect(out).not.toContain(CANARY_ROTATED);
    }, 90_000);
  });
}
