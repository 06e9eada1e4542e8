/*
 * personae-remount: puts a hiding mount back inside a running sandbox.
 *
 *   personae-remount PID file TARGET SOURCE   bind SOURCE (a path inside) over the file TARGET
 *   personae-remount PID dir TARGET           an empty read-only tmpfs over the directory TARGET
 *   personae-remount PID pin TARGET           TARGET bound read-only onto itself (a persistence trap)
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
 * Exit status: 0 hidden, 3 TARGET does not exist (or is the wrong type) in
 * the sandbox, 70 anything else (the caller then stops the session).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <sched.h>
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

static int fail(const char *what) {
  fprintf(stderr, "personae-remount: %s: %s\n", what, strerror(errno));
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

int main(int argc, char **argv) {
  int is_file = argc == 5 && strcmp(argv[2], "file") == 0;
  int is_dir = argc == 4 && strcmp(argv[2], "dir") == 0;
  int is_pin = argc == 4 && strcmp(argv[2], "pin") == 0;
  if (!is_file && !is_dir && !is_pin) {
    fprintf(stderr, "usage: personae-remount PID file TARGET SOURCE | PID dir TARGET | PID pin TARGET\n");
    return 64;
  }
  const char *target = argv[3];
  if (target[0] != '/') return 64;
  if (join_mounts(argv[1]) != 0) return 70;
  if (chdir("/") != 0) return fail("chdir");

  struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  int at = (int)syscall(__NR_openat2, AT_FDCWD, target, &how, sizeof how);
  if (at < 0) return errno == ENOENT || errno == ELOOP ? 3 : fail("open the target");
  struct stat st;
  if (fstat(at, &st) != 0) return fail("stat the target");
  if (is_dir ? !S_ISDIR(st.st_mode) : is_file && S_ISDIR(st.st_mode)) return 3;

  int mnt;
  if (is_pin) {
    mnt = (int)syscall(__NR_open_tree, at, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (mnt < 0) return fail("clone the trap");
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    if (syscall(__NR_mount_setattr, mnt, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) return fail("make the trap read-only");
  } else if (is_file) {
    mnt = (int)syscall(__NR_open_tree, AT_FDCWD, argv[4], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (mnt < 0) return fail("clone the hiding file's mount");
  } else {
    int fs = (int)syscall(__NR_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0) return fail("fsopen tmpfs");
    if (syscall(__NR_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "0", 0) != 0 || syscall(__NR_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0) return fail("create tmpfs");
    mnt = (int)syscall(__NR_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    if (mnt < 0) return fail("fsmount tmpfs");
  }
  if (syscall(__NR_move_mount, mnt, "", at, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) return fail("mount over the target");
  return 0;
}
