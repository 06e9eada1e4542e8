/*
 * personae-seccomp: applies the sandbox's syscall filter, then execs a command.
 *
 *   personae-seccomp CMD [ARGS...]
 *   personae-seccomp --die-with-parent PPID CMD [ARGS...]
 *
 * The second form applies no filter: it arranges for CMD to be killed when the
 * process PPID (the personae supervisor) dies, so that a supervisor killed by
 * SIGKILL still takes its tracer and sandbox with it (bwrap's own
 * --die-with-parent then takes everything inside).
 *
 * Runs inside the bwrap sandbox after the proxy bridge (socat) has started, so
 * that the bridge keeps its unix socket while nothing started after it can
 * create one. The filter returns EPERM for syscalls a coding agent has no use
 * for and that widen the attack surface (ptrace, mount, namespaces, kernel
 * keyrings, BPF, io_uring, module loading), and for socket(AF_UNIX, ...), so
 * host unix sockets visible on the filesystem cannot be reached. Unknown
 * architectures and the x32 ABI are killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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
#define ERRNO(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

static int die_with_parent(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: personae-seccomp --die-with-parent PPID CMD [ARGS...]\n");
    return 64;
  }
  long expected = strtol(argv[2], NULL, 10);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
    perror("personae-seccomp: PR_SET_PDEATHSIG");
    return 70;
  }
  if ((long)getppid() != expected) return 70; /* the parent is already gone */
  execvp(argv[3], argv + 3);
  fprintf(stderr, "personae-seccomp: cannot run %s: %s\n", argv[3], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--die-with-parent") == 0) return die_with_parent(argc, argv);
  if (argc < 2) {
    fprintf(stderr, "usage: personae-seccomp CMD [ARGS...]\n");
    return 64;
  }
  struct sock_filter prog[8 + 2 * N_DENIED + 32];
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
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) {
    perror("personae-seccomp: PR_SET_SECCOMP");
    return 70;
  }
  execvp(argv[1], argv + 1);
  fprintf(stderr, "personae-seccomp: cannot run %s: %s\n", argv[1], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
