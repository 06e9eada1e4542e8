/*
 * personae-remount: puts a hiding mount back inside a running sandbox.
 *
 *   personae-remount PID SOURCE
 *
 * then, on standard input, requests separated by NUL bytes, "ACTION\0TARGET\0":
 *
 *   file TARGET   bind SOURCE (an empty unreadable file inside) over the file TARGET
 *   dir TARGET    an empty read-only tmpfs over the directory TARGET
 *   pin TARGET    TARGET bound read-only onto itself (a persistence trap)
 *
 * and one answer line per request, in order: "0" hidden, "3" TARGET does not
 * exist (or is the wrong type) inside the sandbox, "70 MESSAGE" failed. It
 * joins the namespaces once and stays, so a change is answered in well under
 * a millisecond; it ends when its standard input does.
 *
 * A hidden file is a mount over a path, and a mount sits on one dentry: when
 * something on the host replaces that path (a rename over it, or a denied
 * path created only after the sandbox started), the sandbox sees the new file
 * unhidden (or a trap pinned read-only becomes writable). The supervisor watches those paths and runs this to hide the new
 * one: it joins the sandbox's user and mount namespaces (the sandbox's user
 * namespace belongs to this user, so this process holds every capability in
 * it, none outside) and mounts over TARGET as the sandbox sees it. TARGET is
 * opened without following symlinks and the mount is attached to that open
 * file (open_tree/fsmount + move_mount), so nothing inside can redirect it.
 *
 * A failure (70) makes the caller stop the session.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <sched.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_open_tree
#define __NR_open_tree 428
#endif
#ifndef __NR_move_mount
#define __NR_move_mount 429
#endif
#ifndef __NR_fsopen
#define __NR_fsopen 430
#endif
#ifndef __NR_fsconfig
#define __NR_fsconfig 431
#endif
#ifndef __NR_fsmount
#define __NR_fsmount 432
#endif
#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif
#ifndef __NR_openat2
#define __NR_openat2 437
#endif

static char error_text[256];

static int fail(const char *what) {
  snprintf(error_text, sizeof error_text, "%s: %s", what, strerror(errno));
  return 70;
}

/* Joins the mount namespace of PID through the user namespace that owns it (bwrap may nest another one below). */
static int join_mounts(const char *pid) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%s/ns/mnt", pid);
  int mnt = open(p, O_RDONLY | O_CLOEXEC);
  if (mnt < 0) return fail("open the sandbox's mount namespace");
  int owner = ioctl(mnt, NS_GET_USERNS);
  if (owner < 0) return fail("find the owner of the sandbox's mount namespace");
  if (setns(owner, CLONE_NEWUSER) != 0) return fail("join the sandbox's user namespace");
  if (setns(mnt, CLONE_NEWNS) != 0) return fail("join the sandbox's mount namespace");
  close(owner);
  close(mnt);
  return 0;
}

/* Mounts over TARGET as the sandbox sees it; 0, 3 (not there, or the wrong type) or 70 (error_text says why). */
static int hide(const char *action, const char *target, const char *source) {
  int is_file = strcmp(action, "file") == 0, is_dir = strcmp(action, "dir") == 0, is_pin = strcmp(action, "pin") == 0;
  if ((!is_file && !is_dir && !is_pin) || target[0] != '/') {
    errno = EINVAL;
    return fail("bad request");
  }
  struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  int at = (int)syscall(__NR_openat2, AT_FDCWD, target, &how, sizeof how);
  if (at < 0) return errno == ENOENT || errno == ELOOP ? 3 : fail("open the target");
  struct stat st;
  int code = 0, mnt = -1;
  if (fstat(at, &st) != 0) {
    code = fail("stat the target");
  } else if (is_dir ? !S_ISDIR(st.st_mode) : is_file && S_ISDIR(st.st_mode)) {
    code = 3;
  } else if (is_pin) {
    mnt = (int)syscall(__NR_open_tree, at, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    if (mnt < 0) code = fail("clone the trap");
    else if (syscall(__NR_mount_setattr, mnt, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) code = fail("make the trap read-only");
  } else if (is_file) {
    mnt = (int)syscall(__NR_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (mnt < 0) code = fail("clone the hiding file's mount");
  } else {
    int fs = (int)syscall(__NR_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0) {
      code = fail("fsopen tmpfs");
    } else {
      if (syscall(__NR_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "0", 0) != 0 || syscall(__NR_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0) code = fail("create tmpfs");
      else if ((mnt = (int)syscall(__NR_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)) < 0) code = fail("fsmount tmpfs");
      close(fs);
    }
  }
  if (code == 0 && syscall(__NR_move_mount, mnt, "", at, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) code = fail("mount over the target");
  if (mnt >= 0) close(mnt);
  close(at);
  return code;
}

/* Reads one NUL-terminated field from stdin into buf; 0 at end of input. */
static int field(char *buf, size_t size) {
  size_t n = 0;
  for (;;) {
    int c = getchar();
    if (c == EOF) return 0;
    if (c == '\0') break;
    if (n + 1 < size) buf[n++] = (char)c;
  }
  buf[n] = '\0';
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: personae-remount PID SOURCE (requests on stdin)\n");
    return 64;
  }
  if (join_mounts(argv[1]) != 0 || chdir("/") != 0) {
    fprintf(stderr, "personae-remount: %s\n", error_text[0] != '\0' ? error_text : "chdir /");
    return 70;
  }
  static char action[16], target[PATH_MAX];
  while (field(action, sizeof action) && field(target, sizeof target)) {
    error_text[0] = '\0';
    int code = hide(action, target, argv[2]);
    if (code == 70) printf("70 %s\n", error_text);
    else printf("%d\n", code);
    fflush(stdout);
  }
  return 0;
}
