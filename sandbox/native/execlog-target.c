/*
 * What personae-execlog learns about a stopped process from outside the
 * sandbox: the path and argv of the exec it asked for (read from
 * /proc/PID/mem while it waits), its parent and thread group, whether the
 * path exists in its own root, and its exit status while it is a zombie.
 */
#define _GNU_SOURCE
#include "execlog-target.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef __NR_openat2
#define __NR_openat2 437
#endif

static void put(struct line *l, const char *s) {
  size_t n = strlen(s);
  memcpy(l->buf + l->len, s, n);
  l->len += n;
}

static void put_hex(struct line *l, const unsigned char *s, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    l->buf[l->len++] = digits[s[i] >> 4];
    l->buf[l->len++] = digits[s[i] & 15];
  }
}

/* Reads a C string at addr from the target's memory; returns its length, sets *cut when it was longer than max. */
static ssize_t read_str(int mem, uint64_t addr, unsigned char *dst, size_t max, int *cut) {
  *cut = 0;
  if (addr == 0) return -1;
  size_t got = 0;
  while (got < max) {
    /* Read up to the end of the page so a string ending before unmapped memory still reads. */
    size_t page = 4096 - (size_t)((addr + got) % 4096);
    size_t want = page < max - got ? page : max - got;
    ssize_t r = pread(mem, dst + got, want, (off_t)(addr + got));
    if (r <= 0) return got == 0 ? -1 : (ssize_t)got;
    void *nul = memchr(dst + got, 0, (size_t)r);
    if (nul != NULL) return (ssize_t)((unsigned char *)nul - dst);
    got += (size_t)r;
  }
  *cut = 1;
  return (ssize_t)max;
}

static int open_proc(pid_t pid, const char *what, int flags) {
  char p[96];
  snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, what);
  return open(p, flags | O_CLOEXEC);
}

/* openat2 under the target's root; returns 0 when the path opens, else the errno. */
static int look(int root, const char *path, unsigned long long resolve) {
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = resolve};
  int fd = (int)syscall(__NR_openat2, root, path, &how, sizeof how);
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

/*
 * ENOENT or ENOTDIR when an absolute path does not lead to a file in the
 * target's own root (RESOLVE_IN_ROOT on /proc/PID/root: its mounts, its
 * symlinks), which is what the kernel would answer; 0 otherwise. The caller
 * answers the exec with that error itself rather than let it go unlogged:
 * a file created between this look and the kernel's cannot slip through.
 * (PATH lookups that miss then leave no line.) Under /proc and /dev a path
 * can mean something else for the target than for this process (/proc/self,
 * /dev/fd/N): those, relative paths, fd execs and anything this cannot tell
 * are logged and let through. (A symlink elsewhere pointing into /proc/self
 * would make a miss here that the kernel would not make: that exec is
 * refused, never let through unlogged.)
 */
static int missing(pid_t pid, const char *path) {
  if (path[0] != '/' || strncmp(path, "/proc/", 6) == 0 || strncmp(path, "/dev/", 5) == 0) return 0;
  int root = open_proc(pid, "root", O_PATH | O_DIRECTORY);
  if (root < 0) return 0;
  int e = look(root, path, RESOLVE_IN_ROOT);
  close(root);
  return e == ENOENT || e == ENOTDIR ? e : 0;
}

/* Reads /proc/PID/WHAT into buf (NUL-terminated); 0 when it cannot. */
static int read_proc(pid_t pid, const char *what, char *buf, size_t size) {
  int fd = open_proc(pid, what, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  return 1;
}

/* A numeric field of /proc/PID/status ("\nPPid:"), or `otherwise`. */
static long status_field(pid_t pid, const char *key, long otherwise) {
  char buf[4096];
  if (!read_proc(pid, "status", buf, sizeof buf)) return otherwise;
  char *p = strstr(buf, key);
  return p == NULL ? otherwise : strtol(p + strlen(key), NULL, 10);
}

static long parent_of(pid_t pid) { return status_field(pid, "\nPPid:", -1); }

/* Thread-group id of a task (an exec or exit_group may come from any thread). */
pid_t tgid_of(pid_t tid) { return (pid_t)status_field(tid, "\nTgid:", tid); }

/* The status of a process that has ended (a zombie), from /proc/PID/stat's exit_code; -1 if gone. */
int zombie_status(pid_t pid) {
  char buf[2048];
  if (!read_proc(pid, "stat", buf, sizeof buf)) return -1;
  char *p = strrchr(buf, ')');
  if (p == NULL) return -1;
  /* Fields after the command: state is field 3; exit_code is field 52. */
  int field = 2;
  for (p++; *p != '\0' && field < 52; p++)
    if (*p == ' ') field++;
  return *p == '\0' ? -1 : (int)strtol(p, NULL, 10);
}

static unsigned char str_buf[MAX_ARG + 1];

/* Appends one string (NUL-terminated) to the exec's buffer. */
static void keep(struct exec_args *a, const unsigned char *s, size_t n, int cut) {
  a->off[a->argc] = a->used;
  a->len[a->argc] = n;
  a->cut[a->argc] = cut;
  memcpy(a->buf + a->used, s, n);
  a->buf[a->used + n] = '\0';
  a->used += n + 1;
  a->argc++;
}

/*
 * Reads one stopped exec's path and argv (into `a`) and returns 0, or the
 * error to answer it with instead, unlogged: the kernel's own answer for a
 * missing file or an unreadable path, EPERM when its memory cannot be read
 * (nothing runs unrecorded).
 */
int describe(const struct seccomp_notif *req, struct exec_args *a) {
  pid_t pid = (pid_t)req->pid;
  int is_at = req->data.nr == __NR_execveat;
  uint64_t path_addr = is_at ? req->data.args[1] : req->data.args[0];
  uint64_t argv_addr = is_at ? req->data.args[2] : req->data.args[1];
  a->argc = 0;
  a->used = 0;
  a->more = 0;
  int mem = open_proc(pid, "mem", O_RDONLY);
  if (mem < 0) return EPERM;
  int cut;
  ssize_t n = read_str(mem, path_addr, str_buf, MAX_ARG, &cut);
  if (n < 0) {
    close(mem);
    return EFAULT;
  }
  str_buf[n] = '\0';
  a->from_fd = n == 0 && is_at && (req->data.args[4] & AT_EMPTY_PATH);
  if (a->from_fd) {
    /* fexecve: the path is that of the open file (as this process sees it). */
    char fdlink[48];
    snprintf(fdlink, sizeof fdlink, "/proc/%d/fd/%d", (int)pid, (int)req->data.args[0]);
    ssize_t k = readlink(fdlink, (char *)str_buf, MAX_ARG);
    n = k > 0 ? k : 0;
    str_buf[n] = '\0';
  }
  int gone = cut || (is_at && req->data.args[0] != (uint64_t)(int64_t)AT_FDCWD) ? 0 : missing(pid, (const char *)str_buf);
  if (gone != 0) {
    close(mem);
    return gone;
  }
  memcpy(a->path, str_buf, (size_t)n + 1);
  a->path_len = (size_t)n;
  a->tid = pid;
  a->pid = tgid_of(pid);
  a->ppid = parent_of(pid);
  size_t total = 0;
  for (int i = 0; argv_addr != 0; i++) {
    uint64_t ptr = 0;
    if (i == MAX_ARGS || total >= MAX_LINE) {
      a->more = 1;
      break;
    }
    if (pread(mem, &ptr, sizeof ptr, (off_t)(argv_addr + (uint64_t)i * sizeof ptr)) != (ssize_t)sizeof ptr || ptr == 0) break;
    size_t room = MAX_LINE - total < MAX_ARG ? MAX_LINE - total : MAX_ARG;
    n = read_str(mem, ptr, str_buf, room, &cut);
    if (n < 0) break;
    keep(a, str_buf, (size_t)n, cut);
    total += (size_t)n;
  }
  close(mem);
  return 0;
}

/* The "exec" line: pid, parent, the decision token, then path and argv in hex. */
void format_exec(struct line *l, const struct exec_args *a, const char *decision) {
  l->len = 0;
  char head[64];
  snprintf(head, sizeof head, "exec %d %ld ", (int)a->pid, a->ppid);
  put(l, head);
  put(l, decision);
  put(l, " ");
  put_hex(l, (const unsigned char *)a->path, a->path_len);
  for (int i = 0; i < a->argc; i++) {
    put(l, " ");
    put_hex(l, (const unsigned char *)a->buf + a->off[i], a->len[i]);
    if (a->cut[i]) put(l, "~");
  }
  if (a->more) put(l, " ...");
  put(l, "\n");
}
