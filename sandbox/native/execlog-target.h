/* personae-execlog: what it learns about a stopped process (execlog-target.c). */
#ifndef PERSONAE_EXECLOG_TARGET_H
#define PERSONAE_EXECLOG_TARGET_H
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_ARG 4096
#define MAX_ARGS 1024
#define MAX_LINE (64 * 1024)

/* One log line being built. */
struct line {
  char buf[MAX_LINE * 2 + MAX_ARG * 2 + 4 * MAX_ARGS + 512];
  size_t len;
};

/* One stopped exec: who asked, the path it asked for and its argv (each string NUL-terminated in buf). */
struct exec_args {
  /* The thread that asked, and its process. */
  pid_t tid;
  pid_t pid;
  long ppid;
  char path[MAX_ARG + 1];
  size_t path_len;
  /* fexecve: the path is empty and the file is the descriptor (path holds what it points to). */
  int from_fd;
  int argc;
  /* Some arguments were left out (at most MAX_ARGS, MAX_LINE bytes in all). */
  int more;
  size_t used;
  size_t off[MAX_ARGS];
  size_t len[MAX_ARGS];
  /* This argument was cut at MAX_ARG bytes. */
  unsigned char cut[MAX_ARGS];
  char buf[MAX_LINE + MAX_ARGS + 1];
};

/* Thread-group id of a task (an exec or exit_group may come from any thread). */
pid_t tgid_of(pid_t tid);
/* The status of a process that has ended (a zombie), from /proc/PID/stat's exit_code; -1 if gone. */
int zombie_status(pid_t pid);
/*
 * Reads one stopped exec into `a` and returns 0 (decide, log, answer), or the
 * error to answer it with instead, unlogged (see execlog-target.c).
 */
int describe(const struct seccomp_notif *req, struct exec_args *a);
/* The "exec" line for `a` with its decision token (a, d..., q...). */
void format_exec(struct line *l, const struct exec_args *a, const char *decision);

#endif
