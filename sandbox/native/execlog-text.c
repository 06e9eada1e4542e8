/* The line-based, hex-quoted files personae writes for the exec logger (rules, tripwires). */
#define _GNU_SOURCE
#include "execlog-text.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

char *unhex(const char *s, size_t len) {
  if (len % 2 != 0) return NULL;
  char *out = malloc(len / 2 + 1);
  if (out == NULL) return NULL;
  for (size_t i = 0; i < len; i += 2) {
    int hi = hexval(s[i]), lo = hexval(s[i + 1]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
      free(out);
      return NULL;
    }
    out[i / 2] = (char)(hi * 16 + lo);
  }
  out[len / 2] = '\0';
  return out;
}

int read_records(const char *path, const char *what, int (*record)(char **f, int line, void *ctx), void *ctx, char *err, size_t err_size) {
  FILE *file = fopen(path, "re");
  if (file == NULL) {
    snprintf(err, err_size, "cannot read the %s file %s: %s", what, path, strerror(errno));
    return -1;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t got;
  int lineno = 0, ok = 1;
  while (ok && (got = getline(&line, &cap, file)) >= 0) {
    lineno++;
    if (got > 0 && line[got - 1] == '\n') line[--got] = '\0';
    char *f[MAX_FIELDS];
    f[0] = strtok(line, " ");
    for (int i = 1; i < MAX_FIELDS; i++) f[i] = strtok(NULL, " ");
    ok = record(f, lineno, ctx) == 0;
  }
  free(line);
  fclose(file);
  if (!ok) {
    snprintf(err, err_size, "the %s file %s is malformed at line %d", what, path, lineno);
    return -1;
  }
  return 0;
}
