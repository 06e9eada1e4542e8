/* personae-execlog: the text files personae writes for it (execlog-text.c). */
#ifndef PERSONAE_EXECLOG_TEXT_H
#define PERSONAE_EXECLOG_TEXT_H
#include <stddef.h>

/* Decodes `len` lowercase hex digits into a new NUL-terminated string; NULL when malformed (or holding a NUL). */
char *unhex(const char *s, size_t len);

#define MAX_FIELDS 6
/*
 * Reads `path` one line at a time, each split on spaces into at most
 * MAX_FIELDS fields (missing ones NULL), and passes them to `record`, which
 * returns 0 to go on. Returns 0, or -1 with the reason in err ("the WHAT file
 * PATH is malformed at line N", or why it cannot be read).
 */
int read_records(const char *path, const char *what, int (*record)(char **f, int line, void *ctx), void *ctx, char *err, size_t err_size);

#endif
