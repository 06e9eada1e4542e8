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
  char buf[MAX_LINE * 2 + 256];
  size_t len;
};

/* Thread-group id of a task (an exec or exit_group may come from any thread). */
pid_t tgid_of(pid_t tid);
/* The status of a process that has ended (a zombie), from /proc/PID/stat's exit_code; -1 if gone. */
int zombie_status(pid_t pid);
/*
 * Builds the "exec" line for one stopped exec and returns 0 (log it, let it
 * run), or the error to answer it with instead, unlogged (see execlog-target.c).
 */
int describe(const struct seccomp_notif *req, struct line *l);

#endif
