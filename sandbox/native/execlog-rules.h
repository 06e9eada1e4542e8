/* personae-execlog: the persona's command rules, decided for one stopped exec (execlog-rules.c). */
#ifndef PERSONAE_EXECLOG_RULES_H
#define PERSONAE_EXECLOG_RULES_H
#include <linux/seccomp.h>
#include <stddef.h>
#include "execlog-target.h"

/* What a rule said about one exec. */
struct verdict {
  /* 'a' allow (no rule matched), 'd' a deny rule, 'q' an ask rule. */
  char kind;
  /* The rule's index in the rules file. */
  int rule;
  /* The reading of the exec that matched, as text (`git push origin main`), cut at VERDICT_TEXT bytes. */
  size_t text_len;
#define VERDICT_TEXT 1024
  char text[VERDICT_TEXT];
};

/* Reads the rules file; 0, or -1 with the reason in err. */
int rules_load(const char *path, char *err, size_t err_size);
/* Some rule is loaded (otherwise every exec is allowed without a look). */
int rules_active(void);
/* Decides one exec (its file is looked at through the target's own root). */
void rules_decide(const struct seccomp_notif *req, const struct exec_args *a, struct verdict *v);
/*
 * The matching alone, for tests (personae-execlog --match RULES): each input
 * line is one exec's candidates, `NAME ARG... | NAME ARG...`, every word
 * written as `x` followed by its hex; each output line is `-` or
 * `INDEX HEXTEXT`.
 */
int rules_match_stdin(const char *path);

#endif
