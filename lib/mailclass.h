/* mailclass.h - the classes a message can be sorted into.
 *
 * The sender decides the class (see classify.h); admin rules may set it
 * by name (see rules.h). The names are what the database and the rules'
 * JSON hold, so they never change once released.
 */
#ifndef MAILROOM_MAILCLASS_H
#define MAILROOM_MAILCLASS_H

enum mail_class {
	MAILCLASS_UNCLASSIFIED = 0,
	MAILCLASS_CUSTOMER,
	MAILCLASS_SUPPLIER,
	MAILCLASS_INTERNAL,
	MAILCLASS_NEWSLETTER,
	MAILCLASS_ADVERTISING,
};
#define MAILCLASS_COUNT 6

/* mailclass_name - the class's stable lower-case name; "unclassified" for an unknown value */
const char *mailclass_name(enum mail_class c);
/* mailclass_parse - the class called name (exact, lower case); 0, or -1 when there is none */
int mailclass_parse(const char *name, enum mail_class *out);

#endif
