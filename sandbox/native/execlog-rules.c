/*
 * The persona's command rules (`Bash(git push:*)` deny and ask rules),
 * decided by personae-execlog for one exec while the kernel holds it. The
 * specification, and the compiler of the rules file read here, is
 * sandbox/policy/exec-rules.ts; the matching below is the same algorithm
 * (a differential test feeds both the same cases). What only this side
 * does is find the names an exec is known by, from the file it names:
 *
 *   1. the basename of the path asked for, 2. of argv[0], 3. of the file the
 *   path resolves to inside the sandbox's own root (symlinks followed there),
 *   4. the program the file is: the same inode, the same ELF build id or the
 *   same bytes as a file the rules name ("ref" records: git on the PATH), so
 *   a renamed copy is still that program (a file the logger cannot read but
 *   whose size is that of a ref counts as the ref: fail closed),
 *   5. a `#!` script's interpreter, with the kernel's argv (interpreter, its
 *   argument, the script as named, the rest),
 *   6. for an interpreter (sh, python3, node, ...) whose first operand is a
 *   file that is a ref, that program with the words after the file.
 *
 * Each file's identity is cached by (device, inode, size, ctime). A file
 * swapped at a path the agent controls between this look and the kernel's
 * could run under a name the look did not see; see the README.
 */
#define _GNU_SOURCE
#include "execlog-rules.h"
#include "execlog-text.h"
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_openat2
#define __NR_openat2 437
#endif

#define MAX_RULES 4096
#define MAX_TABLE 128
#define MAX_REFS 512
#define MAX_CANDS 24
#define MAX_READINGS 16
#define MAX_SKIPPED_OPTIONS 8
#define BUILD_ID_MAX 64

struct rule {
  char list; /* d | q */
  char mode; /* p (prefix) | e (exact) | w (wildcard) */
  char *program; /* NULL: any program */
  char *text;
  size_t text_len;
};

struct words {
  char **w;
  int n;
};

struct known {
  char *name;
  int dashed;
  struct words with_value;
};

struct interp {
  char *name;
  struct words stops;
};

struct ref {
  char *name;
  char *path;
  dev_t dev;
  ino_t ino;
  off_t size;
  int bid_len;
  unsigned char bid[BUILD_ID_MAX];
};

static struct rule rules[MAX_RULES];
static int n_rules;
static struct known knowns[MAX_TABLE];
static int n_knowns;
static struct interp interps[MAX_TABLE];
static int n_interps;
static struct ref refs[MAX_REFS];
static int n_refs;

int rules_active(void) { return n_rules > 0; }

/* ---- the rules file ---- */

/* A comma-separated list of hex strings, or "-" for none. */
static int unhex_list(const char *s, struct words *out) {
  out->w = NULL;
  out->n = 0;
  if (strcmp(s, "-") == 0) return 0;
  size_t count = 1;
  for (const char *p = s; *p; p++) count += *p == ',';
  out->w = calloc(count, sizeof(char *));
  if (out->w == NULL) return -1;
  for (const char *p = s;;) {
    const char *end = strchr(p, ',');
    size_t len = end == NULL ? strlen(p) : (size_t)(end - p);
    char *w = unhex(p, len);
    if (w == NULL) return -1;
    out->w[out->n++] = w;
    if (end == NULL) break;
    p = end + 1;
  }
  return 0;
}

static int build_id(int fd, unsigned char *out);

static void load_ref(struct ref *r) {
  r->dev = 0;
  r->ino = 0;
  r->size = -1;
  r->bid_len = 0;
  int fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    r->size = st.st_size;
    r->bid_len = build_id(fd, r->bid);
  }
  close(fd);
}

/* One line of the rules file (see exec-rules.ts execRulesFile). */
static int rule_record(char **f, int lineno, void *ctx) {
  (void)ctx;
  if (lineno == 1) return f[0] != NULL && strcmp(f[0], "personae-exec-rules") == 0 && f[1] != NULL && strcmp(f[1], "1") == 0 ? 0 : -1;
  if (f[0] == NULL) return -1;
  if (strcmp(f[0], "rule") == 0 && f[4] != NULL && n_rules < MAX_RULES) {
    struct rule *r = &rules[n_rules];
    r->list = f[1][0];
    r->mode = f[2][0];
    r->program = strcmp(f[3], "-") == 0 ? NULL : unhex(f[3], strlen(f[3]));
    r->text = unhex(f[4], strlen(f[4]));
    int ok = (r->list == 'd' || r->list == 'q') && (r->mode == 'p' || r->mode == 'e' || r->mode == 'w') && f[1][1] == '\0' && f[2][1] == '\0' &&
             (r->program != NULL || strcmp(f[3], "-") == 0) && r->text != NULL;
    if (!ok) return -1;
    r->text_len = strlen(r->text);
    n_rules++;
    return 0;
  }
  if (strcmp(f[0], "known") == 0 && f[3] != NULL && n_knowns < MAX_TABLE) {
    struct known *k = &knowns[n_knowns];
    k->name = unhex(f[1], strlen(f[1]));
    k->dashed = strcmp(f[2], "1") == 0;
    if (k->name == NULL || unhex_list(f[3], &k->with_value) != 0) return -1;
    n_knowns++;
    return 0;
  }
  if (strcmp(f[0], "interp") == 0 && f[2] != NULL && n_interps < MAX_TABLE) {
    struct interp *k = &interps[n_interps];
    k->name = unhex(f[1], strlen(f[1]));
    if (k->name == NULL || unhex_list(f[2], &k->stops) != 0) return -1;
    n_interps++;
    return 0;
  }
  if (strcmp(f[0], "ref") == 0 && f[2] != NULL) {
    if (n_refs >= MAX_REFS) return 0;
    struct ref *r = &refs[n_refs];
    r->name = unhex(f[1], strlen(f[1]));
    r->path = unhex(f[2], strlen(f[2]));
    if (r->name == NULL || r->path == NULL) return -1;
    load_ref(r);
    n_refs++;
    return 0;
  }
  return -1;
}

int rules_load(const char *path, char *err, size_t err_size) { return read_records(path, "rules", rule_record, NULL, err, err_size); }

/* ---- matching: the same algorithm as sandbox/policy/exec-rules.ts ---- */

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* joinWords: the words joined by single spaces, runs of whitespace collapsed, trimmed. */
static size_t join_words(char *out, size_t cap, const char *name, char *const *args, int n) {
  size_t len = 0;
  int pending = 0;
  for (int i = -1; i < n; i++) {
    const char *w = i < 0 ? name : args[i];
    if (i >= 0) pending = 1; /* the joining space */
    for (const char *p = w; *p; p++) {
      if (is_space(*p)) {
        pending = 1;
        continue;
      }
      if (pending && len > 0 && len < cap) out[len++] = ' ';
      pending = 0;
      if (len < cap) out[len++] = *p;
    }
  }
  return len;
}

static const char *find(const char *hay, size_t hay_len, const char *needle, size_t needle_len) {
  if (needle_len == 0) return hay;
  return memmem(hay, hay_len, needle, needle_len);
}

/* tool-bash.ts's wildcardMatch: `*` only. */
static int wildcard(const char *pat, size_t pat_len, const char *text, size_t len) {
  const char *star = memchr(pat, '*', pat_len);
  if (star == NULL) return pat_len == len && memcmp(pat, text, len) == 0;
  size_t first = (size_t)(star - pat);
  const char *last_star = memrchr(pat, '*', pat_len);
  size_t last = pat_len - (size_t)(last_star - pat) - 1;
  if (len < first + last || memcmp(text, pat, first) != 0 || memcmp(text + len - last, last_star + 1, last) != 0) return 0;
  size_t pos = first, end = len - last;
  const char *p = star + 1;
  while (p < last_star + 1) {
    const char *next = memchr(p, '*', (size_t)(last_star + 1 - p));
    size_t piece = (size_t)(next - p);
    const char *at = find(text + pos, len - pos, p, piece);
    if (at == NULL || (size_t)(at - text) + piece > end) return 0;
    pos = (size_t)(at - text) + piece;
    p = next + 1;
  }
  return 1;
}

static int pattern_matches(const struct rule *r, const char *text, size_t len) {
  const char *t = r->text;
  size_t n = r->text_len;
  switch (r->mode) {
    case 'p':
      return (len == n && memcmp(text, t, n) == 0) || (len > n && memcmp(text, t, n) == 0 && text[n] == ' ');
    case 'e':
      return len == n && memcmp(text, t, n) == 0;
    default:
      return wildcard(t, n, text, len) || (n >= 2 && t[n - 2] == ' ' && t[n - 1] == '*' && len == n - 2 && memcmp(text, t, len) == 0);
  }
}

static const struct known *known_program(const char *name) {
  for (int i = 0; i < n_knowns; i++)
    if (strcmp(knowns[i].name, name) == 0) return &knowns[i];
  return NULL;
}

static int in_words(const struct words *ws, const char *w) {
  for (int i = 0; i < ws->n; i++)
    if (strcmp(ws->w[i], w) == 0) return 1;
  return 0;
}

/* readingStarts: 0 and every end of a run of leading options, ascending, at most MAX_READINGS. */
static int reading_starts(const char *name, char *const *args, int n, int *out) {
  const struct known *known = known_program(name);
  int have[MAX_SKIPPED_OPTIONS * 2 + 2] = {0};
  int limit = MAX_SKIPPED_OPTIONS * 2 + 1;
  int frontier[MAX_SKIPPED_OPTIONS * 2 + 2], n_frontier = 0, next[MAX_SKIPPED_OPTIONS * 2 + 2], n_next;
  have[0] = 1;
  if (n > 0) frontier[n_frontier++] = 0;
  for (int step = 0; step < MAX_SKIPPED_OPTIONS && n_frontier > 0; step++) {
    n_next = 0;
    for (int f = 0; f < n_frontier; f++) {
      int k = frontier[f];
      const char *w = args[k];
      if (w[0] != '-' || w[1] == '\0') continue;
      int targets[2], more[2], nt = 0;
      if (strcmp(w, "--") == 0) {
        targets[nt] = k + 1, more[nt++] = 0;
      } else if (known != NULL) {
        targets[nt] = k + (strchr(w, '=') == NULL && in_words(&known->with_value, w) ? 2 : 1), more[nt++] = 1;
      } else {
        targets[nt] = k + 1, more[nt++] = 1;
        if (strchr(w, '=') == NULL) targets[nt] = k + 2, more[nt++] = 1;
      }
      for (int t = 0; t < nt; t++) {
        int at = targets[t] < n ? targets[t] : n;
        if (at > limit || have[at]) continue;
        have[at] = 1;
        if (more[t] && at < n) next[n_next++] = at;
      }
    }
    memcpy(frontier, next, sizeof(int) * (size_t)n_next);
    n_frontier = n_next;
  }
  int count = 0;
  for (int k = 0; k <= limit && count < MAX_READINGS; k++)
    if (have[k]) out[count++] = k;
  return count;
}

/* One name the exec is known by and the words after it. */
struct cand {
  const char *name;
  char **args;
  int n;
};

static char text_buf[MAX_LINE + 4 * MAX_ARG + 64];

/* matchExec: the first rule (in file order) matching any reading of any candidate (dashed forms appended). */
static void match(struct cand *c, int n_c, struct verdict *v) {
  v->kind = 'a';
  v->rule = -1;
  v->text_len = 0;
  /* withDashed: `git-push ARGS` is also `git push ARGS`. */
  static char *dashed_args[MAX_CANDS][MAX_ARGS + 4];
  int base = n_c;
  for (int i = 0; i < base && n_c < MAX_CANDS; i++) {
    for (int k = 0; k < n_knowns && n_c < MAX_CANDS; k++) {
      size_t pl = strlen(knowns[k].name);
      if (!knowns[k].dashed || strncmp(c[i].name, knowns[k].name, pl) != 0 || c[i].name[pl] != '-' || c[i].name[pl + 1] == '\0') continue;
      char **args = dashed_args[n_c];
      args[0] = (char *)c[i].name + pl + 1;
      int n = c[i].n < MAX_ARGS + 2 ? c[i].n : MAX_ARGS + 2;
      memcpy(args + 1, c[i].args, sizeof(char *) * (size_t)n);
      c[n_c++] = (struct cand){.name = knowns[k].name, .args = args, .n = n + 1};
    }
  }
  for (int r = 0; r < n_rules; r++) {
    for (int i = 0; i < n_c; i++) {
      if (rules[r].program != NULL && strcmp(rules[r].program, c[i].name) != 0) continue;
      int starts[MAX_READINGS];
      int n_starts = reading_starts(c[i].name, c[i].args, c[i].n, starts);
      for (int s = 0; s < n_starts; s++) {
        size_t len = join_words(text_buf, sizeof text_buf, c[i].name, c[i].args + starts[s], c[i].n - starts[s]);
        if (!pattern_matches(&rules[r], text_buf, len)) continue;
        v->kind = rules[r].list;
        v->rule = r;
        v->text_len = len < VERDICT_TEXT ? len : VERDICT_TEXT;
        memcpy(v->text, text_buf, v->text_len);
        return;
      }
    }
  }
}

/* ---- the names of one exec, from its file ---- */

static int build_id(int fd, unsigned char *out) {
  Elf64_Ehdr eh;
  if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) return 0;
  if (eh.e_phnum == 0 || eh.e_phnum > 64 || eh.e_phentsize != sizeof(Elf64_Phdr)) return 0;
  Elf64_Phdr ph[64];
  size_t size = sizeof(Elf64_Phdr) * eh.e_phnum;
  if (pread(fd, ph, size, (off_t)eh.e_phoff) != (ssize_t)size) return 0;
  for (int i = 0; i < eh.e_phnum; i++) {
    if (ph[i].p_type != PT_NOTE) continue;
    unsigned char notes[4096];
    size_t want = ph[i].p_filesz < sizeof notes ? ph[i].p_filesz : sizeof notes;
    ssize_t got = pread(fd, notes, want, (off_t)ph[i].p_offset);
    if (got <= 0) continue;
    for (size_t at = 0; at + sizeof(Elf64_Nhdr) <= (size_t)got;) {
      Elf64_Nhdr nh;
      memcpy(&nh, notes + at, sizeof nh);
      size_t name_at = at + sizeof nh, desc_at = name_at + ((nh.n_namesz + 3) & ~3u);
      size_t next = desc_at + ((nh.n_descsz + 3) & ~3u);
      if (next > (size_t)got || next <= at) break;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && memcmp(notes + name_at, "GNU", 4) == 0 && nh.n_descsz > 0 && nh.n_descsz <= BUILD_ID_MAX) {
        memcpy(out, notes + desc_at, nh.n_descsz);
        return (int)nh.n_descsz;
      }
      at = next;
    }
  }
  return 0;
}

static unsigned char cmp_a[1 << 16], cmp_b[1 << 16];

static int same_bytes(int fd, const char *ref_path, off_t size) {
  int other = open(ref_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (other < 0) return 0;
  int same = 1;
  for (off_t at = 0; at < size && same;) {
    ssize_t a = pread(fd, cmp_a, sizeof cmp_a, at), b = pread(other, cmp_b, sizeof cmp_b, at);
    same = a > 0 && a == b && memcmp(cmp_a, cmp_b, (size_t)a) == 0;
    at += a > 0 ? a : 0;
  }
  close(other);
  return same;
}

/* What one file is, cached: its ref (or -1), and its `#!` line. */
struct identity {
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec ctime;
  int used;
  int ref;
  char interp[256];
  char interp_arg[256];
  int has_interp;
};

#define CACHE_SLOTS 1024
static struct identity cache[CACHE_SLOTS];

static void read_shebang(int fd, struct identity *id) {
  char buf[257];
  ssize_t n = pread(fd, buf, 256, 0);
  if (n < 3 || buf[0] != '#' || buf[1] != '!') return;
  buf[n] = '\0';
  char *nl = memchr(buf, '\n', (size_t)n);
  if (nl != NULL) *nl = '\0';
  char *p = buf + 2;
  while (*p == ' ' || *p == '\t') p++;
  char *end = p;
  while (*end && *end != ' ' && *end != '\t') end++;
  if (end == p || (size_t)(end - p) >= sizeof id->interp) return;
  memcpy(id->interp, p, (size_t)(end - p));
  id->interp[end - p] = '\0';
  p = end;
  while (*p == ' ' || *p == '\t') p++;
  end = p + strlen(p);
  while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) end--;
  memcpy(id->interp_arg, p, (size_t)(end - p));
  id->interp_arg[end - p] = '\0';
  id->has_interp = 1;
}

/* The identity of an open file (fd: O_PATH), from the cache or looked at once. */
static const struct identity *identify(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return NULL;
  size_t slot = (size_t)((st.st_ino * 2654435761u) ^ st.st_dev) % CACHE_SLOTS;
  struct identity *id = &cache[slot];
  if (id->used && id->dev == st.st_dev && id->ino == st.st_ino && id->size == st.st_size && id->ctime.tv_sec == st.st_ctim.tv_sec &&
      id->ctime.tv_nsec == st.st_ctim.tv_nsec)
    return id;
  memset(id, 0, sizeof *id);
  *id = (struct identity){.dev = st.st_dev, .ino = st.st_ino, .size = st.st_size, .ctime = st.st_ctim, .used = 1, .ref = -1};
  for (int r = 0; r < n_refs && id->ref < 0; r++)
    if (refs[r].dev == st.st_dev && refs[r].ino == st.st_ino) id->ref = r;
  char self[48];
  snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
  int rd = open(self, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (rd >= 0) {
    read_shebang(rd, id);
    if (id->ref < 0) {
      unsigned char bid[BUILD_ID_MAX];
      int bl = build_id(rd, bid);
      for (int r = 0; r < n_refs && id->ref < 0 && bl > 0; r++)
        if (refs[r].bid_len == bl && memcmp(refs[r].bid, bid, (size_t)bl) == 0) id->ref = r;
    }
    for (int r = 0; r < n_refs && id->ref < 0; r++)
      if (refs[r].size == st.st_size && same_bytes(rd, refs[r].path, st.st_size)) id->ref = r;
    close(rd);
  } else {
    /* Unreadable (execute-only): the size of a ref is enough to count as that ref. */
    for (int r = 0; r < n_refs && id->ref < 0; r++)
      if (refs[r].size == st.st_size) id->ref = r;
  }
  return id;
}

static int openat2_in(int root, const char *path) {
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
  return (int)syscall(__NR_openat2, root, path, &how, sizeof how);
}

/*
 * Opens (O_PATH) the file an exec of `path` by thread `tid` would run, as the
 * target sees it: absolute paths and symlinks inside its own root, relative
 * ones from its cwd or dirfd, its own /proc/self and /dev/fd; -1 when it
 * cannot be told.
 */
static int open_target(pid_t tid, pid_t pid, long dirfd, int empty_path, const char *path) {
  static char buf[MAX_ARG * 2 + 64];
  if (empty_path) {
    snprintf(buf, sizeof buf, "/proc/%d/fd/%ld", (int)tid, dirfd);
    return open(buf, O_PATH | O_CLOEXEC);
  }
  static const struct {
    const char *prefix;
    const char *as;
  } own[] = {{"/proc/self/", "/proc/%d/"}, {"/proc/thread-self/", "/proc/%d/task/%d/"}, {"/dev/fd/", "/proc/%d/fd/"}};
  for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
    size_t pl = strlen(own[i].prefix);
    if (strncmp(path, own[i].prefix, pl) != 0) continue;
    int n = i == 1 ? snprintf(buf, sizeof buf, own[i].as, (int)pid, (int)tid) : snprintf(buf, sizeof buf, own[i].as, (int)pid);
    snprintf(buf + n, sizeof buf - (size_t)n, "%s", path + pl);
    return open(buf, O_PATH | O_CLOEXEC);
  }
  char link[64];
  snprintf(link, sizeof link, "/proc/%d/root", (int)tid);
  int root = open(link, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return -1;
  int fd;
  if (path[0] == '/') {
    fd = openat2_in(root, path);
  } else {
    if (dirfd == AT_FDCWD) snprintf(link, sizeof link, "/proc/%d/cwd", (int)tid);
    else snprintf(link, sizeof link, "/proc/%d/fd/%ld", (int)tid, dirfd);
    ssize_t n = readlink(link, buf, MAX_ARG);
    const char *deleted = " (deleted)";
    if (n <= 0 || buf[0] != '/' || (n >= 10 && memcmp(buf + n - 10, deleted, 10) == 0)) {
      /* Not a path inside its root: through the magic link (absolute symlinks then resolve in this process's root). */
      snprintf(buf, sizeof buf, "%s/%s", link, path);
      close(root);
      return open(buf, O_PATH | O_CLOEXEC);
    }
    snprintf(buf + n, sizeof buf - (size_t)n, "/%s", path);
    fd = openat2_in(root, buf);
  }
  close(root);
  return fd;
}

static const char *base_name(const char *p) {
  const char *slash = strrchr(p, '/');
  return slash == NULL || slash[1] == '\0' ? p : slash + 1;
}

static const struct interp *interpreter(const char *name) {
  for (int i = 0; i < n_interps; i++)
    if (strcmp(interps[i].name, name) == 0) return &interps[i];
  return NULL;
}

/* Is option `w` of this interpreter one after which the code is inline (`-c`, `-Bc`, `--eval=...`)? */
static int inline_code(const struct interp *in, const char *w) {
  for (int i = 0; i < in->stops.n; i++) {
    const char *s = in->stops.w[i];
    size_t sl = strlen(s);
    if (strcmp(w, s) == 0) return 1;
    if (s[0] == '-' && s[1] == '-' && strncmp(w, s, sl) == 0 && w[sl] == '=') return 1;
    if (sl == 2 && s[0] == '-' && w[0] == '-' && w[1] != '-' && strchr(w + 1, s[1]) != NULL) return 1;
  }
  return 0;
}

/* Candidate names (see the file comment), deduplicated by name and argv. */
struct cand_set {
  struct cand c[MAX_CANDS];
  int n;
};

static void add_cand(struct cand_set *s, const char *name, char **args, int n) {
  if (name == NULL || name[0] == '\0' || s->n >= MAX_CANDS) return;
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->c[i].name, name) == 0 && s->c[i].args == args && s->c[i].n == n) return;
  s->c[s->n++] = (struct cand){.name = name, .args = args, .n = n};
}

void rules_decide(const struct seccomp_notif *req, const struct exec_args *a, struct verdict *v) {
  v->kind = 'a';
  v->rule = -1;
  v->text_len = 0;
  if (n_rules == 0) return;
  static char *argv[MAX_ARGS + 1];
  for (int i = 0; i < a->argc; i++) argv[i] = (char *)a->buf + a->off[i];
  char **rest = a->argc > 0 ? argv + 1 : argv;
  int n_rest = a->argc > 0 ? a->argc - 1 : 0;
  struct cand_set s = {.n = 0};
  add_cand(&s, base_name(a->path), rest, n_rest);
  if (a->argc > 0) add_cand(&s, base_name(argv[0]), rest, n_rest);

  int is_at = req->data.nr != __NR_execve;
  long dirfd = is_at ? (long)(int)req->data.args[0] : AT_FDCWD;
  int fd = open_target(a->tid, a->pid, dirfd, a->from_fd, a->path);
  static char resolved[MAX_ARG + 1];
  static char shebang_name[256], shebang_arg[256];
  static char *shebang_argv[MAX_ARGS + 3];
  if (fd >= 0) {
    char self[48];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(self, resolved, MAX_ARG);
    if (n > 0) {
      resolved[n] = '\0';
      add_cand(&s, base_name(resolved), rest, n_rest);
    }
    const struct identity *id = identify(fd);
    close(fd);
    if (id != NULL && id->ref >= 0) add_cand(&s, refs[id->ref].name, rest, n_rest);
    if (id != NULL && id->has_interp) {
      snprintf(shebang_name, sizeof shebang_name, "%s", base_name(id->interp));
      snprintf(shebang_arg, sizeof shebang_arg, "%s", id->interp_arg);
      int k = 0;
      if (shebang_arg[0] != '\0') shebang_argv[k++] = shebang_arg;
      shebang_argv[k++] = (char *)a->path;
      memcpy(shebang_argv + k, rest, sizeof(char *) * (size_t)n_rest);
      add_cand(&s, shebang_name, shebang_argv, k + n_rest);
    }
  }
  /* An interpreter running a file that is a known program. */
  int base = s.n;
  for (int i = 0; i < base; i++) {
    const struct interp *in = interpreter(s.c[i].name);
    if (in == NULL || s.c[i].args != rest) continue;
    int operand = -1;
    for (int j = 0; j < n_rest; j++) {
      const char *w = rest[j];
      if (strcmp(w, "--") == 0) {
        operand = j + 1 < n_rest ? j + 1 : -1;
        break;
      }
      if (w[0] == '-' && w[1] != '\0') {
        if (inline_code(in, w)) break;
        continue;
      }
      operand = j;
      break;
    }
    if (operand < 0) continue;
    int sfd = open_target(a->tid, a->pid, AT_FDCWD, 0, rest[operand]);
    if (sfd < 0) continue;
    const struct identity *id = identify(sfd);
    close(sfd);
    if (id != NULL && id->ref >= 0) add_cand(&s, refs[id->ref].name, rest + operand + 1, n_rest - operand - 1);
    break;
  }
  match(s.c, s.n, v);
}

/* ---- the test mode ---- */

static char *split_word(char *tok) {
  if (tok[0] != 'x') return NULL;
  size_t len = strlen(tok + 1);
  if (len == 0) {
    char *e = malloc(1);
    if (e != NULL) e[0] = '\0';
    return e;
  }
  return unhex(tok + 1, len);
}

int rules_match_stdin(const char *path) {
  char err[512];
  if (rules_load(path, err, sizeof err) != 0) {
    fprintf(stderr, "personae-execlog: %s\n", err);
    return 70;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t got;
  static char *words[MAX_CANDS][MAX_ARGS + 1];
  while ((got = getline(&line, &cap, stdin)) >= 0) {
    if (got > 0 && line[got - 1] == '\n') line[got - 1] = '\0';
    struct cand c[MAX_CANDS];
    int n_c = 0, nw = 0, bad = 0;
    char *name = NULL;
    for (char *tok = strtok(line, " "); tok != NULL; tok = strtok(NULL, " ")) {
      if (strcmp(tok, "|") == 0) {
        if (name != NULL && n_c < MAX_CANDS) {
          c[n_c] = (struct cand){.name = name, .args = words[n_c], .n = nw};
          n_c++;
        }
        name = NULL;
        nw = 0;
        continue;
      }
      char *w = split_word(tok);
      if (w == NULL) {
        bad = 1;
        break;
      }
      if (name == NULL) name = w;
      else if (nw < MAX_ARGS && n_c < MAX_CANDS) words[n_c][nw++] = w;
    }
    if (!bad && name != NULL && n_c < MAX_CANDS) {
      c[n_c] = (struct cand){.name = name, .args = words[n_c], .n = nw};
      n_c++;
    }
    struct verdict v;
    if (bad) {
      printf("?\n");
      continue;
    }
    match(c, n_c, &v);
    if (v.rule < 0) {
      printf("-\n");
    } else {
      printf("%d ", v.rule);
      for (size_t i = 0; i < v.text_len; i++) printf("%02x", (unsigned char)v.text[i]);
      printf("\n");
    }
    fflush(stdout);
  }
  free(line);
  return 0;
}
