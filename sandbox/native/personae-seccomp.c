/*
 * personae-seccomp: applies the sandbox's syscall filter, then execs a command.
 *
 *   personae-seccomp [--wait-listen PORTS [--wait-ms MS]] [--exec-log SOCK] [--foreground] CMD [ARGS...]
 *   personae-seccomp --die-with-parent PPID [--fifo PATH]... [--hold-fd N] CMD [ARGS...]
 *   personae-seccomp --outlive-pidfd N
 *
 * The second form applies no filter: it arranges for CMD to get SIGTERM when
 * the process PPID (the personae supervisor) dies, so that a supervisor killed
 * by SIGKILL still takes its tracer and sandbox with it. CMD is the exec
 * logger, which answers SIGTERM by killing the sandbox's whole tree itself:
 * bwrap's own --die-with-parent is not armed yet while it sets up. With --fifo it first
 * creates a FIFO (mode 0600): the one the exec tracer writes to, and the one
 * personae answers held execs on, so the trace never touches the disk and no
 * file descriptor of either is ever inherited. With
 * --hold-fd it starts a holder of descriptor N that ends just after PPID
 * (see --outlive-pidfd below).
 *
 * Runs inside the bwrap sandbox after the proxy bridge (socat) has started, so
 * that the bridge keeps its unix socket while nothing started after it can
 * create one. With --wait-listen it first waits (at most 10 s, or --wait-ms) until every
 * bridge listens on its loopback port (listen-wait.c), and refuses to run the
 * command when one never does. The filter returns EPERM for syscalls a coding agent has no use
 * for and that widen the attack surface (ptrace, mount, namespaces, kernel
 * keyrings, BPF, io_uring, module loading), and for socket(AF_UNIX, ...), so
 * host unix sockets visible on the filesystem cannot be reached, and for
 * setting the set-user-ID or set-group-ID bit (chmod, or creating a file with
 * it), so the agent cannot leave a set-user-ID binary in the workspace for a
 * host user to run. openat2 (whose mode the filter cannot read) answers
 * ENOSYS; callers fall back to openat. Unknown architectures and the x32 ABI
 * are killed.
 *
 * With --exec-log the filter also answers execve, execveat and exit_group with
 * SECCOMP_RET_USER_NOTIF: its listener goes over SOCK to personae-execlog,
 * outside the sandbox, which records each exec and lets it continue. The
 * command runs only once the logger has acknowledged; without a logger,
 * every exec fails (ENOSYS), so nothing ever runs unrecorded.
 *
 * With --foreground (the sandbox runs on personae's own PTY, its controlling
 * terminal) the command becomes a process group of its own and the terminal's
 * foreground group: Ctrl-C and Ctrl-Z reach it and what it starts, never the
 * sandbox's init, its bridges or bwrap and the exec logger outside, and an
 * interactive shell gets job control. The filter refuses ioctl TIOCSTI and
 * TIOCLINUX (keystrokes pushed into a terminal) in every mode.
 *
 * Before the filter it puts the command in its own Landlock domain (when the
 * kernel has Landlock ABI 2, Linux 5.19+). The domain restricts almost nothing (creating
 * device nodes), but Landlock forbids a process in a domain to ptrace or open
 * /proc/PID/mem of any process outside it: the sandbox's pid 1 (bwrap) and
 * the proxy bridge (socat), which run without this filter, are out of reach,
 * so their memory cannot be rewritten to get an unfiltered process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <stdlib.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen-wait.h"

/* How long the bridges may take to listen. */
#define WAIT_LISTEN_MS 10000

#if defined(__x86_64__)
#define PERSONAE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define PERSONAE_ARCH AUDIT_ARCH_AARCH64
#else
#error "personae-seccomp: unsupported architecture"
#endif

static const int denied[] = {
    __NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev,
    __NR_mount, __NR_umount2, __NR_pivot_root, __NR_chroot,
    __NR_unshare, __NR_setns,
    __NR_keyctl, __NR_add_key, __NR_request_key,
    __NR_bpf, __NR_perf_event_open, __NR_userfaultfd,
    __NR_kexec_load, __NR_init_module, __NR_finit_module, __NR_delete_module,
    __NR_open_by_handle_at, __NR_name_to_handle_at,
    __NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register,
    __NR_fsopen, __NR_fsconfig, __NR_fsmount, __NR_move_mount, __NR_open_tree,
    __NR_mount_setattr,
#ifdef __NR_kexec_file_load
    __NR_kexec_file_load,
#endif
};

#define N_DENIED (sizeof(denied) / sizeof(denied[0]))

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif
#ifndef __NR_openat2
#define __NR_openat2 437
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_ACCESS_FS_MAKE_CHAR (1ULL << 6)
#define LL_ACCESS_FS_MAKE_BLOCK (1ULL << 11)
#define LL_ACCESS_FS_REFER (1ULL << 13)

/* Landlock ABI 1's ruleset attribute (the kernel accepts the short form). */
struct ll_ruleset_attr {
  uint64_t handled_access_fs;
};

struct __attribute__((packed)) ll_path_beneath_attr {
  uint64_t allowed_access;
  int32_t parent_fd;
};

/*
 * Puts the caller in its own Landlock domain that forbids only creating
 * device nodes; returns 0, or -1 when the kernel cannot. Any domain forbids
 * moving files between directories unless it handles and grants REFER (ABI
 * 2, Linux 5.19), so REFER is granted beneath / and ABI 1 is not used at all.
 */
static int landlock_domain(void) {
  long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
  if (abi < 2) return -1;
  struct ll_ruleset_attr attr = {.handled_access_fs = LL_ACCESS_FS_MAKE_CHAR | LL_ACCESS_FS_MAKE_BLOCK | LL_ACCESS_FS_REFER};
  long fd = syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);
  if (fd < 0) return -1;
  int root = open("/", O_PATH | O_CLOEXEC);
  struct ll_path_beneath_attr rule = {.allowed_access = LL_ACCESS_FS_REFER, .parent_fd = root};
  long r = root < 0 ? -1 : syscall(__NR_landlock_add_rule, (int)fd, LL_RULE_PATH_BENEATH, &rule, 0);
  if (root >= 0) close(root);
  if (r == 0) r = syscall(__NR_landlock_restrict_self, (int)fd, 0);
  close((int)fd);
  return r == 0 ? 0 : -1;
}

#define SET_ID_BITS (S_ISUID | S_ISGID)
#define CREATE_FLAGS (O_CREAT | (O_TMPFILE & ~O_DIRECTORY))
#define LD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define LD_ARG(i) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[i]))

/* `nr` with S_ISUID or S_ISGID in args[mode] -> EPERM. The accumulator holds nr before and after. */
static size_t deny_set_id_mode(struct sock_filter *p, size_t n, unsigned nr, int mode) {
  p[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 4);
  p[n++] = (struct sock_filter)LD_ARG(mode);
  p[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SET_ID_BITS, 0, 1);
  p[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
  p[n++] = (struct sock_filter)LD_NR;
  return n;
}

/* An open that creates (O_CREAT, O_TMPFILE in args[flags]) with S_ISUID or S_ISGID in args[mode] -> EPERM. */
static size_t deny_set_id_create(struct sock_filter *p, size_t n, unsigned nr, int flags, int mode) {
  p[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 6);
  p[n++] = (struct sock_filter)LD_ARG(flags);
  p[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CREATE_FLAGS, 0, 3);
  p[n++] = (struct sock_filter)LD_ARG(mode);
  p[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SET_ID_BITS, 0, 1);
  p[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
  p[n++] = (struct sock_filter)LD_NR;
  return n;
}
#define ERRNO(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

static void start_holder(int fd, pid_t ppid);

static int die_with_parent(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: personae-seccomp --die-with-parent PPID CMD [ARGS...]\n");
    return 64;
  }
  long expected = strtol(argv[2], NULL, 10);
  if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0) {
    perror("personae-seccomp: PR_SET_PDEATHSIG");
    return 70;
  }
  if ((long)getppid() != expected) return 70; /* the parent is already gone */
  /* The supervisor's "go" (SIGUSR1, for the exec logger's --wait-go) must wait until the logger listens for it. */
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  int cmd = 3;
  while (argc >= cmd + 3 && strcmp(argv[cmd], "--fifo") == 0) {
    if (mkfifo(argv[cmd + 1], 0600) != 0) {
      fprintf(stderr, "personae-seccomp: cannot create %s: %s\n", argv[cmd + 1], strerror(errno));
      return 70;
    }
    cmd += 2;
  }
  if (argc >= cmd + 3 && strcmp(argv[cmd], "--hold-fd") == 0) {
    start_holder((int)strtol(argv[cmd + 1], NULL, 10), (pid_t)expected);
    cmd += 2;
  }
  execvp(argv[cmd], argv + cmd);
  fprintf(stderr, "personae-seccomp: cannot run %s: %s\n", argv[cmd], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}

/*
 * --outlive-pidfd N: keeps the descriptors it was given open until the
 * process the pidfd N refers to (the personae supervisor) has ended, then
 * exits. Started by --die-with-parent's --hold-fd (below), holding the
 * supervisor's inotify descriptor: when the last holder of an inotify
 * instance closes it, the kernel first waits for an SRCU grace period to
 * retire its watches (about 10 ms here), and an exiting process does that
 * before its parent learns that it ended. Held here, that wait falls on this
 * process, which nobody waits for.
 */
static int outlive(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: personae-seccomp --outlive-pidfd N\n");
    return 64;
  }
  struct pollfd p = {.fd = (int)strtol(argv[2], NULL, 10), .events = POLLIN};
  while (poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
  return 0;
}

/*
 * Starts the holder of `fd` (see outlive above) for the supervisor `ppid`, in
 * a session of its own, with nothing else open: not the terminal, not the
 * pipes of `personae run | ...`. Best effort: without it, the supervisor's
 * exit only takes longer.
 */
static void start_holder(int fd, pid_t ppid) {
  int pidfd = (int)syscall(__NR_pidfd_open, ppid, 0);
  if (pidfd < 0) return; /* Linux < 5.3 */
  pid_t pid = fork();
  if (pid == 0) {
    int held = fcntl(fd, F_DUPFD, 10), watched = fcntl(pidfd, F_DUPFD, 10);
    int nul = open("/dev/null", O_RDWR);
    if (held < 0 || watched < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0 || dup2(held, 3) < 0 || dup2(watched, 4) < 0) _exit(0);
    for (int i = 5; i < 1024; i++) close(i);
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execl("/proc/self/exe", "personae-seccomp", "--outlive-pidfd", "4", (char *)NULL);
    _exit(0);
  }
  close(pidfd);
  close(fd);
}

/* Connects to the exec logger before the filter forbids AF_UNIX sockets; exits on failure. */
static int connect_logger(const char *sock) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || strlen(sock) >= sizeof addr.sun_path) {
    fprintf(stderr, "personae: cannot reach the exec log; refusing to run\n");
    exit(70);
  }
  strcpy(addr.sun_path, sock);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    fprintf(stderr, "personae: cannot reach the exec log (%s); refusing to run\n", strerror(errno));
    exit(70);
  }
  return fd;
}

/* Sends the filter's listener to the logger and waits (bounded) for its acknowledgement; exits on failure. */
static void hand_over(int conn, int listener) {
  char byte = 'l';
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &listener, sizeof listener);
  struct timeval tv = {.tv_sec = 30};
  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char ack = 0;
  if (sendmsg(conn, &msg, 0) != 1 || read(conn, &ack, 1) != 1 || ack != 'k') {
    fprintf(stderr, "personae: the exec log did not start; refusing to run\n");
    exit(70);
  }
  close(listener);
  close(conn);
}

/* --foreground: a process group of its own, in the terminal's foreground (best effort: no terminal, nothing to do). */
static void take_terminal(void) {
  if (tcgetpgrp(STDIN_FILENO) < 0 || setpgid(0, 0) != 0) return;
  sigset_t ttou, old;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  sigprocmask(SIG_BLOCK, &ttou, &old); /* a background group's tcsetpgrp would stop it */
  if (tcsetpgrp(STDIN_FILENO, getpid()) != 0) {
    /* the terminal is not ours after all: the command runs in the background group */
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--die-with-parent") == 0) return die_with_parent(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "--outlive-pidfd") == 0) return outlive(argc, argv);
  int cmd = 1, logger = -1;
  if (argc >= 3 && strcmp(argv[1], "--wait-listen") == 0) {
    unsigned short ports[MAX_WAIT_PORTS];
    int n = parse_ports(argv[2], ports, MAX_WAIT_PORTS);
    if (n <= 0) {
      fprintf(stderr, "personae-seccomp: --wait-listen takes a list of ports, like 3128,3129\n");
      return 64;
    }
    cmd = 3;
    long wait_ms = WAIT_LISTEN_MS;
    if (argc >= 5 && strcmp(argv[3], "--wait-ms") == 0) {
      char *end;
      wait_ms = strtol(argv[4], &end, 10);
      if (*end != '\0' || wait_ms < 0 || wait_ms > 600000) {
        fprintf(stderr, "personae-seccomp: --wait-ms takes milliseconds, 0 to 600000\n");
        return 64;
      }
      cmd = 5;
    }
    if (wait_listening(ports, n, (int)wait_ms) != 0) {
      fprintf(stderr, "personae: the network bridge did not start; refusing to run\n");
      return 125;
    }
  }
  if (argc >= cmd + 2 && strcmp(argv[cmd], "--exec-log") == 0) {
    logger = connect_logger(argv[cmd + 1]);
    cmd += 2;
  }
  int foreground = 0;
  if (argc >= cmd + 2 && strcmp(argv[cmd], "--foreground") == 0) {
    foreground = 1;
    cmd++;
  }
  if (argc <= cmd) {
    fprintf(stderr, "usage: personae-seccomp [--wait-listen PORTS [--wait-ms MS]] [--exec-log SOCK] [--foreground] CMD [ARGS...]\n");
    return 64;
  }
  struct sock_filter prog[12 + 2 * N_DENIED + 104];
  size_t n = 0;
  /* Architecture check. */
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PERSONAE_ARCH, 1, 0);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
  /* No x32 syscalls. */
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
#endif
  if (logger >= 0) {
    /* Every exec, and every process exit (for its status), waits for the logger outside. */
    prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 2, 0);
    prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 1, 0);
    prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 0, 1);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
  }
  for (size_t i = 0; i < N_DENIED; i++) {
    prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied[i], 0, 1);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ERRNO(EPERM));
  }
  /* mknod of device nodes -> EPERM; FIFOs and regular files stay allowed. */
#ifdef __NR_mknod
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mknod, 0, 6);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, S_IFMT);
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFCHR, 1, 0);
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFBLK, 0, 1);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ERRNO(EPERM));
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#endif
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mknodat, 0, 6);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2]));
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, S_IFMT);
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFCHR, 1, 0);
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFBLK, 0, 1);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ERRNO(EPERM));
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  /* No set-user-ID / set-group-ID bits: chmod and friends, mknod of regular files, creating opens. */
#ifdef __NR_chmod
  n = deny_set_id_mode(prog, n, __NR_chmod, 1);
#endif
  n = deny_set_id_mode(prog, n, __NR_fchmod, 1);
  n = deny_set_id_mode(prog, n, __NR_fchmodat, 2);
  n = deny_set_id_mode(prog, n, __NR_fchmodat2, 2);
#ifdef __NR_mknod
  n = deny_set_id_mode(prog, n, __NR_mknod, 1);
#endif
  n = deny_set_id_mode(prog, n, __NR_mknodat, 2);
#ifdef __NR_creat
  n = deny_set_id_mode(prog, n, __NR_creat, 1);
#endif
#ifdef __NR_open
  n = deny_set_id_create(prog, n, __NR_open, 1, 2);
#endif
  n = deny_set_id_create(prog, n, __NR_openat, 2, 3);
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ERRNO(ENOSYS));
  /* ioctl TIOCSTI and TIOCLINUX -> EPERM (the kernel reads the request as 32 bits: so does this). */
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 4);
  prog[n++] = (struct sock_filter)LD_ARG(1);
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 1, 0);
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 0, 1);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ERRNO(EPERM));
  prog[n++] = (struct sock_filter)LD_NR;
  /* socket(AF_UNIX, ...) -> EPERM; socketpair stays allowed (pipes between children). */
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
  prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 0, 1);
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ERRNO(EPERM));
  prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

  struct sock_fprog fprog = {.len = (unsigned short)n, .filter = prog};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    perror("personae-seccomp: PR_SET_NO_NEW_PRIVS");
    return 70;
  }
  /* Best effort: without Landlock (kernels before 5.13, or disabled) the filter still applies. */
  (void)landlock_domain();
  if (logger >= 0) {
    long listener = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
    if (listener < 0) {
      fprintf(stderr, "personae: this kernel cannot report execs to the log (Linux 5.5 or later is needed): %s; refusing to run\n", strerror(errno));
      return 70;
    }
    hand_over(logger, (int)listener);
  } else if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) {
    perror("personae-seccomp: PR_SET_SECCOMP");
    return 70;
  }
  if (foreground) take_terminal();
  execvp(argv[cmd], argv + cmd);
  fprintf(stderr, "personae-seccomp: cannot run %s: %s\n", argv[cmd], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
