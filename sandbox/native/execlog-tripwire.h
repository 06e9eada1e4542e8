/* personae-execlog: denied-read tripwires, FUSE file systems standing in for hidden paths (execlog-tripwire.c). */
#ifndef PERSONAE_EXECLOG_TRIPWIRE_H
#define PERSONAE_EXECLOG_TRIPWIRE_H
#include <sys/types.h>

/* Reads the tripwires file; 0, or -1 with the reason in err. */
int tripwires_load(const char *path, char *err, size_t err_size);
/* How many tripwires are loaded. */
int tripwires_count(void);
/*
 * In the child that becomes bwrap: a user and mount namespace of its own with
 * the tripwires mounted at their mount points (bwrap binds them over the
 * hidden paths). Sends one status line on `sock` ("ok I,J,..." with the
 * mounted file systems' descriptors, "off REASON" or "fail REASON").
 * Returns 0 when the child may go on to bwrap (mounted, or nothing changed),
 * -1 when it must not (it is in a namespace it cannot use).
 */
int tripwires_child(int sock);
/* In the parent: the child's status line (into line) and descriptors (bounded wait); -1 when none came. */
int tripwires_receive(int sock, int timeout_ms, char *line, size_t size);
/* Starts the thread answering the file systems' requests; each attempt on a hidden path is passed to `record`. */
typedef void (*tripwire_record)(pid_t pid, int trip, const char *path, const char *op);
int tripwires_serve(tripwire_record record);

#endif
