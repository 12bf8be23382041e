/* eval.h - `mailroomctl eval`: how well the local model would have sorted
 * a labelled collection, learning as it goes.
 *
 * Inputs: message files in one folder per label (FOLDER/LABEL/FILE, or
 * --label LABEL=DIR, several allowed per label), parsed with the worker's
 * parser and replayed in Date order; or a CSV file with a label column,
 * replayed in file order. Needs neither a database nor a configuration
 * file.
 */
#ifndef MAILROOM_CTL_EVAL_H
#define MAILROOM_CTL_EVAL_H

#include <stdio.h>

#define EVAL_USAGE                                                                                           \
	"[--json] [--head NAME] {FOLDER | --label LABEL=DIR...} | [--json] [--head NAME] --csv FILE "        \
	"--label-column C [--text-columns C1,C2...]"

/* eval_main - run `eval` with argv[0] = "eval"; prints results on out and
 * messages on errout. Returns 0, 1 (runtime error) or 2 (usage error; the
 * caller prints the synopsis). */
int eval_main(int argc, char **argv, FILE *out, FILE *errout);

#endif
