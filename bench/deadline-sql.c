/* deadline-sql.c - print one statement of the deadline task (worker/
 * deadlines-sql.h) for bench/deadlines.sh, so that the bench times the
 * worker's own text. Usage: deadline-sql response|followup
 */
#include <stdio.h>
#include <string.h>

#include "../worker/deadlines-sql.h"

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "response") == 0)
		return puts(SQL_RESPONSE_CANDIDATES) < 0;
	if (argc == 2 && strcmp(argv[1], "followup") == 0)
		return puts(SQL_FOLLOWUP_CANDIDATES) < 0;
	fprintf(stderr, "usage: deadline-sql response|followup\n");
	return 2;
}
