/*
 * personae-execlog: records, from outside the sandbox, every program the
 * agent executes, decides it against the persona's command rules, and runs
 * the sandbox as its child.
 *
 *   personae-execlog --listen SOCK --out FIFO [--rules FILE [--answers FIFO]] [--wait-go] -- CMD [ARGS...]
 *   personae-execlog --match FILE      (the rule matching alone, for tests: execlog-rules.h)
 *
 * CMD is bwrap. Inside it, personae-seccomp installs the syscall filter with
 * execve and execveat answered by SECCOMP_RET_USER_NOTIF, connects to SOCK
 * (bound into the sandbox) and hands over the filter's listener with
 * SCM_RIGHTS. That is the first and only connection accepted: it happens
 * before any of the agent's code runs, and the socket is closed and unlinked
 * right after. From then on every execve of the agent, or of anything it
 * starts, waits in the kernel until this process has read the path and argv
 * from /proc/PID/mem and answered. The kernel decides who is filtered (every
 * child inherits the filter; nothing can remove it), so nothing is missed,
 * and no process is stopped for anything but an exec: forks run at full
 * speed, unlike under ptrace.
 *
 * Fail closed: if this process dies, the listener closes and every later
 * execve fails with ENOSYS; if the log cannot be written, every later execve
 * is answered EPERM (asked ones included).
 *
 * With --rules, each exec is decided while it waits (execlog-rules.c; the
 * specification is sandbox/policy/exec-rules.ts): a deny rule that matches
 * refuses it (EPERM); an ask rule holds it in the kernel until personae
 * writes "a ID" (allow) or "d ID" (deny) to the --answers FIFO (bounded; once
 * nobody can answer, asked execs are refused at once); the rest run. A rules
 * file that cannot be read is a refusal to start.
 *
 * One line per exec decided, and one when a process that executed
 * something ends. An exec of an absolute path that does not exist in the
 * sandbox's view (PATH lookups that miss) is answered ENOENT here, as the
 * kernel would, and leaves no line; nothing runs without its line:
 *
 *   exec PID PPID DECISION HEXPATH HEXARG... [...]
 *   exit PID CODE | exit PID sig SIGNAL | exit PID sig ?
 *
 * DECISION is `a` (ran), `dRULE:HEXTEXT` (refused by the rule with that
 * index, matched as TEXT) or `qRULE:ID:HEXTEXT` (held until answered ID).
 *
 * The exit status comes from exit_group, which the filter also stops (its
 * argument is the status); a process killed by a signal never calls it, so
 * each such process is also followed with a pidfd: one that ends without
 * exit_group was killed, and the signal is read from /proc while it is a
 * zombie ("sig ?" when its parent reaped it first, as it usually does).
 *
 * The last line, when CMD has ended, is "end STATUS" (its wait status): a log
 * without it means this process did not finish (it was killed).
 *
 * PIDs are in this process's pid namespace (the host's). Strings are
 * lowercase hex of their bytes; an argument cut at 4096 bytes ends in "~",
 * and a trailing "..." means further arguments were left out (at most 1024,
 * 64 KiB in all). A multi-threaded program could change its argv between
 * this read and the kernel's (as under strace): the log shows what was asked
 * for when the exec was stopped.
 *
 * With --wait-go the acknowledgement that lets the agent's command start waits
 * for SIGUSR1 from the supervisor (blocked since before this process started,
 * so it cannot arrive too early): the sandbox sets itself up while the
 * supervisor finishes its own start (file watcher, control socket), and the
 * command starts only once both are ready.
 *
 * Being CMD's parent also makes this process an ancestor of everything in the
 * sandbox, which Yama's ptrace_scope=1 requires for reading /proc/PID/mem.
 * It exits with CMD's status, or dies by CMD's signal.
 *
 * SIGTERM (the supervisor died: its parent-death signal, see personae-seccomp
 * --die-with-parent) kills the sandbox: CMD (bwrap) is stopped so it makes no
 * new child, the children it made (the sandbox's init, which takes its pid
 * namespace with it) are killed, then CMD. bwrap's own --die-with-parent would
 * miss a sandbox still setting itself up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include "execlog-rules.h"
#include "execlog-tripwire.h"
#include <pthread.h>
#include "execlog-target.h"
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif
#ifndef __NR_execveat
#error "personae-execlog: execveat unknown on this architecture"
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif

static int out_fd = -1;
static int log_broken = 0;

static void die(const char *what) {
  fprintf(stderr, "personae-execlog: %s: %s\n", what, strerror(errno));
  exit(70);
}

/* The whole line, or mark the log broken (later execs are then refused). */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void write_locked(const char *buf, size_t len) {
  while (len > 0 && !log_broken) {
    ssize_t w = write(out_fd, buf, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      log_broken = 1;
      return;
    }
    buf += w;
    len -= (size_t)w;
  }
}

/* Lines come from the exec handler and from the tripwires' thread: one whole line at a time. */
static void write_all(const char *buf, size_t len) {
  pthread_mutex_lock(&out_lock);
  write_locked(buf, len);
  pthread_mutex_unlock(&out_lock);
}

/* A denied read seen by a tripwire: "read PID TRIP HEXPATH OP" (dropped until the log is open). */
static void record_read(pid_t pid, int trip, const char *path, const char *op) {
  static const char digits[] = "0123456789abcdef";
  char line[20000];
  int n = snprintf(line, sizeof line, "read %d %d ", (int)pid, trip);
  for (const char *p = path; *p != '\0' && (size_t)n + 64 < sizeof line; p++) {
    line[n++] = digits[(unsigned char)*p >> 4];
    line[n++] = digits[(unsigned char)*p & 15];
  }
  n += snprintf(line + n, sizeof line - (size_t)n, " %s\n", op);
  pthread_mutex_lock(&out_lock);
  if (out_fd >= 0) write_locked(line, (size_t)n);
  pthread_mutex_unlock(&out_lock);
}

/* Processes that executed something, followed until they end: pid -> pidfd (open addressing). */
#define TRACK_SLOTS (1 << 16)
#define TRACK_MAX (TRACK_SLOTS / 4 * 3)
#define TOMBSTONE (-1)
static struct {
  pid_t pid;
  int pidfd;
} tracked[TRACK_SLOTS];
static size_t tracked_used;
static int epoll_fd = -1;

enum { TAG_LISTEN = 1, TAG_NOTIF, TAG_SIGNAL, TAG_PIDFD, TAG_ANSWERS };
#define EV_DATA(tag, pid) (((uint64_t)(tag) << 32) | (uint32_t)(pid))

static long track_find(pid_t pid) {
  for (size_t k = 0, at = (size_t)pid % TRACK_SLOTS; k < TRACK_SLOTS; k++, at = (at + 1) % TRACK_SLOTS) {
    if (tracked[at].pid == pid) return (long)at;
    if (tracked[at].pid == 0) return -1;
  }
  return -1;
}

static void track(pid_t pid) {
  if (track_find(pid) >= 0 || tracked_used >= TRACK_MAX) return;
  int fd = (int)syscall(__NR_pidfd_open, pid, 0);
  if (fd < 0) return;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_DATA(TAG_PIDFD, pid)};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    close(fd);
    return;
  }
  size_t at = (size_t)pid % TRACK_SLOTS;
  while (tracked[at].pid > 0) at = (at + 1) % TRACK_SLOTS;
  if (tracked[at].pid == 0) tracked_used++;
  tracked[at].pid = pid;
  tracked[at].pidfd = fd;
}

static void untrack(long at) {
  close(tracked[at].pidfd); /* also leaves the epoll set */
  tracked[at].pid = TOMBSTONE;
  tracked[at].pidfd = -1;
}

static void log_exit(pid_t pid, int how, int value) {
  char line[64];
  int n = how == 0 ? snprintf(line, sizeof line, "exit %d %d\n", (int)pid, value)
          : how == 1 ? snprintf(line, sizeof line, "exit %d sig %d\n", (int)pid, value)
                     : snprintf(line, sizeof line, "exit %d sig ?\n", (int)pid);
  write_all(line, (size_t)n);
}

static struct line line_buf;
static struct exec_args exec_buf;

/* CONTINUE, or `error` (EPERM for an exec once the log cannot be written); an exit always continues. */
static void answer_id(int notif, uint64_t id, struct seccomp_notif_resp *resp, size_t resp_size, int error) {
  memset(resp, 0, resp_size);
  resp->id = id;
  if (error != 0) {
    resp->error = -error;
  } else {
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  }
  /* ENOENT: the process was killed meanwhile; nothing to answer. */
  while (ioctl(notif, SECCOMP_IOCTL_NOTIF_SEND, resp) != 0 && errno == EINTR) {
  }
}

static void answer(int notif, const struct seccomp_notif *req, struct seccomp_notif_resp *resp, size_t resp_size, int error) {
  answer_id(notif, req->id, resp, resp_size, error);
}

/*
 * Execs an ask rule holds until personae answers on the answers FIFO
 * ("a ID" or "d ID"). Bounded: when full, or once nobody can answer, an
 * asked exec is refused at once.
 */
#define MAX_PENDING 1024
static struct {
  uint64_t id;
  pid_t pid;
} pending[MAX_PENDING];
static int n_pending;
static int answers_fd = -1;
static int answers_broken = 0;

/* The decision token of an exec line: a | dRULE:HEXTEXT | qRULE:ID:HEXTEXT. */
static void token(char *out, size_t size, const struct verdict *v, uint64_t id) {
  int n = v->kind == 'a' ? snprintf(out, size, "a")
          : v->kind == 'q' ? snprintf(out, size, "q%d:%llu:", v->rule, (unsigned long long)id)
                           : snprintf(out, size, "d%d:", v->rule);
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; v->kind != 'a' && i < v->text_len && (size_t)n + 3 < size; i++) {
    out[n++] = digits[(unsigned char)v->text[i] >> 4];
    out[n++] = digits[(unsigned char)v->text[i] & 15];
  }
  out[n] = '\0';
}

/* One stopped exec or exit_group: record it, decide it, then let it go on (or not). */
static void handle(int notif, struct seccomp_notif *req, size_t req_size, struct seccomp_notif_resp *resp, size_t resp_size) {
  memset(req, 0, req_size);
  if (ioctl(notif, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) return;
  if (req->data.nr == __NR_exit_group) {
    pid_t tgid = tgid_of((pid_t)req->pid);
    long at = track_find(tgid);
    if (at >= 0) {
      log_exit(tgid, 0, (int)(req->data.args[0] & 0xff));
      untrack(at);
    }
    answer(notif, req, resp, resp_size, 0);
    return;
  }
  /* An exec: */
  int error = describe(req, &exec_buf);
  struct verdict v = {.kind = 'a', .rule = -1};
  if (error == 0) rules_decide(req, &exec_buf, &v);
  /* Still the same stopped exec (not a reused pid of a killed one)? Otherwise nothing to log or answer. */
  if (ioctl(notif, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) != 0) return;
  if (error != 0 || log_broken) {
    answer(notif, req, resp, resp_size, error != 0 ? error : EPERM);
    return;
  }
  /* An ask nobody can take is refused at once: a deny token on an ask rule. */
  if (v.kind == 'q' && (answers_fd < 0 || answers_broken || n_pending >= MAX_PENDING)) v.kind = 'd';
  static char tok[VERDICT_TEXT * 2 + 64];
  token(tok, sizeof tok, &v, req->id);
  format_exec(&line_buf, &exec_buf, tok);
  write_all(line_buf.buf, line_buf.len);
  if (log_broken) {
    answer(notif, req, resp, resp_size, EPERM);
  } else if (v.kind == 'a') {
    track(exec_buf.pid);
    answer(notif, req, resp, resp_size, 0);
  } else if (v.kind == 'd') {
    answer(notif, req, resp, resp_size, EPERM);
  } else {
    pending[n_pending].id = req->id;
    pending[n_pending].pid = exec_buf.pid;
    n_pending++;
  }
}

/* Answers held asks from the answers FIFO ("a ID" / "d ID" lines); all of them EPERM once it is gone. */
static char answers_partial[256];
static size_t answers_len;

static void settle(int notif, uint64_t id, int allow, struct seccomp_notif_resp *resp, size_t resp_size) {
  for (int i = 0; i < n_pending; i++) {
    if (pending[i].id != id) continue;
    pid_t pid = pending[i].pid;
    pending[i] = pending[--n_pending];
    if (notif < 0 || ioctl(notif, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0) return;
    if (allow && !log_broken) track(pid);
    answer_id(notif, id, resp, resp_size, allow && !log_broken ? 0 : EPERM);
    return;
  }
}

static void read_answers(int notif, struct seccomp_notif_resp *resp, size_t resp_size, int hup) {
  for (;;) {
    ssize_t n = read(answers_fd, answers_partial + answers_len, sizeof answers_partial - answers_len - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answers_len += (size_t)n;
    answers_partial[answers_len] = '\0';
    char *start = answers_partial, *nl;
    while ((nl = strchr(start, '\n')) != NULL) {
      *nl = '\0';
      char *end = NULL;
      if ((start[0] == 'a' || start[0] == 'd') && start[1] == ' ') {
        unsigned long long id = strtoull(start + 2, &end, 10);
        if (end != NULL && *end == '\0') settle(notif, (uint64_t)id, start[0] == 'a', resp, resp_size);
      }
      start = nl + 1;
    }
    answers_len = strlen(start);
    memmove(answers_partial, start, answers_len + 1);
    if (answers_len >= sizeof answers_partial - 1) answers_len = 0; /* a line too long: dropped */
  }
  if (hup) {
    answers_broken = 1;
    while (n_pending > 0) settle(notif, pending[n_pending - 1].id, 0, resp, resp_size);
  }
}

/* Accepts the one connection and receives the listener; returns it (and the connection, to acknowledge), -1 on failure, -2 when nobody connected yet. */
static int receive_listener(int listen_fd, int *conn_out) {
  int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0) return errno == EAGAIN || errno == EINTR || errno == ECONNABORTED ? -2 : -1;
  struct timeval tv = {.tv_sec = 5};
  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  int fd = -1;
  if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) == 1) {
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) memcpy(&fd, CMSG_DATA(c), sizeof fd);
  }
  if (fd < 0) {
    close(conn);
    return -1;
  }
  *conn_out = conn;
  return fd;
}

/* The acknowledgement: personae-seccomp runs the command only after it. */
static void acknowledge(int *conn) {
  if (*conn < 0) return;
  if (write(*conn, "k", 1) != 1) {
    /* personae-seccomp is gone or gave up: it refuses to run the command. */
  }
  close(*conn);
  *conn = -1;
}

static volatile sig_atomic_t term_seen = 0;
static void note_term(int sig) {
  (void)sig;
  term_seen = 1;
}

/*
 * Kills CMD (bwrap) and everything it started, even mid set-up: stops it,
 * kills its children (the sandbox's init takes its whole pid namespace with
 * it), then kills it. Returns 1 when CMD was reaped here (its status in
 * *status), 0 when its end is left to the SIGCHLD path.
 */
static int kill_sandbox(pid_t bwrap, int *status) {
  int st;
  kill(bwrap, SIGSTOP);
  pid_t w = waitpid(bwrap, &st, WUNTRACED);
  if (w == bwrap && !WIFSTOPPED(st)) {
    *status = st;
    return 1;
  }
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)bwrap, (int)bwrap);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 0) {
      buf[n] = '\0';
      for (char *p = buf, *end; *p != '\0'; p = end) {
        long pid = strtol(p, &end, 10);
        if (end == p) break;
        if (pid > 1) kill((pid_t)pid, SIGKILL);
      }
    }
  }
  kill(bwrap, SIGKILL);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--match") == 0) return rules_match_stdin(argv[2]);
  const char *sock_path = NULL, *out_path = NULL, *rules_path = NULL, *answers_path = NULL, *trips_path = NULL;
  int go = 1;
  int i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) sock_path = argv[++i];
    else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out_path = argv[++i];
    else if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc) rules_path = argv[++i];
    else if (strcmp(argv[i], "--answers") == 0 && i + 1 < argc) answers_path = argv[++i];
    else if (strcmp(argv[i], "--tripwires") == 0 && i + 1 < argc) trips_path = argv[++i];
    else if (strcmp(argv[i], "--wait-go") == 0) go = 0;
    else if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    } else break;
  }
  if (sock_path == NULL || out_path == NULL || i >= argc) {
    fprintf(stderr, "usage: personae-execlog --listen SOCK --out FIFO [--rules FILE [--answers FIFO]] [--wait-go] -- CMD [ARGS...]\n");
    return 64;
  }
  /* The persona's command rules: a file that cannot be read is a refusal to start, never a sandbox without them. */
  if (rules_path != NULL) {
    char err[512];
    if (rules_load(rules_path, err, sizeof err) != 0) {
      fprintf(stderr, "personae: %s; refusing to run\n", err);
      return 70;
    }
  }
  /* Denied-read tripwires: a file that cannot be read is a refusal; FUSE unavailable only leaves them off. */
  int trip_status[2] = {-1, -1};
  if (trips_path != NULL) {
    char err[512];
    if (tripwires_load(trips_path, err, sizeof err) != 0) {
      fprintf(stderr, "personae: %s; refusing to run\n", err);
      return 70;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, trip_status) != 0) die("socketpair");
  }
  if (answers_path != NULL) {
    answers_fd = open(answers_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (answers_fd < 0) {
      fprintf(stderr, "personae: cannot open the answers FIFO %s: %s; refusing to run\n", answers_path, strerror(errno));
      return 70;
    }
  }
  /*
   * Terminal signals (Ctrl-C on a PTY in cooked mode) reach this process group:
   * CMD (bwrap) gets them and ends the sandbox; this process outlives it to
   * answer the last execs and write "end". Restored to the default in CMD.
   */
  static const int terminal_signals[] = {SIGINT, SIGQUIT, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU};
  for (size_t k = 0; k < sizeof terminal_signals / sizeof terminal_signals[0]; k++) signal(terminal_signals[k], SIG_IGN);
  signal(SIGPIPE, SIG_IGN);

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(sock_path) >= sizeof addr.sun_path) {
    fprintf(stderr, "personae-execlog: socket path too long\n");
    return 64;
  }
  strcpy(addr.sun_path, sock_path);
  int listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd < 0) die("socket");
  mode_t old = umask(077);
  if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("bind");
  umask(old);
  if (listen(listen_fd, 1) != 0) die("listen");

  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigaddset(&chld, SIGUSR1);
  sigaddset(&chld, SIGTERM);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sig_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sig_fd < 0) die("signalfd");

  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    sigprocmask(SIG_UNBLOCK, &chld, NULL);
    for (size_t k = 0; k < sizeof terminal_signals / sizeof terminal_signals[0]; k++) signal(terminal_signals[k], SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) _exit(70);
    if (getppid() == 1) _exit(70);
    if (trip_status[1] >= 0 && tripwires_child(trip_status[1]) != 0) _exit(70);
    execvp(argv[i], argv + i);
    fprintf(stderr, "personae-execlog: cannot run %s: %s\n", argv[i], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }

  /*
   * The child mounts the tripwires before it becomes bwrap and says so at once
   * (bounded wait). They are served only once mounted: an unmounted /dev/fuse
   * descriptor polls as an error.
   */
  char trip_line[340] = "";
  if (trip_status[1] >= 0) {
    close(trip_status[1]);
    char st[300];
    tripwires_receive(trip_status[0], 10000, st, sizeof st);
    snprintf(trip_line, sizeof trip_line, "trip %s%s", st, st[0] != '\0' && st[strlen(st) - 1] != '\n' ? "\n" : "");
    close(trip_status[0]);
    trip_status[0] = -1;
    if (strncmp(st, "ok", 2) == 0 && tripwires_serve(record_read) != 0) die("pthread_create");
  }

  /*
   * Blocks until personae opens the FIFO's reading end. A SIGTERM meanwhile
   * (the supervisor died before it did) interrupts the wait: the sandbox is
   * then killed like any other time.
   */
  int status = 0, exited = 0;
  struct sigaction on_term = {.sa_handler = note_term};
  sigemptyset(&on_term.sa_mask);
  sigaction(SIGTERM, &on_term, NULL);
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_UNBLOCK, &term, NULL);
  if (!term_seen) out_fd = open(out_path, O_WRONLY | O_CLOEXEC);
  sigprocmask(SIG_BLOCK, &term, NULL);
  if (out_fd < 0) log_broken = 1;
  if (term_seen) exited = kill_sandbox(child, &status);

  struct seccomp_notif_sizes sizes;
  if (syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) {
    sizes.seccomp_notif = sizeof(struct seccomp_notif);
    sizes.seccomp_notif_resp = sizeof(struct seccomp_notif_resp);
  }
  size_t req_size = sizes.seccomp_notif > sizeof(struct seccomp_notif) ? sizes.seccomp_notif : sizeof(struct seccomp_notif);
  size_t resp_size = sizes.seccomp_notif_resp > sizeof(struct seccomp_notif_resp) ? sizes.seccomp_notif_resp : sizeof(struct seccomp_notif_resp);
  struct seccomp_notif *req = calloc(1, req_size);
  struct seccomp_notif_resp *resp = calloc(1, resp_size);
  if (req == NULL || resp == NULL) die("calloc");

  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) die("epoll_create1");
  struct epoll_event add = {.events = EPOLLIN, .data.u64 = EV_DATA(TAG_LISTEN, 0)};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &add) != 0) die("epoll_ctl");
  add.data.u64 = EV_DATA(TAG_SIGNAL, 0);
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, sig_fd, &add) != 0) die("epoll_ctl");
  if (trip_line[0] != '\0') write_all(trip_line, strlen(trip_line));
  if (answers_fd >= 0) {
    add.data.u64 = EV_DATA(TAG_ANSWERS, 0);
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, answers_fd, &add) != 0) die("epoll_ctl");
  }

  int notif = -1, pending_ack = -1;
  struct timespec hup_deadline = {0};
  if (term_seen) {
    clock_gettime(CLOCK_MONOTONIC, &hup_deadline);
    hup_deadline.tv_sec += 2;
  }
  for (;;) {
    int timeout = -1;
    if (exited) {
      /* The sandbox is gone; its last execs and exits are answered, then the listener hangs up. Bounded. */
      if (notif < 0) break;
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      long left = (hup_deadline.tv_sec - now.tv_sec) * 1000 + (hup_deadline.tv_nsec - now.tv_nsec) / 1000000;
      if (left <= 0) break;
      timeout = (int)left;
    }
    struct epoll_event evs[64];
    int r = epoll_wait(epoll_fd, evs, 64, timeout);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("epoll_wait");
    for (int k = 0; k < r; k++) {
      int tag = (int)(evs[k].data.u64 >> 32);
      pid_t pid = (pid_t)(uint32_t)evs[k].data.u64;
      if (tag == TAG_LISTEN && listen_fd >= 0) {
        int fd = receive_listener(listen_fd, &pending_ack);
        if (fd == -2) continue;
        if (go) acknowledge(&pending_ack);
        close(listen_fd); /* also leaves the epoll set */
        listen_fd = -1;
        unlink(sock_path);
        notif = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_DATA(TAG_NOTIF, 0)};
        if (notif >= 0 && epoll_ctl(epoll_fd, EPOLL_CTL_ADD, notif, &ev) != 0) die("epoll_ctl");
      } else if (tag == TAG_NOTIF && notif >= 0) {
        if (evs[k].events & EPOLLIN) {
          handle(notif, req, req_size, resp, resp_size);
        } else if (evs[k].events & (EPOLLHUP | EPOLLERR)) {
          close(notif);
          notif = -1;
        }
      } else if (tag == TAG_ANSWERS && answers_fd >= 0) {
        int hup = (evs[k].events & (EPOLLHUP | EPOLLERR)) != 0;
        read_answers(notif, resp, resp_size, hup);
        if (hup) {
          close(answers_fd); /* also leaves the epoll set */
          answers_fd = -1;
        }
      } else if (tag == TAG_PIDFD) {
        /* Ended without exit_group: killed by a signal (or its last thread called exit). */
        long at = track_find(pid);
        if (at < 0) continue;
        int st = zombie_status(pid);
        if (st < 0) log_exit(pid, 2, 0);
        else if (WIFSIGNALED(st)) log_exit(pid, 1, WTERMSIG(st));
        else log_exit(pid, 0, WEXITSTATUS(st));
        untrack(at);
      } else if (tag == TAG_SIGNAL) {
        struct signalfd_siginfo si;
        while (read(sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
          if (si.ssi_signo == SIGUSR1) {
            go = 1;
            acknowledge(&pending_ack);
          } else if (si.ssi_signo == SIGTERM && !exited && kill_sandbox(child, &status)) {
            exited = 1;
            clock_gettime(CLOCK_MONOTONIC, &hup_deadline);
            hup_deadline.tv_sec += 2;
          }
        }
        if (!exited && waitpid(child, &status, WNOHANG) == child) {
          exited = 1;
          clock_gettime(CLOCK_MONOTONIC, &hup_deadline);
          hup_deadline.tv_sec += 2;
        }
      }
    }
  }
  if (listen_fd >= 0) unlink(sock_path);
  if (out_fd >= 0) {
    char end[32];
    int n = snprintf(end, sizeof end, "end %d\n", status);
    write_all(end, (size_t)n);
    close(out_fd);
  }
  if (WIFSIGNALED(status)) {
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    signal(WTERMSIG(status), SIG_DFL);
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, NULL);
    raise(WTERMSIG(status));
    return 128 + WTERMSIG(status);
  }
  return WEXITSTATUS(status);
}
