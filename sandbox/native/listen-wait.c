/*
 * personae-seccomp --wait-listen: waits until the sandbox's bridges (socat,
 * started in the background by the init script) listen on loopback.
 *
 * It asks the kernel's socket diagnostics (NETLINK_SOCK_DIAG) for listening
 * TCP sockets only, which walks just the listening table. Reading
 * /proc/net/tcp instead walks the whole established-connection hash table,
 * which is shared by every network namespace and sized by the machine's
 * memory: about 3 ms of CPU per read on a 24 GiB machine, and a shell reading
 * it line by line pays that for every byte it reads.
 */
#define _GNU_SOURCE
#include "listen-wait.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TCP_LISTEN_STATE 10

/* Parses "P1,P2,..." into ports; returns how many, or -1 if it is not such a list. */
int parse_ports(const char *list, unsigned short *ports, int max) {
  int n = 0;
  for (const char *p = list;;) {
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (errno != 0 || end == p || *p == '-' || *p == '+' || v < 1 || v > 65535 || n == max) return -1;
    ports[n++] = (unsigned short)v;
    if (*end == '\0') return n;
    if (*end != ',') return -1;
    p = end + 1;
  }
}

/* One dump of the loopback TCP listeners; returns a bit per port in `ports` that has one, or -1 on error. */
static int listening_now(const unsigned short *ports, int n) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -1;
  struct {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 req;
  } msg;
  memset(&msg, 0, sizeof msg);
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.req.sdiag_family = AF_INET;
  msg.req.sdiag_protocol = IPPROTO_TCP;
  msg.req.idiag_states = 1u << TCP_LISTEN_STATE;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, &msg, sizeof msg, 0, (struct sockaddr *)&kernel, sizeof kernel) != (ssize_t)sizeof msg) {
    close(fd);
    return -1;
  }
  int found = 0;
  long buf[8192 / sizeof(long)];
  for (;;) {
    ssize_t len = recv(fd, buf, sizeof buf, 0);
    if (len < 0 && errno == EINTR) continue;
    if (len <= 0) break;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) {
        close(fd);
        return found;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        close(fd);
        return -1;
      }
      const struct inet_diag_msg *d = NLMSG_DATA(h);
      if (d->idiag_state != TCP_LISTEN_STATE || d->id.idiag_src[0] != htonl(INADDR_LOOPBACK)) continue;
      for (int i = 0; i < n; i++) {
        if (ntohs(d->id.idiag_sport) == ports[i]) found |= 1 << i;
      }
    }
  }
  close(fd);
  return -1;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int wait_listening(const unsigned short *ports, int n, int timeout_ms) {
  const int all = (1 << n) - 1;
  const double deadline = now_ms() + timeout_ms;
  for (;;) {
    int found = listening_now(ports, n);
    if (found == all) return 0;
    if (found < 0 || now_ms() > deadline) return -1;
    /* socat takes a few milliseconds to start: look again every 200 microseconds. */
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 200 * 1000};
    nanosleep(&pause, NULL);
  }
}
