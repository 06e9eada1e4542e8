/* personae-seccomp: waiting for the sandbox's bridges to listen (listen-wait.c). */
#ifndef PERSONAE_LISTEN_WAIT_H
#define PERSONAE_LISTEN_WAIT_H

#define MAX_WAIT_PORTS 8

/* Parses "P1,P2,..." (1-65535 each) into `ports`; returns how many, or -1 if malformed or more than `max`. */
int parse_ports(const char *list, unsigned short *ports, int max);
/* Waits until every port has a TCP listener on 127.0.0.1 in this network namespace; 0, or -1 on timeout or error. */
int wait_listening(const unsigned short *ports, int n, int timeout_ms);

#endif
