/*
 * Denied-read tripwires. Each hidden path (the home directories, personae's
 * own data with other personas' homes, the persona's read_deny paths) is, in
 * the sandbox, an empty read-only directory or file; a process looking a name
 * up in it, listing it or opening it gets ENOENT, an empty listing or EACCES,
 * as before, and nothing else ever sees a difference. What changes is that
 * the attempt is seen: the empty directory (or file) is a FUSE file system
 * served by this process, so the kernel asks it about every name looked up
 * there, with the asking process's pid, while every other path costs nothing.
 *
 * The tripwires file (written by personae, sandbox/policy/tripwires.ts):
 *   trip IDX d|f MOUNTPOINT HOSTPATH     a hidden directory or file
 *   skel IDX d|f RELPATH                 a path inside it that must exist (a mount point for what the sandbox binds beneath)
 * (strings in lowercase hex). A skeleton entry answers lookups as a read-only
 * directory (or file) and records nothing; any other name is recorded when it
 * exists on the host (an attempt on hidden data: "lookup"), and answered
 * ENOENT either way, without following it further. Listing a hidden
 * directory is recorded ("list"), and so is opening a hidden file ("open",
 * answered EACCES).
 *
 * Where the file systems live: the child that becomes bwrap first makes a
 * user and mount namespace of its own (the same user), mounts each one at its
 * mount point (in personae's run directory: the host never sees them), and
 * bwrap binds them over the hidden paths as it would bind the empty
 * directories they cover. When /dev/fuse, user namespaces or FUSE mounts are
 * not available, nothing is mounted: the skeleton is made in the bare mount
 * points instead, bwrap binds them, the paths stay hidden, and the status
 * line says the attempts go unrecorded.
 * Requests from processes outside the sandbox's pid namespace (this logger
 * looking at an exec's file) are answered and not recorded.
 */
#define _GNU_SOURCE
#include "execlog-tripwire.h"
#include "execlog-text.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_TRIPS 64
#define MAX_NODES 256

struct node {
  char *name; /* NULL for the root */
  int parent; /* index, -1 for the root */
  char kind; /* d | f */
};

struct trip {
  char kind;
  char *mount_point;
  char *host_path;
  struct node nodes[MAX_NODES];
  int n_nodes;
  int fd;
};

static struct trip trips[MAX_TRIPS];
static int n_trips;
static tripwire_record on_record;

int tripwires_count(void) { return n_trips; }

static int child_of(const struct trip *t, int parent, const char *name) {
  for (int i = 1; i < t->n_nodes; i++)
    if (t->nodes[i].parent == parent && strcmp(t->nodes[i].name, name) == 0) return i;
  return -1;
}

/* Adds RELPATH (a/b/c) as nodes: every directory on the way, the last one of `kind`. */
static int add_skeleton(struct trip *t, char *rel, char kind) {
  int at = 0;
  for (char *part = strtok(rel, "/"), *next; part != NULL; part = next) {
    next = strtok(NULL, "/");
    if (strcmp(part, ".") == 0 || strcmp(part, "..") == 0) return -1;
    int found = child_of(t, at, part);
    if (found < 0) {
      if (t->n_nodes >= MAX_NODES) return -1;
      found = t->n_nodes++;
      t->nodes[found] = (struct node){.name = strdup(part), .parent = at, .kind = next == NULL ? kind : 'd'};
    }
    at = found;
  }
  return 0;
}

/* One line of the tripwires file (see policy/tripwires.ts tripwiresFile). */
static int trip_record(char **f, int lineno, void *ctx) {
  (void)lineno;
  (void)ctx;
  if (f[0] == NULL || f[1] == NULL || f[2] == NULL || f[3] == NULL || (f[2][0] != 'd' && f[2][0] != 'f') || f[2][1] != '\0') return -1;
  int idx = atoi(f[1]);
  if (strcmp(f[0], "trip") == 0 && f[4] != NULL && idx == n_trips && n_trips < MAX_TRIPS) {
    struct trip *t = &trips[n_trips];
    t->kind = f[2][0];
    t->mount_point = unhex(f[3], strlen(f[3]));
    t->host_path = unhex(f[4], strlen(f[4]));
    t->nodes[0] = (struct node){.name = NULL, .parent = -1, .kind = t->kind};
    t->n_nodes = 1;
    t->fd = -1;
    if (t->mount_point == NULL || t->host_path == NULL) return -1;
    n_trips++;
    return 0;
  }
  if (strcmp(f[0], "skel") == 0 && idx >= 0 && idx < n_trips && trips[idx].kind == 'd') {
    char *rel = unhex(f[3], strlen(f[3]));
    int ok = rel != NULL && add_skeleton(&trips[idx], rel, f[2][0]) == 0;
    free(rel);
    return ok ? 0 : -1;
  }
  return -1;
}

int tripwires_load(const char *path, char *err, size_t err_size) { return read_records(path, "tripwires", trip_record, NULL, err, err_size); }

static int write_fd(int fd, const char *text) {
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* The status line, and with "ok" the mounted file systems' /dev/fuse descriptors. */
static void report(int sock, const char *text, const int *fds, int n) {
  struct iovec iov = {.iov_base = (void *)text, .iov_len = strlen(text)};
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_TRIPS)];
    struct cmsghdr align;
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (n > 0) {
    msg.msg_control = ctl.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
  }
  if (sendmsg(sock, &msg, 0) < 0) {
    /* the parent is gone: it kills this child anyway */
  }
}

/*
 * Where a tripwire is not mounted, bwrap binds its bare mount point, which
 * must then hold the skeleton itself (the mount points of what the sandbox
 * binds beneath the hidden path): made here, on the host, only then.
 */
static void host_skeleton(const struct trip *t) {
  char p[8192];
  for (int i = 1; i < t->n_nodes; i++) {
    const char *parts[MAX_NODES];
    int n = 0;
    for (int at = i; at > 0 && n < MAX_NODES; at = t->nodes[at].parent) parts[n++] = t->nodes[at].name;
    size_t len = (size_t)snprintf(p, sizeof p, "%s", t->mount_point);
    while (n > 0 && len < sizeof p) len += (size_t)snprintf(p + len, sizeof p - len, "/%s", parts[--n]);
    if (t->nodes[i].kind == 'd') {
      if (mkdir(p, 0755) != 0 && errno != EEXIST) return;
    } else {
      int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
      if (fd >= 0) close(fd);
    }
  }
}

static void host_skeletons(int from) {
  for (int i = from; i < n_trips; i++) host_skeleton(&trips[i]);
}

int tripwires_child(int sock) {
  char msg[256];
  if (n_trips == 0) {
    report(sock, "off no hidden path\n", NULL, 0);
    return 0;
  }
  uid_t uid = geteuid();
  gid_t gid = getegid();
  /*
   * Root (in the host's namespace) mounts in a mount namespace of its own;
   * any other user first makes a user namespace, mapping only itself. The
   * /dev/fuse descriptors are opened inside: the kernel accepts a FUSE mount
   * only from a descriptor opened in the mounting user namespace.
   */
  int flags = uid == 0 ? CLONE_NEWNS : CLONE_NEWUSER | CLONE_NEWNS;
  if (unshare(flags) != 0) {
    snprintf(msg, sizeof msg, "off cannot make a %s namespace: %s\n", uid == 0 ? "mount" : "user", strerror(errno));
    host_skeletons(0);
    report(sock, msg, NULL, 0);
    return 0;
  }
  /* From here on this process is in a namespace of its own: it must be usable, or nothing runs. */
  if (uid != 0) {
    char map[64];
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    int mapped = write_fd(open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC), map) == 0 && write_fd(open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC), "deny\n") == 0;
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    mapped = mapped && write_fd(open("/proc/self/gid_map", O_WRONLY | O_CLOEXEC), map) == 0;
    if (!mapped) {
      snprintf(msg, sizeof msg, "fail cannot map the user in its namespace: %s\n", strerror(errno));
      report(sock, msg, NULL, 0);
      return -1;
    }
  }
  /* Mounts made here must not reach the host's namespace. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
    snprintf(msg, sizeof msg, "fail cannot make the mounts private: %s\n", strerror(errno));
    report(sock, msg, NULL, 0);
    return -1;
  }
  int fds[MAX_TRIPS], n = 0;
  size_t len = (size_t)snprintf(msg, sizeof msg, "ok");
  for (int i = 0; i < n_trips; i++) {
    int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      snprintf(msg, sizeof msg, "off cannot open /dev/fuse: %s\n", strerror(errno));
      host_skeletons(i);
      break;
    }
    char opts[160];
    snprintf(opts, sizeof opts, "fd=%d,rootmode=%o,user_id=%u,group_id=%u,default_permissions,allow_other", fd,
             trips[i].kind == 'd' ? (unsigned)(S_IFDIR | 0555) : (unsigned)(S_IFREG | 0444), (unsigned)uid, (unsigned)gid);
    if (mount("personae-tripwire", trips[i].mount_point, "fuse.personae-tripwire", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) != 0) {
      int e = errno;
      close(fd);
      host_skeleton(&trips[i]);
      if (n == 0) {
        snprintf(msg, sizeof msg, "off cannot mount a FUSE file system: %s\n", strerror(e));
        host_skeletons(i + 1);
        break;
      }
      continue;
    }
    fds[n++] = fd;
    if (len < sizeof msg - 8) len += (size_t)snprintf(msg + len, sizeof msg - len, "%s%d", n == 1 ? " " : ",", i);
  }
  if (strncmp(msg, "ok", 2) == 0 && len < sizeof msg - 1) snprintf(msg + len, sizeof msg - len, "\n");
  report(sock, msg, strncmp(msg, "ok", 2) == 0 ? fds : NULL, strncmp(msg, "ok", 2) == 0 ? n : 0);
  for (int k = 0; k < n; k++) close(fds[k]);
  return 0;
}

int tripwires_receive(int sock, int timeout_ms, char *line, size_t size) {
  struct pollfd pfd = {.fd = sock, .events = POLLIN};
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_TRIPS)];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {.iov_base = line, .iov_len = size - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  ssize_t got = poll(&pfd, 1, timeout_ms) == 1 ? recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) : -1;
  if (got <= 0) {
    snprintf(line, size, "fail the sandbox did not start\n");
    return -1;
  }
  line[got] = '\0';
  int fds[MAX_TRIPS], n = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)n);
  }
  if (strncmp(line, "ok ", 3) != 0) {
    for (int k = 0; k < n; k++) close(fds[k]);
    return 0;
  }
  /* "ok I,J,K": the descriptors, in that order. */
  int k = 0;
  for (char *p = line + 3; *p != '\0' && *p != '\n' && k < n;) {
    char *end;
    long i = strtol(p, &end, 10);
    if (end == p || i < 0 || i >= n_trips) break;
    trips[i].fd = fds[k++];
    p = *end == ',' ? end + 1 : end;
  }
  for (; k < n; k++) close(fds[k]);
  return 0;
}

/* ---- serving ---- */

static char own_pidns[64];

/* Inside the sandbox's pid namespace, not this logger or personae looking at it from outside. */
static int from_sandbox(pid_t pid) {
  if (pid <= 0) return 0;
  char link[64], ns[64];
  snprintf(link, sizeof link, "/proc/%d/ns/pid", (int)pid);
  ssize_t n = readlink(link, ns, sizeof ns - 1);
  if (n <= 0) return 0;
  ns[n] = '\0';
  return strcmp(ns, own_pidns) != 0;
}

/* The path of node `i` below the trip's host path (into buf). */
static void node_path(const struct trip *t, int i, const char *extra, char *buf, size_t size) {
  const char *parts[MAX_NODES];
  int n = 0;
  for (int at = i; at > 0 && n < MAX_NODES; at = t->nodes[at].parent) parts[n++] = t->nodes[at].name;
  size_t len = (size_t)snprintf(buf, size, "%s", t->host_path);
  while (n > 0 && len < size) len += (size_t)snprintf(buf + len, size - len, "/%s", parts[--n]);
  if (extra != NULL && len < size) snprintf(buf + len, size - len, "/%s", extra);
}

static void attr_of(const struct trip *t, int i, struct fuse_attr *a) {
  memset(a, 0, sizeof *a);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  a->ino = (uint64_t)i + 1;
  a->mode = t->nodes[i].kind == 'd' ? (S_IFDIR | 0555) : (S_IFREG | 0444);
  a->nlink = t->nodes[i].kind == 'd' ? 2 : 1;
  a->uid = geteuid();
  a->gid = getegid();
  a->atime = a->mtime = a->ctime = (uint64_t)now.tv_sec;
  a->blksize = 4096;
}

static void reply(int fd, uint64_t unique, int error, const void *body, size_t len) {
  struct fuse_out_header h = {.len = (uint32_t)(sizeof h + (error == 0 ? len : 0)), .error = -error, .unique = unique};
  struct iovec iov[2] = {{.iov_base = &h, .iov_len = sizeof h}, {.iov_base = (void *)body, .iov_len = error == 0 ? len : 0}};
  if (writev(fd, iov, error == 0 && len > 0 ? 2 : 1) < 0) {
    /* ENOENT: the request was interrupted; nothing to do */
  }
}

#define TTL 86400

static void handle(struct trip *t, int ti, const struct fuse_in_header *in, const char *arg, size_t arg_len) {
  int node = (int)in->nodeid - 1;
  if (in->opcode == FUSE_FORGET || in->opcode == FUSE_BATCH_FORGET || in->opcode == FUSE_INTERRUPT) return;
  if (in->opcode != FUSE_INIT && (node < 0 || node >= t->n_nodes)) {
    reply(t->fd, in->unique, ENOENT, NULL, 0);
    return;
  }
  char path[8192];
  switch (in->opcode) {
    case FUSE_INIT: {
      const struct fuse_init_in *init = (const void *)arg;
      struct fuse_init_out out = {.major = FUSE_KERNEL_VERSION, .minor = FUSE_KERNEL_MINOR_VERSION, .max_readahead = arg_len >= sizeof *init ? init->max_readahead : 0, .max_write = 4096, .time_gran = 1, .max_background = 4, .congestion_threshold = 3};
      if (arg_len >= 8 && init->minor < out.minor) out.minor = init->minor;
      reply(t->fd, in->unique, 0, &out, sizeof out);
      return;
    }
    case FUSE_LOOKUP: {
      const char *name = arg;
      if (memchr(arg, '\0', arg_len) == NULL) {
        reply(t->fd, in->unique, EINVAL, NULL, 0);
        return;
      }
      int found = t->nodes[node].kind == 'd' ? child_of(t, node, name) : -1;
      if (found >= 0) {
        struct fuse_entry_out e = {.nodeid = (uint64_t)found + 1, .generation = 1, .entry_valid = TTL, .attr_valid = TTL};
        attr_of(t, found, &e.attr);
        reply(t->fd, in->unique, 0, &e, sizeof e);
        return;
      }
      node_path(t, node, name, path, sizeof path);
      struct stat st;
      if (from_sandbox((pid_t)in->pid) && lstat(path, &st) == 0) on_record((pid_t)in->pid, ti, path, "lookup");
      reply(t->fd, in->unique, ENOENT, NULL, 0);
      return;
    }
    case FUSE_GETATTR: {
      struct fuse_attr_out out = {.attr_valid = TTL};
      attr_of(t, node, &out.attr);
      reply(t->fd, in->unique, 0, &out, sizeof out);
      return;
    }
    case FUSE_OPENDIR: {
      node_path(t, node, NULL, path, sizeof path);
      if (from_sandbox((pid_t)in->pid)) on_record((pid_t)in->pid, ti, path, "list");
      struct fuse_open_out out = {.fh = (uint64_t)node + 1};
      reply(t->fd, in->unique, 0, &out, sizeof out);
      return;
    }
    case FUSE_OPEN: {
      node_path(t, node, NULL, path, sizeof path);
      if (from_sandbox((pid_t)in->pid)) on_record((pid_t)in->pid, ti, path, "open");
      reply(t->fd, in->unique, EACCES, NULL, 0);
      return;
    }
    case FUSE_READDIR: {
      const struct fuse_read_in *rd = (const void *)arg;
      if (arg_len < sizeof *rd) {
        reply(t->fd, in->unique, EINVAL, NULL, 0);
        return;
      }
      static char buf[65536];
      size_t used = 0, cap = rd->size < sizeof buf ? rd->size : sizeof buf;
      uint64_t index = 0;
      for (int i = -2; i < t->n_nodes; i++) {
        if (i >= 0 && (i == 0 || t->nodes[i].parent != node)) continue;
        index++;
        if (index <= rd->offset) continue;
        const char *name = i == -2 ? "." : i == -1 ? ".." : t->nodes[i].name;
        size_t nl = strlen(name), size = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + nl);
        if (used + size > cap) break;
        struct fuse_dirent *d = (void *)(buf + used);
        memset(d, 0, size);
        d->ino = i >= 0 ? (uint64_t)i + 1 : 1;
        d->off = index;
        d->namelen = (uint32_t)nl;
        d->type = i < 0 || t->nodes[i].kind == 'd' ? 4 /* DT_DIR */ : 8 /* DT_REG */;
        memcpy(d->name, name, nl);
        used += size;
      }
      reply(t->fd, in->unique, 0, buf, used);
      return;
    }
    case FUSE_RELEASEDIR:
    case FUSE_RELEASE:
    case FUSE_FLUSH:
      reply(t->fd, in->unique, 0, NULL, 0);
      return;
    case FUSE_STATFS: {
      struct fuse_statfs_out out;
      memset(&out, 0, sizeof out);
      out.st.bsize = 4096;
      out.st.namelen = 255;
      out.st.frsize = 4096;
      reply(t->fd, in->unique, 0, &out, sizeof out);
      return;
    }
    case FUSE_ACCESS:
      reply(t->fd, in->unique, 0, NULL, 0);
      return;
    default:
      reply(t->fd, in->unique, ENOSYS, NULL, 0);
      return;
  }
}

static void *serve(void *unused) {
  (void)unused;
  static char buf[FUSE_MIN_READ_BUFFER + 131072];
  struct pollfd fds[MAX_TRIPS];
  for (;;) {
    int n = 0;
    for (int i = 0; i < n_trips; i++)
      if (trips[i].fd >= 0) fds[n++] = (struct pollfd){.fd = trips[i].fd, .events = POLLIN};
    if (n == 0) return NULL;
    if (poll(fds, (nfds_t)n, -1) < 0) {
      if (errno == EINTR) continue;
      return NULL;
    }
    for (int k = 0, i = 0; i < n_trips; i++) {
      if (trips[i].fd < 0) continue;
      struct pollfd *p = &fds[k++];
      if (p->revents & (POLLERR | POLLHUP | POLLNVAL)) {
        close(trips[i].fd);
        trips[i].fd = -1;
        continue;
      }
      if (!(p->revents & POLLIN)) continue;
      ssize_t got = read(trips[i].fd, buf, sizeof buf);
      if (got < 0 && (errno == EINTR || errno == EAGAIN || errno == ENOENT)) continue;
      if (got < (ssize_t)sizeof(struct fuse_in_header)) {
        /* ENODEV: unmounted (the sandbox ended) */
        close(trips[i].fd);
        trips[i].fd = -1;
        continue;
      }
      const struct fuse_in_header *in = (const void *)buf;
      size_t len = in->len <= (size_t)got ? in->len : (size_t)got;
      handle(&trips[i], i, in, buf + sizeof *in, len - sizeof *in);
    }
  }
}

int tripwires_serve(tripwire_record record) {
  on_record = record;
  ssize_t n = readlink("/proc/self/ns/pid", own_pidns, sizeof own_pidns - 1);
  own_pidns[n > 0 ? n : 0] = '\0';
  int any = 0;
  for (int i = 0; i < n_trips; i++) any |= trips[i].fd >= 0;
  if (!any) return 0;
  pthread_t th;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int r = pthread_create(&th, &attr, serve, NULL);
  pthread_attr_destroy(&attr);
  return r == 0 ? 0 : -1;
}
